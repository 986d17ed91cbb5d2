"""Stand-in of ``lms/djangoapps/grades/api.py``: the grades app's Python API for other in-process apps.

Exports what program_enrollments uses: ``CourseGradeFactory``, ``prefetch_course_grades`` and
``clear_prefetched_course_grades``.
"""

from lms.djangoapps.grades.course_grade_factory import CourseGradeFactory
from lms.djangoapps.grades.models_api import (
    clear_prefetched_course_grades,
    get_recently_modified_grades,
    prefetch_course_grades,
)

__all__ = [
    "CourseGradeFactory",
    "clear_prefetched_course_grades",
    "get_recently_modified_grades",
    "prefetch_course_grades",
]
