"""Mirrors ``common/djangoapps/course_modes/apps.py`` (label ``course_modes``)."""

from django.apps import AppConfig


class CourseModesConfig(AppConfig):
    """The course modes app: which enrollment tracks each course offers."""

    name = "common.djangoapps.course_modes"
    label = "course_modes"
    verbose_name = "Course Modes"
    default_auto_field = "django.db.models.AutoField"
