"""AppConfig of the catalog stand-in (label ``catalog``); it has no models, only the cache and a command."""

from django.apps import AppConfig


class CatalogConfig(AppConfig):
    """The catalog app."""

    name = "openedx.core.djangoapps.catalog"
    label = "catalog"
    verbose_name = "Catalog"
