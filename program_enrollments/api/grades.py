"""Reading the grades of a program's learners in one of its course runs, a page at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from uuid import UUID

from opaque_keys.edx.keys import CourseKey

from program_enrollments.api._validation import as_course_key, get_program
from program_enrollments.api.writing import check_course_in_program
from program_enrollments.backends import lms_backend
from program_enrollments.data import CourseGradeData, ProgramCourseGrade, ProgramData
from program_enrollments.models import ProgramCourseEnrollment


def iter_program_course_grades(
    *,
    program_uuid: UUID | str,
    course_key: CourseKey | str,
    paginate_queryset_fn: Callable | None = None,
    program: ProgramData | None = None,
) -> Iterator[ProgramCourseGrade]:
    """Yield the grade of each realized learner of the program in the course run.

    The learners are the program course enrollments whose program enrollment is
    linked to a user (a waiting learner has no grade), in id order, active or not,
    as Open edX's built-in app reads them. ``paginate_queryset_fn`` (a REST view's
    ``paginate_queryset``) may cut that queryset to one page; the grades of the
    rows it returns are read with one backend call, so a page costs the same
    number of queries whatever its size. A learner whose grade could not be
    computed gets ``error`` instead of ``grade``. ``program``: the catalog's program of
    ``program_uuid`` when the caller has already read it (a REST view has), so that the
    catalog is not read twice.

    Raises:
        ProgramDoesNotExist: the catalog does not know the program.
        CourseDoesNotExist: the LMS does not know the course run.
        CourseNotInProgram: the course run is in none of the program's active curricula.
        InvalidRequest: a malformed uuid or course key.
    """
    if program is None or str(program.uuid) != str(program_uuid):
        program = get_program(program_uuid)
    key = as_course_key(course_key)
    check_course_in_program(program, key)
    queryset = (
        ProgramCourseEnrollment.objects.filter(
            program_enrollment__program_uuid=program.uuid,
            program_enrollment__user__isnull=False,
            course_key=key,
        )
        .select_related("program_enrollment")
        .order_by("id")
    )
    rows = list(paginate_queryset_fn(queryset) if paginate_queryset_fn is not None else queryset)
    if not rows:
        return
    grades = lms_backend().get_course_grades(key, {row.program_enrollment.user_id for row in rows})
    for row in rows:
        grade = grades.get(row.program_enrollment.user_id, "Unknown error")
        if isinstance(grade, CourseGradeData):
            yield ProgramCourseGrade(row, grade=grade)
        else:
            yield ProgramCourseGrade(row, error=str(grade) or "Unknown error")
