"""
AppConfig of the built-in app.

Mirrors ``lms/djangoapps/program_enrollments/apps.py``: name ``lms.djangoapps.program_enrollments``,
label ``program_enrollments`` (the default, the last part of the name), and a ``plugin_app`` with only
the LMS URL mount, which edx-django-utils reads through the platform's ``lms.djangoapp`` entry point
``program_enrollments``. No ``settings_config`` and no ``signals_config``, as on the platform.

The platform's ``ready()`` imports ``signals`` (SSO linking, retirement, SAML display names) and
``tasks`` (expiry of waiting enrollments). The stand-in connects none of them: before the takeover the
harness only needs the built-in schema and data, and after it these duties belong to our app.
"""

from django.apps import AppConfig
from edx_django_utils.plugins import PluginURLs

# The value of the platform's openedx.core.djangoapps.plugins.constants.ProjectType.LMS.
_LMS = "lms.djangoapp"


class ProgramEnrollmentsConfig(AppConfig):
    """Application configuration of the built-in program_enrollments app."""

    name = "lms.djangoapps.program_enrollments"
    # The platform relies on DEFAULT_AUTO_FIELD = AutoField in its settings; pinned here so the stand-in's
    # int ids do not depend on the harness settings.
    default_auto_field = "django.db.models.AutoField"

    plugin_app = {
        PluginURLs.CONFIG: {
            _LMS: {
                PluginURLs.NAMESPACE: "programs_api",
                PluginURLs.REGEX: "api/program_enrollments/",
                PluginURLs.RELATIVE_PATH: "rest_api.urls",
            }
        },
    }
