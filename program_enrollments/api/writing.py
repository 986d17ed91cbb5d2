"""Bulk writes of program enrollments and program course enrollments.

Both writers decide set-wise: a chunk of up to ``WRITE_CHUNK_SIZE`` learners is
read, decided and written with a fixed number of queries, whatever its size.
The one-active rule is checked here (the learner is ``conflicted``) and held by
the database (see ``models.ProgramCourseEnrollment``); a race the check misses
is refused by the database and decided again (see ``_batches``).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.utils import timezone
from opaque_keys.edx.keys import CourseKey

from program_enrollments import conf
from program_enrollments.api import _batches, _course_access, _course_staff, _history
from program_enrollments.api._validation import (
    as_course_key,
    as_student_key,
    as_uuid,
    field,
    get_program,
)
from program_enrollments.backends import lms_backend
from program_enrollments.constants import (
    ProgramCourseEnrollmentStatus,
    ProgramEnrollmentStatus,
    WriteStatus,
)
from program_enrollments.data import CourseEnrollmentRequest, ProgramData, ProgramEnrollmentRequest
from program_enrollments.exceptions import CourseDoesNotExist, CourseNotInProgram, InvalidRequest
from program_enrollments.identity import normalize_student_key
from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment

log = logging.getLogger(__name__)

ACTIVE = ProgramCourseEnrollmentStatus.ACTIVE
INACTIVE = ProgramCourseEnrollmentStatus.INACTIVE


@dataclass(frozen=True)
class _Item:
    """One request of a bulk write, checked."""

    student_key: str
    folded_key: str
    status: str
    curriculum_uuid: UUID | None = None
    course_staff: bool | None = None


def _internal_error(item: _Item) -> dict[str, str]:
    return {item.student_key: WriteStatus.INTERNAL_ERROR}


def _screen(items: Sequence[_Item], valid_statuses: Iterable[str]) -> tuple[dict[str, str], list[_Item]]:
    """Report duplicated keys and invalid statuses; return the results so far and the items left."""
    counts = Counter(item.folded_key for item in items)
    valid = set(valid_statuses)
    results: dict[str, str] = {}
    remaining = []
    for item in items:
        if counts[item.folded_key] > 1:
            results[item.student_key] = WriteStatus.DUPLICATED
        elif item.status not in valid:
            results[item.student_key] = WriteStatus.INVALID_STATUS
        else:
            results[item.student_key] = ""  # decided below; keeps the request order
            remaining.append(item)
    return results, remaining


def _check_mode(create: bool, update: bool) -> None:
    if not (create or update):
        raise InvalidRequest("A write must allow creating, updating, or both.")


def _status_of(item: Any, position: int) -> str:
    status = field(item, "status")
    if not isinstance(status, str):
        raise InvalidRequest(f"item {position}: status must be a string, not {status!r}.")
    return status


# --- program enrollments ----------------------------------------------------------------------


def write_program_enrollments(
    *,
    program_uuid: UUID | str,
    requests: Iterable[ProgramEnrollmentRequest | dict],
    create: bool,
    update: bool,
    actor=None,
    reason: str = "",
) -> dict[str, str]:
    """Create and/or update the enrollments of many learners in one program.

    ``create`` alone is POST (learners already in the program get ``conflict``),
    ``update`` alone is PATCH (learners not in it get ``not-in-program``), both
    is PUT. ``curriculum_uuid`` is required when creating is allowed; a new
    learner whose curriculum is not one of the program's gets ``invalid-curriculum``.
    An existing learner keeps their curriculum, as in Open edX's built-in app,
    unless the ``UPDATE_MOVES_CURRICULUM`` setting is on (then PUT moves them to
    it, ``invalid-curriculum`` when it is not the program's). A new learner whose
    SSO identity is known is linked at once.

    Returns a status per student key, in the caller's casing and request order:
    the new status, or one of ``duplicated`` (the key twice in the request, or
    two keys of the request whose SSO identities are one account),
    ``invalid-status``, ``conflict`` (POST: already in the program),
    ``not-in-program``, ``user-already-enrolled`` (the key's account is in the
    program under another student key), ``invalid-curriculum``, ``internal-error``.

    Raises:
        ProgramDoesNotExist: the catalog does not know the program.
        InvalidRequest: a malformed argument (nothing is written).
    """
    _check_mode(create, update)
    program = get_program(program_uuid)
    items = []
    for position, request in enumerate(requests):
        key = as_student_key(field(request, "student_key"), position=position)
        status = _status_of(request, position)
        curriculum = field(request, "curriculum_uuid")
        if create:
            if curriculum is None:
                raise InvalidRequest(f"item {position}: curriculum_uuid is required.")
            # A well-formed uuid that is not one of the program's curricula is that learner's
            # ``invalid-curriculum`` (decided per learner below), not the whole request's error.
            curriculum = as_uuid(curriculum, name=f"item {position}: curriculum_uuid")
        else:
            curriculum = None
        items.append(_Item(key, normalize_student_key(key), status, curriculum_uuid=curriculum))

    results, remaining = _screen(items, ProgramEnrollmentStatus.values)

    def apply(chunk: list[_Item]) -> dict[str, str]:
        return _apply_program_chunk(program, chunk, create=create, update=update, actor=actor, reason=reason)

    results.update(
        _batches.run_in_chunks(remaining, size=conf.get("WRITE_CHUNK_SIZE"), apply=apply, on_failure=_internal_error)
    )
    return results


def _apply_program_chunk(program: ProgramData, chunk, *, create, update, actor, reason) -> dict[str, str]:
    now = timezone.now()
    existing = {
        enrollment.external_user_key_normalized: enrollment
        for enrollment in ProgramEnrollment.objects.select_for_update()
        .for_program(program.uuid)
        .filter(external_user_key_normalized__in=[item.folded_key for item in chunk])
        .order_by("id")
    }
    results: dict[str, str] = {}
    to_create: list[_Item] = []
    changed: list[ProgramEnrollment] = []
    moves_curriculum = conf.get("UPDATE_MOVES_CURRICULUM")
    for item in chunk:
        enrollment = existing.get(item.folded_key)
        # The item's curriculum counts for a new learner, and for an existing one only where
        # updates move learners (UPDATE_MOVES_CURRICULUM); elsewhere it is ignored, as in Open edX.
        curriculum_counts = item.curriculum_uuid is not None and (enrollment is None or moves_curriculum)
        if enrollment is not None and not update:
            results[item.student_key] = WriteStatus.CONFLICT
        elif enrollment is None and not create:
            results[item.student_key] = WriteStatus.NOT_IN_PROGRAM
        elif curriculum_counts and not program.has_curriculum(item.curriculum_uuid):
            results[item.student_key] = WriteStatus.INVALID_CURRICULUM
        elif enrollment is None:
            to_create.append(item)
        else:
            curriculum = item.curriculum_uuid if curriculum_counts else enrollment.curriculum_uuid
            if enrollment.status != item.status or enrollment.curriculum_uuid != curriculum:
                enrollment.status = item.status
                enrollment.curriculum_uuid = curriculum
                enrollment.modified = now
                changed.append(enrollment)
            results[item.student_key] = item.status

    if to_create:
        user_ids = lms_backend().resolve_users(program.organization_key, [item.student_key for item in to_create])
        taken_users = (
            set(
                ProgramEnrollment.objects.for_program(program.uuid)
                .filter(user_id__in=set(user_ids.values()))
                .values_list("user_id", flat=True)
            )
            if user_ids
            else set()
        )
        # Two new keys of one account in this chunk: one person twice, decided here rather
        # than by the database refusing the second row (which would retry the whole chunk).
        accounts = Counter(user_ids[item.folded_key] for item in to_create if item.folded_key in user_ids)
        new = []
        for item in to_create:
            user_id = user_ids.get(item.folded_key)
            if user_id in taken_users:
                results[item.student_key] = WriteStatus.USER_ALREADY_ENROLLED
                continue
            if user_id is not None and accounts[user_id] > 1:
                results[item.student_key] = WriteStatus.DUPLICATED
                continue
            enrollment = ProgramEnrollment(
                user_id=user_id,
                external_user_key=item.student_key,
                program_uuid=program.uuid,
                curriculum_uuid=item.curriculum_uuid,
                status=item.status,
                created=now,
                modified=now,
            )
            enrollment._organization_key = program.organization_key
            new.append(enrollment)
            results[item.student_key] = item.status
        created = ProgramEnrollment.objects.bulk_create(new)
        _history.record(ProgramEnrollment, created, created=True, actor=actor, reason=reason, when=now)

    if changed:
        ProgramEnrollment.objects.bulk_update(changed, ["status", "curriculum_uuid", "modified"])
        _history.record(ProgramEnrollment, changed, created=False, actor=actor, reason=reason, when=now)
    return results


# --- program course enrollments ---------------------------------------------------------------


@dataclass(frozen=True)
class _CourseContext:
    program: ProgramData
    course_key: CourseKey
    create: bool
    update: bool
    actor: Any
    reason: str


def write_program_course_enrollments(
    *,
    program_uuid: UUID | str,
    course_key: CourseKey | str,
    requests: Iterable[CourseEnrollmentRequest | dict],
    create: bool,
    update: bool,
    actor=None,
    reason: str = "",
) -> dict[str, str]:
    """Create and/or update many learners' enrollments in one course run of one program.

    ``create`` alone is POST, ``update`` alone is PATCH, both is PUT. Making a
    learner active enrolls a realized learner's LMS account in the course in
    masters mode; making them inactive deactivates that course enrollment
    unless another program's active enrollment still backs it.

    Returns a status per student key, in the caller's casing and request order:
    ``active`` or ``inactive`` on success, or one of ``duplicated``,
    ``invalid-status``, ``not-in-program``, ``conflict``, ``not-found``,
    ``illegal-operation``, ``conflicted`` (active in this course through another
    program), ``internal-error``.

    Raises:
        ProgramDoesNotExist: the catalog does not know the program.
        CourseDoesNotExist: the LMS does not know the course run.
        CourseNotInProgram: the course run is in none of the program's active curricula.
        InvalidRequest: a malformed argument (nothing is written).
    """
    _check_mode(create, update)
    program = get_program(program_uuid)
    key = as_course_key(course_key)
    check_course_in_program(program, key)
    items = []
    for position, request in enumerate(requests):
        student_key = as_student_key(field(request, "student_key"), position=position)
        status = _status_of(request, position)
        course_staff = field(request, "course_staff")
        if course_staff is not None and not isinstance(course_staff, bool):
            raise InvalidRequest(f"item {position}: course_staff must be a boolean, not {course_staff!r}.")
        items.append(_Item(student_key, normalize_student_key(student_key), status, course_staff=course_staff))

    results, remaining = _screen(items, ProgramCourseEnrollmentStatus.values)
    context = _CourseContext(program, key, create, update, actor, reason)
    results.update(
        _batches.run_in_chunks(
            remaining,
            size=conf.get("WRITE_CHUNK_SIZE"),
            apply=lambda chunk: _apply_course_chunk(context, chunk),
            on_failure=_internal_error,
        )
    )
    return results


def check_course_in_program(program: ProgramData, course_key: CourseKey) -> None:
    """Raise unless ``course_key`` exists and belongs to ``program``.

    Raises:
        CourseDoesNotExist: the LMS does not know the course run.
        CourseNotInProgram: the course run is in none of the program's active curricula.
    """
    if not lms_backend().course_exists(course_key):
        raise CourseDoesNotExist(f"Course {course_key} does not exist.")
    if str(course_key) not in program.course_keys():
        raise CourseNotInProgram(f"Course {course_key} is not part of program {program.uuid}.")


def _apply_course_chunk(context: _CourseContext, chunk: list[_Item]) -> dict[str, str]:
    now = timezone.now()
    course_key = context.course_key
    enrollments = {
        enrollment.external_user_key_normalized: enrollment
        for enrollment in ProgramEnrollment.objects.select_for_update()
        .for_program(context.program.uuid)
        .filter(external_user_key_normalized__in=[item.folded_key for item in chunk])
        .order_by("id")
    }
    course_enrollments = {
        row.program_enrollment_id: row
        for row in ProgramCourseEnrollment.objects.select_for_update()
        .filter(program_enrollment__in=[enrollment.id for enrollment in enrollments.values()], course_key=course_key)
        .order_by("id")
    }

    results: dict[str, str] = {}
    writes: list[tuple[_Item, ProgramEnrollment, ProgramCourseEnrollment | None]] = []
    for item in chunk:
        enrollment = enrollments.get(item.folded_key)
        existing = course_enrollments.get(enrollment.id) if enrollment else None
        if enrollment is None:
            results[item.student_key] = WriteStatus.NOT_IN_PROGRAM
        elif existing is not None and not context.update:
            results[item.student_key] = WriteStatus.CONFLICT
        elif existing is None and not context.create:
            results[item.student_key] = WriteStatus.NOT_FOUND
        elif item.status == ACTIVE and not enrollment.is_active:
            results[item.student_key] = WriteStatus.ILLEGAL_OPERATION
        else:
            writes.append((item, enrollment, existing))

    # The application-side check of the one-active rule: the database holds it too.
    holders = active_holders(
        course_key, {enrollment.learner_ref for item, enrollment, _ in writes if item.status == ACTIVE}
    )
    allowed = []
    for item, enrollment, existing in writes:
        holder = holders.get(enrollment.learner_ref)
        if item.status == ACTIVE and holder is not None and holder != enrollment.id:
            results[item.student_key] = WriteStatus.CONFLICTED
        else:
            allowed.append((item, enrollment, existing))

    # Course access: granted to realized learners made active (recording what the program
    # changed), attached to new inactive rows, taken back from rows leaving the active state.
    activate_users = {
        enrollment.user_id for item, enrollment, _ in allowed if item.status == ACTIVE and enrollment.user_id
    }
    attach_users = {
        enrollment.user_id
        for item, enrollment, existing in allowed
        if item.status == INACTIVE
        and enrollment.user_id
        and (existing is None or existing.course_enrollment_id is None)
    }
    granted = _course_access.grant(course_key, activate_users)
    attached = _course_access.attach(course_key, attach_users)

    new: list[ProgramCourseEnrollment] = []
    changed: list[ProgramCourseEnrollment] = []
    leaving: dict[int, ProgramCourseEnrollment] = {}
    staff_requests: list[tuple[ProgramCourseEnrollment, int | None, bool]] = []
    for item, enrollment, existing in allowed:
        given = granted.get(enrollment.user_id) if item.status == ACTIVE else attached.get(enrollment.user_id)
        if existing is None:
            row = ProgramCourseEnrollment(
                program_enrollment=enrollment,
                course_key=course_key,
                status=item.status,
                course_staff=bool(item.course_staff),
                created=now,
                modified=now,
            )
            if given is not None:
                _course_access.record(row, given, entering=True)
            new.append(row)
            if item.course_staff is not None:
                staff_requests.append((row, enrollment.user_id, item.course_staff))
        else:
            before = _course_row_state(existing)
            if item.course_staff is not None:
                existing.course_staff = item.course_staff
                staff_requests.append((existing, enrollment.user_id, item.course_staff))
            if given is not None:
                _course_access.record(existing, given, entering=existing.status != item.status)
            if existing.status == ACTIVE and item.status == INACTIVE and enrollment.user_id:
                leaving[enrollment.user_id] = existing
            existing.status = item.status
            if before != _course_row_state(existing):
                existing.modified = now
                changed.append(existing)
        results[item.student_key] = item.status

    if changed:
        # Rows leaving the active state go first: with rows of one learner on both
        # sides, a single statement could meet the unique index mid-way.
        for rows in (
            [row for row in changed if row.status == INACTIVE],
            [row for row in changed if row.status == ACTIVE],
        ):
            if rows:
                ProgramCourseEnrollment.objects.bulk_update(rows, [*_COURSE_ROW_FIELDS, "modified"])
        _history.record(
            ProgramCourseEnrollment, changed, created=False, actor=context.actor, reason=context.reason, when=now
        )
    if new:
        created = ProgramCourseEnrollment.objects.bulk_create(new)
        _history.record(
            ProgramCourseEnrollment, created, created=True, actor=context.actor, reason=context.reason, when=now
        )

    _course_access.take_back(course_key, leaving)
    _course_staff.apply(course_key, staff_requests)
    return results


# What a write may change of an existing program course enrollment.
_COURSE_ROW_FIELDS = ["status", "course_staff", "course_enrollment", "access_grant", "prior_mode", "prior_is_active"]


def _course_row_state(row: ProgramCourseEnrollment) -> tuple:
    """The values of ``_COURSE_ROW_FIELDS`` of a row, to tell whether a write changed it."""
    return tuple(getattr(row, ProgramCourseEnrollment._meta.get_field(name).attname) for name in _COURSE_ROW_FIELDS)


def active_holders(course_key: CourseKey, learner_refs: Iterable[str]) -> dict[str, int]:
    """Map each learner ref active in ``course_key`` to the program enrollment holding its slot."""
    refs = set(learner_refs)
    if not refs:
        return {}
    return dict(
        ProgramCourseEnrollment.objects.filter(course_key=course_key, active_learner_ref__in=refs).values_list(
            "active_learner_ref", "program_enrollment_id"
        )
    )
