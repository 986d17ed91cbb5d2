"""Mirrors ``openedx/core/djangoapps/content/course_overviews/apps.py`` (label ``course_overviews``)."""

from django.apps import AppConfig


class CourseOverviewsConfig(AppConfig):
    """The course overviews app: the LMS's table of course runs."""

    name = "openedx.core.djangoapps.content.course_overviews"
    label = "course_overviews"
    verbose_name = "Course Overviews"
    default_auto_field = "django.db.models.AutoField"
