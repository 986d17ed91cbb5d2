"""The authentication classes of the REST views, named by the ``AUTHENTICATION_CLASSES`` setting."""

from __future__ import annotations

from functools import lru_cache

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from program_enrollments import conf


@lru_cache(maxsize=16)
def _import_all(paths: tuple[str, ...]) -> tuple[type, ...]:
    return tuple(import_string(path) for path in paths)


def configured_authentication_classes() -> tuple[type, ...]:
    """Import the classes of ``PROGRAM_ENROLLMENTS["AUTHENTICATION_CLASSES"]``, in order.

    Raises:
        ImproperlyConfigured: the setting is a single string instead of a list of dotted paths.
        ImportError: one of the paths does not name a class.
    """
    paths = conf.get("AUTHENTICATION_CLASSES")
    if isinstance(paths, str):
        raise ImproperlyConfigured(
            f"{conf.SETTINGS_NAME}['AUTHENTICATION_CLASSES'] must be a list of dotted paths, not a string."
        )
    return _import_all(tuple(paths))


class ConfiguredAuthenticationClasses:
    """A view's ``authentication_classes``, read from the setting each time it is looked up.

    A descriptor rather than a list fixed at import time, so that the setting is read at
    request time (``override_settings`` and hosts that finish their settings after importing
    plugins both work), and so that it answers on the view *class* too: edx-drf-extensions'
    ``EnsureJWTAuthSettingsMiddleware`` and ``JwtAuthCookieMiddleware`` look for a JWT
    authentication class in ``view_class.authentication_classes``.
    """

    def __get__(self, instance, owner=None):
        return configured_authentication_classes()
