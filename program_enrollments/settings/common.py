"""Settings an Open edX LMS receives through the plugin system."""


def plugin_settings(settings):
    """Point the app at the LMS's course enrollments unless the operator chose otherwise."""
    if not hasattr(settings, "PROGRAM_ENROLLMENTS_COURSE_ENROLLMENT_MODEL"):
        settings.PROGRAM_ENROLLMENTS_COURSE_ENROLLMENT_MODEL = "student.CourseEnrollment"
    settings.PROGRAM_ENROLLMENTS = getattr(settings, "PROGRAM_ENROLLMENTS", {})
