"""The course staff role a program grants its learners, held by the LMS.

``course_staff: true`` in a write grants the learner the LMS's course staff role
in the course run, ``false`` removes it. A realized learner's role changes at
once, through the LMS backend. A waiting learner has no account yet: the grant is
kept as a pending ``CourseAccessRoleAssignment`` (the built-in app's table) and
applied when the learner is linked. Reads report the role the LMS holds for a
realized learner, and the pending grant for a waiting one, never a stored flag.
"""

from __future__ import annotations

from collections.abc import Iterable

from opaque_keys.edx.keys import CourseKey

from program_enrollments.backends import lms_backend
from program_enrollments.models import CourseAccessRoleAssignment, ProgramCourseEnrollment

STAFF = CourseAccessRoleAssignment.Role.STAFF


def apply(course_key: CourseKey, requests: Iterable[tuple[ProgramCourseEnrollment, int | None, bool]]) -> None:
    """Grant or remove the role for ``(row, user id or None, staff)``, rows already saved.

    Two backend calls and two queries whatever the number of learners.
    """
    grant, remove, pending, withdrawn = set(), set(), [], []
    for row, user_id, staff in requests:
        if user_id is not None:
            (grant if staff else remove).add(user_id)
        else:
            (pending if staff else withdrawn).append(row.id)
    backend = lms_backend()
    if grant:
        backend.set_course_staff(course_key, grant, staff=True)
    if remove:
        backend.set_course_staff(course_key, remove, staff=False)
    if withdrawn:
        CourseAccessRoleAssignment.objects.filter(enrollment_id__in=withdrawn, role=STAFF).delete()
    if pending:
        existing = set(
            CourseAccessRoleAssignment.objects.filter(enrollment_id__in=pending, role=STAFF).values_list(
                "enrollment_id", flat=True
            )
        )
        CourseAccessRoleAssignment.objects.bulk_create(
            CourseAccessRoleAssignment(enrollment_id=row_id, role=STAFF) for row_id in pending if row_id not in existing
        )


def apply_pending(rows: Iterable[ProgramCourseEnrollment], user_of: dict[int, int]) -> None:
    """Give newly linked learners the roles granted while they waited, then drop the pending grants.

    ``user_of`` maps a program enrollment id to its new user. A grant recorded only
    in the row's ``course_staff`` flag (rows written before grants were kept as
    assignments) counts as pending too.
    """
    rows = list(rows)
    if not rows:
        return
    assigned = set(
        CourseAccessRoleAssignment.objects.filter(enrollment__in=[row.id for row in rows], role=STAFF).values_list(
            "enrollment_id", flat=True
        )
    )
    by_course: dict[str, tuple[CourseKey, set[int]]] = {}
    for row in rows:
        if row.id in assigned or row.course_staff:
            by_course.setdefault(str(row.course_key), (row.course_key, set()))[1].add(
                user_of[row.program_enrollment_id]
            )
    backend = lms_backend()
    for course_key, user_ids in by_course.values():
        backend.set_course_staff(course_key, user_ids, staff=True)
    if assigned:
        CourseAccessRoleAssignment.objects.filter(enrollment_id__in=assigned, role=STAFF).delete()


def roles(rows: Iterable[ProgramCourseEnrollment]) -> dict[int, bool]:
    """Whether each row's learner holds the course staff role (realized) or a pending grant (waiting), by row id.

    Rows need ``program_enrollment`` loaded. One backend call per course run, one query for the waiting.
    """
    rows = list(rows)
    users: dict[str, tuple[CourseKey, set[int]]] = {}
    waiting = []
    for row in rows:
        user_id = row.program_enrollment.user_id
        if user_id is None:
            waiting.append(row)
        else:
            users.setdefault(str(row.course_key), (row.course_key, set()))[1].add(user_id)
    backend = lms_backend()
    staff = {course: backend.course_staff_user_ids(key, user_ids) for course, (key, user_ids) in users.items()}
    assigned = (
        set(
            CourseAccessRoleAssignment.objects.filter(
                enrollment__in=[row.id for row in waiting], role=STAFF
            ).values_list("enrollment_id", flat=True)
        )
        if waiting
        else set()
    )
    result = {}
    for row in rows:
        user_id = row.program_enrollment.user_id
        if user_id is None:
            result[row.id] = row.id in assigned or row.course_staff
        else:
            result[row.id] = user_id in staff[str(row.course_key)]
    return result
