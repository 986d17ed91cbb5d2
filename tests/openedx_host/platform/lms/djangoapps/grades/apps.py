"""Mirrors ``lms/djangoapps/grades/apps.py`` (label ``grades``)."""

from django.apps import AppConfig


class GradesConfig(AppConfig):
    """The grades app."""

    name = "lms.djangoapps.grades"
    label = "grades"
    verbose_name = "Grades"
    default_auto_field = "django.db.models.AutoField"
