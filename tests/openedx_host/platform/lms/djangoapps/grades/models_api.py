"""Mirrors the prefetching part of ``lms/djangoapps/grades/models_api.py``."""

from lms.djangoapps.grades.models import PersistentCourseGrade as _PersistentCourseGrade


def prefetch_course_grades(course_key, users):
    """Read the course grades of ``users`` in one query for later ``CourseGradeFactory().read`` calls."""
    _PersistentCourseGrade.prefetch(course_key, users)


def clear_prefetched_course_grades(course_key):
    """Forget what ``prefetch_course_grades`` read for the course."""
    _PersistentCourseGrade.clear_prefetched_data(course_key)


def get_recently_modified_grades(course_keys, start_date, end_date, users=None):
    """Course grades filtered by course, modification date and users, oldest change first."""
    filters = {}
    if course_keys:
        filters["course_id__in"] = course_keys
    if start_date:
        filters["modified__gte"] = start_date
    if end_date:
        filters["modified__lte"] = end_date
    if users:
        filters["user_id__in"] = [user.id for user in users]
    return _PersistentCourseGrade.objects.filter(**filters).order_by("modified")
