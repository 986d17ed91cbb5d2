"""Relinking: moving a student key's program enrollment from one account to another.

Support's repair for a learner linked to the wrong account (a second account made
before the first SSO login, say). Open edX's built-in app relinks whenever it is
asked to link an enrollment that already has a user; here it takes an explicit
``relink=True``, since it takes course access away from the account linked before.

For each student key linked to another account than the one asked for, in one
transaction:

* the program course enrollments stop pointing at the previous account's course
  enrollments (the database refuses a row pointing at another user's);
* the enrollment is linked to the new account by the linking rules
  (``linking.link_locked``): the new account gets course access for the active
  rows, and when it is already active in a course run through another program,
  the enrollment activated first keeps the course;
* the previous account gives back what the program gave it, course run by course
  run, for the rows that were active: a course enrollment the program created (or
  one adopted from the built-in app, whose origin is unknown) is made inactive and,
  while still in ``masters`` mode, moved to ``audit``, as the built-in app does; one
  it upgraded or reactivated gets its former mode and activity back; the learner's
  own course enrollment is left as it is; and a course staff role the program
  granted is removed. A course enrollment that another of the account's active
  program course enrollments backs is left as it is.

Every row changed gets a history row with the reason; the outcome names the
previous account.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from uuid import UUID

from django.utils import timezone

from program_enrollments.api import _batches, _course_access, _history, _sql, linking
from program_enrollments.api._validation import as_student_key, as_uuid
from program_enrollments.backends import lms_backend
from program_enrollments.constants import ProgramCourseEnrollmentStatus
from program_enrollments.data import LinkOutcome
from program_enrollments.identity import normalize_student_key
from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment

log = logging.getLogger(__name__)

ACTIVE = ProgramCourseEnrollmentStatus.ACTIVE
# The mode a course enrollment the program created goes back to when the key moves to another
# account (with the course enrollment made inactive), as Open edX's built-in app does.
AUDIT_MODE = "audit"

CHANGED_MEANWHILE_TEMPLATE = (
    "Program enrollment with external_student_key={external_user_key} changed while it was being relinked; "
    "nothing was changed"
)
RELINK_ERROR_TEMPLATE = "Could not relink external student key={external_user_key} to username={username}"


def link_program_enrollments(
    *,
    program_uuid: UUID | str,
    usernames_by_student_key: Mapping[str, str],
    actor=None,
    relink: bool = False,
    reason: str | None = None,
) -> dict[str, LinkOutcome]:
    """Link the program's enrollments of the given student keys to the users with the given usernames.

    Without ``relink``, exactly ``linking.link_program_enrollments``: an enrollment
    already linked to a different account is refused. With ``relink``, such an
    enrollment is moved to the account asked for (see the module docstring), and
    its outcome gives the ``previous_username``; waiting enrollments are linked as
    without it. Either way, an account already in the program under another key is
    refused, and so is a key already linked to the account asked for. ``reason``
    goes into the history rows of a relink (a default names both accounts).

    Returns an outcome per student key, in the order given.

    Raises:
        InvalidRequest: a malformed uuid or student key.
    """
    if not relink:
        return linking.link_program_enrollments(
            program_uuid=program_uuid, usernames_by_student_key=usernames_by_student_key, actor=actor
        )
    uuid = as_uuid(program_uuid, name="program_uuid")
    requested = {as_student_key(key): username for key, username in usernames_by_student_key.items()}
    users = lms_backend().get_user_ids(requested.values())
    linked = {
        enrollment.external_user_key_normalized: enrollment
        for enrollment in ProgramEnrollment.objects.for_program(uuid)
        .for_student_keys(requested)
        .filter(user__isnull=False)
        .select_related("user")
    }
    moves: list[tuple[str, str, int, ProgramEnrollment]] = []
    plain: dict[str, str] = {}
    for key, username in requested.items():
        enrollment = linked.get(normalize_student_key(key))
        user_id = users.get(username)
        if enrollment is not None and user_id is not None and enrollment.user_id != user_id:
            moves.append((key, username, user_id, enrollment))
        else:
            plain[key] = username
    outcomes: dict[str, LinkOutcome] = {}
    if plain:
        outcomes.update(
            linking.link_program_enrollments(program_uuid=uuid, usernames_by_student_key=plain, actor=actor)
        )
    if moves:
        outcomes.update(_relink(uuid, moves, actor=actor, reason=reason))
    return {key: outcomes[key] for key in requested}


def _relink(
    uuid: UUID, moves: list[tuple[str, str, int, ProgramEnrollment]], *, actor, reason: str | None
) -> dict[str, LinkOutcome]:
    from program_enrollments import conf

    def apply(chunk: list[tuple[str, str, int, ProgramEnrollment]]) -> dict[str, LinkOutcome]:
        # Locks in the writers' order: program enrollments, then their program course enrollments.
        locked = {
            enrollment.id: enrollment
            for enrollment in ProgramEnrollment.objects.select_for_update()
            .filter(id__in=[enrollment.id for *_, enrollment in chunk])
            .order_by("id")
        }
        in_program = set(
            ProgramEnrollment.objects.for_program(uuid)
            .filter(user_id__in=[user_id for _, _, user_id, _ in chunk])
            .values_list("user_id", flat=True)
        )
        outcomes: dict[str, LinkOutcome] = {}
        pairs: list[tuple[ProgramEnrollment, int]] = []
        previous: dict[int, tuple[int, str]] = {}
        for key, username, user_id, seen in chunk:
            enrollment = locked.get(seen.id)
            error = ""
            if enrollment is None or enrollment.user_id != seen.user_id:
                error = CHANGED_MEANWHILE_TEMPLATE.format(external_user_key=key)
            elif user_id in in_program:
                error = linking.USER_IN_PROGRAM_TEMPLATE.format(username=username, program_uuid=uuid)
            if error:
                log.info(error)
                outcomes[key] = LinkOutcome(student_key=key, username=username, error=error)
                continue
            in_program.add(user_id)
            previous[enrollment.id] = (seen.user_id, seen.user.get_username())
            enrollment._change_reason = reason or (f"Relinked from user {seen.user.get_username()} to user {username}")
            pairs.append((enrollment, user_id))
        if not pairs:
            return outcomes
        for enrollment, user_id in pairs:
            log.info(
                "Relinking student key %s of program %s from user %s to user id %s.",
                enrollment.external_user_key,
                uuid,
                previous[enrollment.id][1],
                user_id,
            )
        rows = _detach(pairs, previous, actor=actor, reason=reason)
        deactivated = linking.link_locked(pairs, actor=actor)
        _give_back(rows, previous)
        for key, username, _user_id, seen in chunk:
            if key in outcomes:
                continue
            outcomes[key] = LinkOutcome(
                student_key=key,
                username=username,
                deactivated_courses=deactivated.get(seen.id, ()),
                previous_username=previous[seen.id][1],
            )
        return outcomes

    def on_failure(entry: tuple[str, str, int, ProgramEnrollment]) -> dict[str, LinkOutcome]:
        key, username, _, _ = entry
        return {
            key: LinkOutcome(
                student_key=key,
                username=username,
                error=RELINK_ERROR_TEMPLATE.format(external_user_key=key, username=username),
            )
        }

    return _batches.run_in_chunks(moves, size=conf.get("WRITE_CHUNK_SIZE"), apply=apply, on_failure=on_failure)


def _detach(
    pairs: list[tuple[ProgramEnrollment, int]], previous: dict[int, tuple[int, str]], *, actor, reason: str | None
):
    """Clear the course enrollment pointers of the enrollments' course rows; return the rows.

    The returned rows keep what the program gave the previous account (``access_grant``,
    ``prior_mode``, ``prior_is_active``): linking rewrites it in the database, on rows of its own.
    """
    now = timezone.now()
    rows = linking.rows_of_enrollments([enrollment.id for enrollment, _ in pairs])
    detached = [row.id for row in rows if row.course_enrollment_id is not None]
    if detached:
        _sql.update_ids(ProgramCourseEnrollment, {"course_enrollment": None, "modified": _sql.timestamp(now)}, detached)
        _history.record_ids(
            ProgramCourseEnrollment,
            detached,
            created=False,
            actor=actor,
            reason="Unlinked to relink",
            when=now,
            reasons={
                row.id: reason or f"Unlinked from user {previous[row.program_enrollment_id][1]} to relink"
                for row in rows
                if row.course_enrollment_id is not None
            },
        )
    return rows


def _give_back(rows: list, previous: dict[int, tuple[int, str]]) -> None:
    """Take back from the previous accounts what the program gave them in the courses of their active rows.

    Runs after linking: the rows no longer count as the previous accounts' active
    enrollments, so a course enrollment still backed is one another program backs.
    """
    by_course: dict[str, tuple[object, dict[int, ProgramCourseEnrollment]]] = {}
    staff: dict[str, tuple[object, set[int]]] = {}
    for row in rows:
        old_user = previous[row.program_enrollment_id][0]
        if row.status == ACTIVE:
            by_course.setdefault(str(row.course_key), (row.course_key, {}))[1][old_user] = row
        if row.course_staff:
            staff.setdefault(str(row.course_key), (row.course_key, set()))[1].add(old_user)
    for course_key, rows_by_user in by_course.values():
        _course_access.take_back(course_key, rows_by_user, created_mode=AUDIT_MODE)
    backend = lms_backend()
    for course_key, user_ids in staff.values():
        # A role another program course enrollment of the account grants stays.
        kept = set(
            ProgramCourseEnrollment.objects.filter(
                course_key=course_key, course_staff=True, program_enrollment__user_id__in=user_ids
            ).values_list("program_enrollment__user_id", flat=True)
        )
        if user_ids - kept:
            backend.set_course_staff(course_key, user_ids - kept, staff=False)
