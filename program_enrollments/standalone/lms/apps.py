from django.apps import AppConfig


class LmsConfig(AppConfig):
    """Course enrollments and SSO identities of the standalone host."""

    name = "program_enrollments.standalone.lms"
    label = "lms"
    verbose_name = "LMS (standalone host)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from program_enrollments.standalone import checks  # noqa: F401  (registers the host's system checks)
        from program_enrollments.standalone.lms import signals  # noqa: F401
