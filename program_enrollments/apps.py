"""App configuration, including the edx-django-utils plugin description for an Open edX LMS."""

from django.apps import AppConfig
from edx_django_utils.plugins.constants import PluginSettings, PluginURLs

# The project type under which an Open edX LMS discovers plugin apps.
_LMS = "lms.djangoapp"


class ProgramEnrollmentsConfig(AppConfig):
    name = "program_enrollments"
    verbose_name = "Program enrollments"
    default_auto_field = "django.db.models.BigAutoField"

    plugin_app = {
        PluginURLs.CONFIG: {
            _LMS: {
                PluginURLs.NAMESPACE: "program_enrollments_api",
                PluginURLs.APP_NAME: "program_enrollments_api",
                PluginURLs.REGEX: r"^api/program_enrollments/",
                PluginURLs.RELATIVE_PATH: "rest_api.urls",
            }
        },
        PluginSettings.CONFIG: {
            _LMS: {
                "common": {PluginSettings.RELATIVE_PATH: "settings.common"},
            }
        },
    }

    def ready(self):
        from program_enrollments import checks  # noqa: F401  (registers the system checks)
