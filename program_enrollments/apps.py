"""App configuration, including the edx-django-utils plugin description for an Open edX LMS and CMS."""

from django.apps import AppConfig
from edx_django_utils.plugins.constants import PluginSettings, PluginSignals, PluginURLs

# The project types under which Open edX discovers plugin apps (entry-point groups).
_LMS = "lms.djangoapp"
_CMS = "cms.djangoapp"

# Everything Open edX-specific lives in program_enrollments.openedx; these are paths relative to
# this app, read by edx-django-utils inside an Open edX LMS or CMS only.
# Applied after the platform's common settings and again after production's (whose YAML may replace
# PROGRAM_ENROLLMENTS); each pass only fills what is missing.
_OPENEDX_SETTINGS = {
    "common": {PluginSettings.RELATIVE_PATH: "openedx.settings"},
    "production": {PluginSettings.RELATIVE_PATH: "openedx.settings"},
}


class ProgramEnrollmentsConfig(AppConfig):
    name = "program_enrollments"
    verbose_name = "Program enrollments"
    # int primary keys, as the tables of Open edX's built-in app that this app adopts.
    default_auto_field = "django.db.models.AutoField"

    plugin_app = {
        PluginURLs.CONFIG: {
            _LMS: {
                # The namespace and path of the built-in app this one replaces
                # (docs/decisions/0005-open-edx-takeover.rst).
                PluginURLs.NAMESPACE: "programs_api",
                PluginURLs.REGEX: r"^api/program_enrollments/",
                PluginURLs.RELATIVE_PATH: "rest_api.urls",
            }
        },
        PluginSettings.CONFIG: {_LMS: _OPENEDX_SETTINGS, _CMS: _OPENEDX_SETTINGS},
        PluginSignals.CONFIG: {
            _LMS: {
                PluginSignals.RELATIVE_PATH: "openedx.receivers",
                PluginSignals.RECEIVERS: [
                    {
                        PluginSignals.RECEIVER_FUNC_NAME: "link_on_saml_identity",
                        PluginSignals.SIGNAL_PATH: "django.db.models.signals.post_save",
                        PluginSignals.SENDER_PATH: "social_django.models.UserSocialAuth",
                        PluginSignals.DISPATCH_UID: "program_enrollments.openedx.link_on_saml_identity",
                    },
                    {
                        PluginSignals.RECEIVER_FUNC_NAME: "retire_program_enrollments",
                        PluginSignals.SIGNAL_PATH: (
                            "openedx.core.djangoapps.user_api.accounts.signals.USER_RETIRE_LMS_MISC"
                        ),
                        PluginSignals.DISPATCH_UID: "program_enrollments.openedx.retire_program_enrollments",
                    },
                ],
            }
        },
    }

    def ready(self):
        # Registers the system checks, and the Celery tasks with the host's Celery app.
        from program_enrollments import checks, tasks  # noqa: F401
