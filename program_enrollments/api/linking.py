"""Linking waiting program enrollments to LMS users.

Linking changes a learner's identity from (organization, student key) to the
user, so it re-applies the one-active rule: when the learner ends up active in
one course through two programs, the enrollment activated first stays active
and the other is made inactive, with the reason kept in its history.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping
from uuid import UUID

from django.utils import timezone

from program_enrollments.api import _batches, _course_access, _course_staff, _history
from program_enrollments.api._validation import as_student_key, as_uuid
from program_enrollments.backends import lms_backend
from program_enrollments.constants import ProgramCourseEnrollmentStatus
from program_enrollments.data import LinkOutcome
from program_enrollments.identity import learner_ref, normalize_student_key, user_ref
from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment

log = logging.getLogger(__name__)

ACTIVE = ProgramCourseEnrollmentStatus.ACTIVE
INACTIVE = ProgramCourseEnrollmentStatus.INACTIVE

NO_PROGRAM_ENROLLMENT_TEMPLATE = (
    "No program enrollment found for program uuid={program_uuid} and external student key={external_user_key}"
)
NO_LMS_USER_TEMPLATE = "No user found with username {}"
EXISTING_USER_TEMPLATE = (
    "Program enrollment with external_student_key={external_user_key} is already linked to "
    "{account_relation} account username={username}"
)
USER_IN_PROGRAM_TEMPLATE = (
    "User with username={username} is already enrolled in program uuid={program_uuid} under another student key"
)
LINK_ERROR_TEMPLATE = "Could not link external student key={external_user_key} to username={username}"


def link_program_enrollments(
    *, program_uuid: UUID | str, usernames_by_student_key: Mapping[str, str], actor=None
) -> dict[str, LinkOutcome]:
    """Link the program's enrollments of the given student keys to the users with the given usernames.

    Student keys compare ignoring case. A learner that cannot be linked (no such
    user, no such enrollment, already linked, the user already in the program)
    gets an outcome with ``error`` set and is left unchanged; the others are
    linked. A learner whose linking fails unexpectedly is rolled back alone.

    Returns an outcome per student key, in the order given.

    Raises:
        InvalidRequest: a malformed uuid or student key.
    """
    uuid = as_uuid(program_uuid, name="program_uuid")
    requested = {as_student_key(key): username for key, username in usernames_by_student_key.items()}
    users = lms_backend().get_user_ids(requested.values())
    enrollments = {
        enrollment.external_user_key_normalized: enrollment
        for enrollment in ProgramEnrollment.objects.for_program(uuid).for_student_keys(requested).select_related("user")
    }
    in_program = set(
        ProgramEnrollment.objects.for_program(uuid).filter(user_id__in=users.values()).values_list("user_id", flat=True)
    )
    outcomes: dict[str, LinkOutcome] = {}
    to_link: list[tuple[str, str, int]] = []
    for key, username in requested.items():
        enrollment = enrollments.get(normalize_student_key(key))
        user_id = users.get(username)
        error = ""
        if user_id is None:
            error = NO_LMS_USER_TEMPLATE.format(username)
        elif enrollment is None:
            error = NO_PROGRAM_ENROLLMENT_TEMPLATE.format(program_uuid=uuid, external_user_key=key)
        elif enrollment.user_id is not None:
            error = EXISTING_USER_TEMPLATE.format(
                external_user_key=enrollment.external_user_key,
                account_relation="target" if enrollment.user_id == user_id else "a different",
                username=enrollment.user.username,
            )
        elif user_id in in_program:
            error = USER_IN_PROGRAM_TEMPLATE.format(username=username, program_uuid=uuid)
        if error:
            log.info(error)
            outcomes[key] = LinkOutcome(student_key=key, username=username, error=error)
        else:
            to_link.append((key, username, user_id))

    def apply(chunk: list[tuple[str, str, int]]) -> dict[str, LinkOutcome]:
        locked = {
            enrollment.external_user_key_normalized: enrollment
            for enrollment in ProgramEnrollment.objects.select_for_update()
            .for_program(uuid)
            .for_student_keys([key for key, _, _ in chunk])
            .filter(user__isnull=True)
            .order_by("id")
        }
        pairs = [(locked[normalize_student_key(key)], user_id) for key, _, user_id in chunk]
        deactivated = _link(pairs, actor=actor)
        return {
            key: LinkOutcome(
                student_key=key,
                username=username,
                deactivated_courses=deactivated.get(locked[normalize_student_key(key)].id, ()),
            )
            for key, username, _ in chunk
        }

    def on_failure(entry: tuple[str, str, int]) -> dict[str, LinkOutcome]:
        key, username, _ = entry
        return {
            key: LinkOutcome(
                student_key=key,
                username=username,
                error=LINK_ERROR_TEMPLATE.format(external_user_key=key, username=username),
            )
        }

    from program_enrollments import conf

    outcomes.update(
        _batches.run_in_chunks(to_link, size=conf.get("WRITE_CHUNK_SIZE"), apply=apply, on_failure=on_failure)
    )
    return {key: outcomes[key] for key in requested}


def link_waiting_program_enrollments(*, organization_key: str, student_key: str, user, actor=None) -> list[LinkOutcome]:
    """Link every waiting enrollment of (organization, student key) to ``user``, in every program.

    Called when the host learns a learner's SSO identity. A program where the
    user is already enrolled under another key is left alone and reported.

    Returns one outcome per waiting enrollment found.

    Raises:
        InvalidRequest: a malformed student key.
    """
    key = as_student_key(student_key)
    ref = learner_ref(user_id=None, organization_key=organization_key, student_key=key)

    def apply(_chunk) -> dict[str, LinkOutcome]:
        waiting = list(
            ProgramEnrollment.objects.select_for_update().filter(learner_ref=ref, user__isnull=True).order_by("id")
        )
        in_programs = set(
            ProgramEnrollment.objects.filter(user=user, program_uuid__in=[e.program_uuid for e in waiting]).values_list(
                "program_uuid", flat=True
            )
        )
        linkable = [enrollment for enrollment in waiting if enrollment.program_uuid not in in_programs]
        deactivated = _link([(enrollment, user.pk) for enrollment in linkable], actor=actor)
        outcomes = {}
        for enrollment in waiting:
            error = ""
            if enrollment.program_uuid in in_programs:
                error = USER_IN_PROGRAM_TEMPLATE.format(
                    username=user.get_username(), program_uuid=enrollment.program_uuid
                )
                log.info(error)
            outcomes[str(enrollment.id)] = LinkOutcome(
                student_key=enrollment.external_user_key,
                username=user.get_username(),
                error=error,
                deactivated_courses=deactivated.get(enrollment.id, ()),
            )
        return outcomes

    def on_failure(_item) -> dict[str, LinkOutcome]:
        return {
            "": LinkOutcome(
                student_key=key,
                username=user.get_username(),
                error=LINK_ERROR_TEMPLATE.format(external_user_key=key, username=user.get_username()),
            )
        }

    return list(_batches.run_chunk([key], apply=apply, on_failure=on_failure).values())


def link_locked(pairs: list[tuple[ProgramEnrollment, int]], *, actor) -> dict[int, tuple[str, ...]]:
    """Link program enrollments the caller locked (``select_for_update``) to users, in its transaction.

    For the other writers of this package (a transfer links the target it proves to be the
    learner's). Returns the courses deactivated by the one-active rule, by enrollment id.
    """
    return _link(pairs, actor=actor)


def _link(pairs: list[tuple[ProgramEnrollment, int]], *, actor) -> dict[int, tuple[str, ...]]:
    """Link locked waiting enrollments to users; return the courses deactivated, by enrollment id.

    Runs inside the caller's transaction; a fixed number of queries plus two
    backend calls per distinct course run.
    """
    if not pairs:
        return {}
    now = timezone.now()
    new_refs = {enrollment.id: user_ref(user_id) for enrollment, user_id in pairs}
    course_rows = list(
        ProgramCourseEnrollment.objects.select_for_update().filter(program_enrollment_id__in=new_refs).order_by("id")
    )
    active_keys = {row.course_key for row in course_rows if row.status == ACTIVE}
    rivals = (
        list(
            ProgramCourseEnrollment.objects.select_for_update()
            .filter(active_learner_ref__in=set(new_refs.values()), course_key__in=active_keys)
            .exclude(program_enrollment_id__in=new_refs)
            .select_related("program_enrollment")
            .order_by("id")
        )
        if active_keys
        else []
    )

    # Group every row that will be active under one (user, course) after linking.
    contenders: dict[tuple[str, str], list[ProgramCourseEnrollment]] = defaultdict(list)
    for row in course_rows:
        if row.status == ACTIVE:
            contenders[(new_refs[row.program_enrollment_id], str(row.course_key))].append(row)
    for row in rivals:
        contenders[(row.learner_ref, str(row.course_key))].append(row)
    clashes = {slot: rows for slot, rows in contenders.items() if len(rows) > 1}
    losers: list[ProgramCourseEnrollment] = []
    if clashes:
        activated = _activation_times([row.id for rows in clashes.values() for row in rows])
        for rows in clashes.values():
            rows.sort(key=lambda row: (activated.get(row.id, row.created), row.id))
            for row in rows[1:]:
                row.status = INACTIVE
                row.modified = now
                row._change_reason = (
                    f"Deactivated on linking: the learner was already active in {row.course_key} "
                    f"through program enrollment {rows[0].program_enrollment_id}."
                )
                losers.append(row)
        ProgramCourseEnrollment.objects.bulk_update(losers, ["status", "modified"])
        _history.record(
            ProgramCourseEnrollment, losers, created=False, actor=actor, reason="Deactivated on linking", when=now
        )
        for row in losers:
            del row._change_reason

    enrollments = [enrollment for enrollment, _ in pairs]
    for enrollment, user_id in pairs:
        enrollment.user_id = user_id
        enrollment.learner_ref = new_refs[enrollment.id]
        enrollment.modified = now
    ProgramEnrollment.objects.bulk_update(enrollments, ["user", "learner_ref", "modified"])
    _history.record(ProgramEnrollment, enrollments, created=False, actor=actor, reason="Linked to a user", when=now)

    user_of = dict((enrollment.id, user_id) for enrollment, user_id in pairs)
    by_course: dict[tuple[str, bool], set[int]] = defaultdict(set)
    keys = {}
    for row in course_rows:
        keys[str(row.course_key)] = row.course_key
        by_course[(str(row.course_key), row.status == ACTIVE)].add(user_of[row.program_enrollment_id])
    # Active rows get their user's course access (recording what the program changed);
    # inactive ones point at the user's course enrollment, created inactive where missing.
    given: dict[tuple[str, bool, int], _course_access.Grant] = {}
    for (course, active), user_ids in by_course.items():
        grants = (_course_access.grant if active else _course_access.attach)(keys[course], user_ids)
        for user_id, grant in grants.items():
            given[(course, active, user_id)] = grant
    for row in course_rows:
        row.learner_ref = new_refs[row.program_enrollment_id]
        _course_access.record(
            row,
            given[(str(row.course_key), row.status == ACTIVE, user_of[row.program_enrollment_id])],
            entering=True,
        )
        row.modified = now
    if course_rows:
        ProgramCourseEnrollment.objects.bulk_update(
            course_rows,
            ["learner_ref", "course_enrollment", "access_grant", "prior_mode", "prior_is_active", "modified"],
        )
        _history.record(
            ProgramCourseEnrollment, course_rows, created=False, actor=actor, reason="Linked to a user", when=now
        )
    # The course staff roles granted while the learners waited.
    _course_staff.apply_pending(course_rows, user_of)

    deactivated: dict[int, list[str]] = defaultdict(list)
    for row in losers:
        deactivated[row.program_enrollment_id].append(str(row.course_key))
    return {enrollment_id: tuple(keys) for enrollment_id, keys in deactivated.items()}


def _activation_times(row_ids: list[int]) -> dict:
    """When each program course enrollment last became active, read from its history."""
    history = ProgramCourseEnrollment.history.model.objects.filter(id__in=row_ids).order_by(
        "history_date", "history_id"
    )
    activated: dict[int, object] = {}
    previous: dict[int, str] = {}
    for row_id, status, when in history.values_list("id", "status", "history_date"):
        if status == ACTIVE and previous.get(row_id) != ACTIVE:
            activated[row_id] = when
        previous[row_id] = status
    return activated
