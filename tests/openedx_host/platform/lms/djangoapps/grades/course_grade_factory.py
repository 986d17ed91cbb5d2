"""Stand-in of ``lms/djangoapps/grades/course_grade_factory.py``: ``CourseGradeFactory`` (reading only).

``read`` returns the stored grade or a zero grade; ``iter`` yields a ``GradeResult(student,
course_grade, error)`` per user and turns an exception while grading one learner into that learner's
``error`` (``course_grade`` ``None``), as the platform does. The harness never recomputes grades:
``update`` and ``force_update`` read the stored grade too.
"""

import logging
from collections import namedtuple

from .course_grade import CourseGrade, ZeroCourseGrade
from .models import PersistentCourseGrade

log = logging.getLogger(__name__)


class CourseGradeFactory:
    """Creates ``CourseGrade`` objects."""

    GradeResult = namedtuple("GradeResult", ["student", "course_grade", "error"])

    def read(
        self,
        user,
        course=None,
        collected_block_structure=None,
        course_structure=None,
        course_key=None,
        create_if_needed=True,
    ):
        """The learner's grade in the course (given as ``course`` or ``course_key``); zero without one."""
        course_key = course_key or getattr(course, "id", None)
        try:
            stored = PersistentCourseGrade.read(user.id, course_key)
        except PersistentCourseGrade.DoesNotExist:
            return ZeroCourseGrade(user, course_key)
        return CourseGrade(
            user,
            course_key,
            stored.percent_grade,
            stored.letter_grade,
            stored.letter_grade != "",
            last_updated=stored.modified,
        )

    def update(
        self,
        user,
        course=None,
        collected_block_structure=None,
        course_structure=None,
        course_key=None,
        force_update_subsections=False,
    ):
        """The platform recomputes and stores the grade; the harness reads the stored one."""
        return self.read(user, course=course, course_key=course_key)

    def iter(self, users, course=None, collected_block_structure=None, course_key=None, force_update=False):
        """Yield ``GradeResult(student, course_grade, error)`` for each of ``users``."""
        course_key = course_key or getattr(course, "id", None)
        for user in users:
            yield self._iter_grade_result(user, course_key, force_update)

    def _iter_grade_result(self, user, course_key, force_update):
        try:
            method = self.update if force_update else self.read
            return self.GradeResult(user, method(user, course_key=course_key), None)
        except Exception as exc:  # noqa: BLE001 - one learner's failure must not stop the others, as on the platform
            log.exception("Cannot grade student %s in course %s because of exception: %s", user.id, course_key, exc)
            return self.GradeResult(user, None, exc)
