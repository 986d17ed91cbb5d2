"""Giving learners course access through the LMS, and taking back only what a program gave.

When a program makes a realized learner active in a course run, the LMS
backend creates, upgrades or reactivates their course enrollment. What it
changed is recorded on the program course enrollment (``access_grant``,
``prior_mode``, ``prior_is_active``), and making the learner inactive takes
back exactly that: a course enrollment the program created is deactivated, one
it upgraded or reactivated gets its former mode and activity back, and one the
learner held on their own (a paid mode bought independently) is left as it is.
An active ``masters`` course enrollment found in place counts as a program's
(only programs give that mode): the program holding it takes it back.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from opaque_keys.edx.keys import CourseKey

from program_enrollments.api import _sql
from program_enrollments.backends import lms_backend
from program_enrollments.constants import MASTERS_MODE, UPGRADABLE_MODES, CourseAccessGrant
from program_enrollments.identity import user_ref
from program_enrollments.models import ProgramCourseEnrollment

# Grants under which taking the access back deactivates the course enrollment. ``unknown``
# (rows written before grants were recorded, rows adopted from Open edX's built-in app) keeps
# the behaviour those rows were written under.
_DEACTIVATED_ON_RELEASE = frozenset({CourseAccessGrant.CREATED, CourseAccessGrant.UNKNOWN})


@dataclass(frozen=True)
class Grant:
    """A course enrollment a program made active, and what the program changed of it."""

    course_enrollment_id: int
    access_grant: str
    prior_mode: str | None = None
    prior_is_active: bool | None = None


def grant(course_key: CourseKey, user_ids: Collection[int]) -> dict[int, Grant]:
    """Enroll the users actively in ``course_key`` (see ``LMSBackend.enroll``); return what changed, by user.

    One backend call whatever the number of users: the enrollment, with the state before it.
    """
    if not user_ids:
        return {}
    before, enrolled = lms_backend().enroll_from(course_key, user_ids, active=True)
    grants = {}
    for user_id, enrollment_id in enrolled.items():
        state = before.get(user_id)
        if state is None:
            grants[user_id] = Grant(enrollment_id, CourseAccessGrant.CREATED)
            continue
        _id, mode, is_active = state
        if mode in UPGRADABLE_MODES or not is_active:
            grants[user_id] = Grant(
                enrollment_id, CourseAccessGrant.CHANGED, prior_mode=mode, prior_is_active=is_active
            )
        elif mode == MASTERS_MODE:
            # Only a program gives masters access: one that another program's row gave (a row that
            # lost its slot to this one on linking, say) is taken back by the program holding it last.
            grants[user_id] = Grant(enrollment_id, CourseAccessGrant.CREATED)
        else:
            grants[user_id] = Grant(enrollment_id, CourseAccessGrant.NONE)
    return grants


def attach(course_key: CourseKey, user_ids: Collection[int]) -> dict[int, Grant]:
    """The users' course enrollments in ``course_key`` for inactive rows, created inactive where missing.

    Nothing else changes: a missing one is the program's (``created``), an existing one the learner's.
    """
    if not user_ids:
        return {}
    before, enrolled = lms_backend().enroll_from(course_key, user_ids, active=False)
    return {
        user_id: Grant(enrollment_id, CourseAccessGrant.NONE if user_id in before else CourseAccessGrant.CREATED)
        for user_id, enrollment_id in enrolled.items()
    }


def record(row: ProgramCourseEnrollment, given: Grant, *, entering: bool) -> None:
    """Point ``row`` at the granted course enrollment and keep what the program changed.

    A row becoming active records this grant. A row that stays active keeps the
    first grant recorded (the state before the program's first change), unless
    it recorded none and the program changed something now (the learner had
    left the course, say).
    """
    row.course_enrollment_id = given.course_enrollment_id
    if entering or (row.access_grant == CourseAccessGrant.NONE and given.access_grant != CourseAccessGrant.NONE):
        row.access_grant = given.access_grant
        row.prior_mode = given.prior_mode
        row.prior_is_active = given.prior_is_active


def carry(row: ProgramCourseEnrollment, source: ProgramCourseEnrollment) -> None:
    """Give ``row`` the course enrollment of ``source`` with what was granted (a transfer moves the access)."""
    row.course_enrollment_id = source.course_enrollment_id
    row.access_grant = source.access_grant
    row.prior_mode = source.prior_mode
    row.prior_is_active = source.prior_is_active


def take_back(
    course_key: CourseKey,
    rows_by_user: Mapping[int, ProgramCourseEnrollment],
    *,
    created_mode: str | None = None,
) -> None:
    """Take back what a program gave the users in ``course_key``; ``rows_by_user`` just left the active state.

    A course enrollment the program created (or whose origin is unknown) is deactivated;
    with ``created_mode`` it is also moved to that mode while still ``masters`` (a relink
    moves the old account to ``audit``, as Open edX's built-in app does). One it changed
    gets back what it was, where still as the program left it; the learner's own is left
    alone. A course enrollment that another active program course enrollment still backs
    is left as it is (that program granted it). Runs after the rows were written.
    """
    if not rows_by_user:
        return
    refs = [user_ref(user_id) for user_id in rows_by_user]
    condition, params = _sql.in_list(_sql.column(ProgramCourseEnrollment, "active_learner_ref"), refs, _sql.TEXT)
    still_active = {
        ref
        for (ref,) in _sql.fetch(
            f"SELECT {_sql.column(ProgramCourseEnrollment, 'active_learner_ref')} "
            f"FROM {_sql.table(ProgramCourseEnrollment)} "
            f"WHERE {_sql.column(ProgramCourseEnrollment, 'course_key')} = %s AND {condition}",
            [str(course_key), *params],
        )
    }
    released = {
        user_id: row
        for user_id, row in rows_by_user.items()
        if user_ref(user_id) not in still_active and row.access_grant != CourseAccessGrant.NONE
    }
    backend = lms_backend()
    if created_mode is None:
        deactivate = [user_id for user_id, row in released.items() if row.access_grant in _DEACTIVATED_ON_RELEASE]
        if deactivate:
            backend.deactivate(course_key, deactivate)
        released = {user_id: row for user_id, row in released.items() if row.access_grant == CourseAccessGrant.CHANGED}
    if not released:
        return
    current = backend.get_enrollments(course_key, released)
    changes = {}
    for user_id, row in released.items():
        state = current.get(user_id)
        if state is None:
            continue
        change = _change_back(row, mode=state[1], is_active=state[2], created_mode=created_mode)
        if change != (None, None):
            changes[user_id] = change
    if changes:
        backend.update_enrollments(course_key, changes)


def _change_back(
    row: ProgramCourseEnrollment, *, mode: str, is_active: bool, created_mode: str | None
) -> tuple[str | None, bool | None]:
    """The ``(mode, is_active)`` change that gives back what ``row``'s program gave (None: keep that part)."""
    if row.access_grant in _DEACTIVATED_ON_RELEASE:
        return (created_mode if mode == MASTERS_MODE else None, False if is_active else None)
    # Changed: only what the program changed, and only while it is still as the program left it.
    mode_back = row.prior_mode if mode == MASTERS_MODE and row.prior_mode not in (None, MASTERS_MODE) else None
    active_back = False if row.prior_is_active is False and is_active else None
    return mode_back, active_back
