"""AppConfig of the student stand-in; mirrors ``common/djangoapps/student/apps.py`` (label ``student``)."""

from django.apps import AppConfig


class StudentConfig(AppConfig):
    """The student app: course enrollments and course access roles."""

    name = "common.djangoapps.student"
    label = "student"
    verbose_name = "Student"
    default_auto_field = "django.db.models.AutoField"
