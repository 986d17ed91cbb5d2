from django.apps import AppConfig


class CatalogConfig(AppConfig):
    """The standalone host's program catalog."""

    name = "program_enrollments.standalone.catalog"
    label = "catalog"
    verbose_name = "Program catalog (standalone host)"
    default_auto_field = "django.db.models.BigAutoField"
