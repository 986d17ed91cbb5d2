"""Bulk writes of program enrollments and program course enrollments.

Both writers decide set-wise: a chunk of up to ``WRITE_CHUNK_SIZE`` learners is
read, decided and written with a fixed number of queries, whatever its size.
The one-active rule is checked here (the learner is ``conflicted``) and held by
the database (see ``models.ProgramCourseEnrollment``); a race the check misses
is refused by the database and decided again (see ``_batches``).

The statements are plain SQL (``_sql``, docs/decisions/0009): a chunk reads the
few columns its decisions need (locking the rows it may change), inserts its new
rows with one multi-row ``INSERT … RETURNING``, changes rows with one ``UPDATE …
WHERE id IN (…)`` per target state, and copies their history with ``INSERT …
SELECT`` from the rows just written (``_history``). No model instance is built.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.utils import timezone
from opaque_keys.edx.keys import CourseKey

from program_enrollments import conf
from program_enrollments.api import _batches, _course_access, _course_staff, _history, _sql
from program_enrollments.api._validation import (
    as_course_key,
    as_student_key,
    as_uuid,
    field,
    get_program,
)
from program_enrollments.backends import lms_backend
from program_enrollments.constants import (
    STUDENT_KEY_MAX_LENGTH,
    CourseAccessGrant,
    ProgramCourseEnrollmentStatus,
    ProgramEnrollmentStatus,
    WriteStatus,
)
from program_enrollments.data import CourseEnrollmentRequest, ProgramData, ProgramEnrollmentRequest
from program_enrollments.exceptions import CourseDoesNotExist, CourseNotInProgram, InvalidRequest
from program_enrollments.identity import key_ref, normalize_student_key, user_ref
from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment

log = logging.getLogger(__name__)

ACTIVE = ProgramCourseEnrollmentStatus.ACTIVE.value
INACTIVE = ProgramCourseEnrollmentStatus.INACTIVE.value
_ACTIVE_PROGRAM_STATUSES = frozenset(str(status) for status in ProgramEnrollmentStatus.active_values())

PE = ProgramEnrollment
PCE = ProgramCourseEnrollment


class _Item:
    """One request of a bulk write, checked."""

    __slots__ = ("student_key", "folded_key", "status", "curriculum_uuid", "course_staff")

    def __init__(self, student_key, folded_key, status, curriculum_uuid=None, course_staff=None):
        self.student_key = student_key
        self.folded_key = folded_key
        self.status = status
        self.curriculum_uuid = curriculum_uuid
        self.course_staff = course_staff


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


def _program(program_uuid) -> ProgramData:
    """The catalog's program of ``program_uuid``, or ``program_uuid`` itself when it is the program read already."""
    return program_uuid if isinstance(program_uuid, ProgramData) else get_program(program_uuid)


def _checked_key(value, position: int) -> tuple[str, str]:
    """The student key of item ``position`` and its folded form, or InvalidRequest.

    A printable ASCII key (what partners send) is checked and folded without the
    per-character Unicode look-ups: it holds no invisible character, and folding
    it is lowering it (same length).
    """
    if (
        type(value) is str
        and value.isascii()
        and value.isprintable()
        and len(value) <= STUDENT_KEY_MAX_LENGTH
        and not value.isspace()
        and value
    ):
        return value, value.lower()
    key = as_student_key(value, position=position)
    return key, normalize_student_key(key)


def _program_items(requests, create: bool) -> list[_Item]:
    items = []
    for position, request in enumerate(requests):
        if type(request) is dict:
            key, status, curriculum = request.get("student_key"), request.get("status"), request.get("curriculum_uuid")
        else:
            key, status = field(request, "student_key"), field(request, "status")
            curriculum = field(request, "curriculum_uuid")
        key, folded = _checked_key(key, position)
        if not isinstance(status, str):
            raise InvalidRequest(f"item {position}: status must be a string, not {status!r}.")
        if create:
            if curriculum is None:
                raise InvalidRequest(f"item {position}: curriculum_uuid is required.")
            # A well-formed uuid that is not one of the program's curricula is that learner's
            # ``invalid-curriculum`` (decided per learner below), not the whole request's error.
            curriculum = as_uuid(curriculum, name=f"item {position}: curriculum_uuid")
        else:
            curriculum = None
        items.append(_Item(key, folded, status, curriculum))
    return items


def _course_items(requests) -> list[_Item]:
    items = []
    for position, request in enumerate(requests):
        if type(request) is dict:
            key, status, course_staff = request.get("student_key"), request.get("status"), request.get("course_staff")
        else:
            key, status, course_staff = (
                field(request, "student_key"),
                field(request, "status"),
                field(request, "course_staff"),
            )
        key, folded = _checked_key(key, position)
        if not isinstance(status, str):
            raise InvalidRequest(f"item {position}: status must be a string, not {status!r}.")
        if course_staff is not None and not isinstance(course_staff, bool):
            raise InvalidRequest(f"item {position}: course_staff must be a boolean, not {course_staff!r}.")
        items.append(_Item(key, folded, status, course_staff=course_staff))
    return items


# --- program enrollments ----------------------------------------------------------------------


def write_program_enrollments(
    *,
    program_uuid: UUID | str | ProgramData,
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
    SSO identity is known is linked at once. ``program_uuid`` may be the program as the
    catalog backend returned it (a ``ProgramData``), which spares looking it up again.

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
    program = _program(program_uuid)
    items = _program_items(requests, create)
    results, remaining = _screen(items, ProgramEnrollmentStatus.values)

    def apply(chunk: list[_Item]) -> dict[str, str]:
        return _apply_program_chunk(program, chunk, create=create, update=update, actor=actor, reason=reason)

    results.update(
        _batches.run_in_chunks(remaining, size=conf.get("WRITE_CHUNK_SIZE"), apply=apply, on_failure=_internal_error)
    )
    return results


def _read_program_enrollments(program_uuid: UUID, folded_keys: Sequence[str], names: Sequence[str]) -> list[tuple]:
    """``names`` of the program's enrollments of ``folded_keys``, in id order, locked for the transaction."""
    condition, params = _sql.in_list(_sql.column(PE, "external_user_key_normalized"), folded_keys, _sql.TEXT)
    return _sql.fetch(
        f"SELECT {_sql.columns(PE, names)} FROM {_sql.table(PE)} "
        f"WHERE {_sql.column(PE, 'program_uuid')} = %s AND {condition} ORDER BY {_sql.column(PE, 'id')}"
        f"{_sql.for_update()}",
        [_sql.prep(PE, "program_uuid", program_uuid), *params],
    )


def _as_uuid(value) -> UUID | None:
    """A uuid column's value as a UUID (MySQL and SQLite return 32 hex digits)."""
    return value if value is None or isinstance(value, UUID) else UUID(value)


def _apply_program_chunk(program: ProgramData, chunk, *, create, update, actor, reason) -> dict[str, str]:
    now = timezone.now()
    existing = {
        folded: (enrollment_id, status, _as_uuid(curriculum))
        for enrollment_id, folded, status, curriculum in _read_program_enrollments(
            program.uuid,
            [item.folded_key for item in chunk],
            ["id", "external_user_key_normalized", "status", "curriculum_uuid"],
        )
    }
    results: dict[str, str] = {}
    to_create: list[_Item] = []
    # Changed enrollment ids by their new (status, curriculum).
    changes: dict[tuple[str, UUID], list[int]] = defaultdict(list)
    moves_curriculum = conf.get("UPDATE_MOVES_CURRICULUM")
    curricula = {curriculum.uuid for curriculum in program.curricula}
    for item in chunk:
        found = existing.get(item.folded_key)
        # The item's curriculum counts for a new learner, and for an existing one only where
        # updates move learners (UPDATE_MOVES_CURRICULUM); elsewhere it is ignored, as in Open edX.
        curriculum_counts = item.curriculum_uuid is not None and (found is None or moves_curriculum)
        if found is not None and not update:
            results[item.student_key] = WriteStatus.CONFLICT
        elif found is None and not create:
            results[item.student_key] = WriteStatus.NOT_IN_PROGRAM
        elif curriculum_counts and item.curriculum_uuid not in curricula:
            results[item.student_key] = WriteStatus.INVALID_CURRICULUM
        elif found is None:
            to_create.append(item)
        else:
            enrollment_id, status, current = found
            curriculum = item.curriculum_uuid if curriculum_counts else current
            if status != item.status or current != curriculum:
                changes[(item.status, curriculum)].append(enrollment_id)
            results[item.student_key] = item.status

    created_ids: list[int] = []
    if to_create:
        created_ids = _create_program_enrollments(program, to_create, results, now)
    changed_ids: list[int] = []
    stamp = _sql.timestamp(now)
    for (status, curriculum), ids in changes.items():
        _sql.update_ids(
            PE,
            {"status": status, "curriculum_uuid": _sql.prep(PE, "curriculum_uuid", curriculum), "modified": stamp},
            ids,
        )
        changed_ids.extend(ids)
    _history.record_ids(PE, created_ids, created=True, actor=actor, reason=reason, when=now)
    _history.record_ids(PE, changed_ids, created=False, actor=actor, reason=reason, when=now)
    return results


def _create_program_enrollments(program: ProgramData, to_create: list[_Item], results: dict, now) -> list[int]:
    """Insert the new learners' enrollments (realized where their SSO identity is known); return the new ids."""
    user_ids = lms_backend().resolve_users(program.organization_key, [item.student_key for item in to_create])
    taken_users: set[int] = set()
    if user_ids:
        condition, params = _sql.in_list(_sql.column(PE, "user"), list(set(user_ids.values())), _sql.BIGINT)
        taken_users = {
            user_id
            for (user_id,) in _sql.fetch(
                f"SELECT {_sql.column(PE, 'user')} FROM {_sql.table(PE)} "
                f"WHERE {_sql.column(PE, 'program_uuid')} = %s AND {condition}",
                [_sql.prep(PE, "program_uuid", program.uuid), *params],
            )
        }
    # Two new keys of one account in this chunk: one person twice, decided here rather
    # than by the database refusing the second row (which would retry the whole chunk).
    accounts = Counter(user_ids[item.folded_key] for item in to_create if item.folded_key in user_ids)
    stamp = _sql.timestamp(now)
    program_uuid = _sql.prep(PE, "program_uuid", program.uuid)
    organization = program.organization_key
    rows = []
    for item in to_create:
        user_id = user_ids.get(item.folded_key)
        if user_id in taken_users:
            results[item.student_key] = WriteStatus.USER_ALREADY_ENROLLED
            continue
        if user_id is not None and accounts[user_id] > 1:
            results[item.student_key] = WriteStatus.DUPLICATED
            continue
        rows.append(
            (
                stamp,
                stamp,
                user_id,
                item.student_key,
                item.folded_key,
                program_uuid,
                _sql.prep(PE, "curriculum_uuid", item.curriculum_uuid),
                item.status,
                user_ref(user_id) if user_id is not None else key_ref(organization, item.folded_key),
            )
        )
        results[item.student_key] = item.status
    if not rows:
        return []
    keys = [row[4] for row in rows]
    created = _sql.insert(
        PE,
        [
            "created",
            "modified",
            "user",
            "external_user_key",
            "external_user_key_normalized",
            "program_uuid",
            "curriculum_uuid",
            "status",
            "learner_ref",
        ],
        rows,
        [_sql.TIMESTAMP, _sql.TIMESTAMP, _sql.BIGINT, _sql.TEXT, _sql.TEXT, _sql.UUID_TYPE, _sql.UUID_TYPE]
        + [_sql.TEXT, _sql.TEXT],
        returning=("id",),
        lookup=lambda: [(row[0],) for row in _read_program_enrollments(program.uuid, keys, ["id"])],
    )
    return [row[0] for row in created]


# --- program course enrollments ---------------------------------------------------------------


@dataclass(frozen=True)
class _CourseContext:
    program: ProgramData
    course_key: CourseKey
    create: bool
    update: bool
    actor: Any
    reason: str


class _CourseRow:
    """What a write reads and may change of a program course enrollment (``_COURSE_ROW_FIELDS``, by attname).

    The course access helpers (``_course_access.record``, ``take_back``) and the course staff
    role (``_course_staff.apply``) take it as they take a model instance.
    """

    __slots__ = (
        "id",
        "program_enrollment_id",
        "status",
        "course_staff",
        "course_enrollment_id",
        "access_grant",
        "prior_mode",
        "prior_is_active",
    )

    def __init__(
        self,
        id,  # noqa: A002 - the column's name
        program_enrollment_id,
        status,
        course_staff,
        course_enrollment_id,
        access_grant,
        prior_mode,
        prior_is_active,
    ):
        self.id = id
        self.program_enrollment_id = program_enrollment_id
        self.status = status
        self.course_staff = course_staff
        self.course_enrollment_id = course_enrollment_id
        self.access_grant = access_grant
        self.prior_mode = prior_mode
        self.prior_is_active = prior_is_active

    def state(self) -> tuple:
        """The values of ``_COURSE_ROW_FIELDS``, to tell whether a write changed the row."""
        return (
            self.status,
            self.course_staff,
            self.course_enrollment_id,
            self.access_grant,
            self.prior_mode,
            self.prior_is_active,
        )


class _Learner:
    """What a course write reads of a program enrollment."""

    __slots__ = ("id", "user_id", "status", "learner_ref")

    def __init__(self, id, user_id, status, learner_ref):  # noqa: A002 - the column's name
        self.id = id
        self.user_id = user_id
        self.status = status
        self.learner_ref = learner_ref

    @property
    def is_active(self) -> bool:
        return self.status in _ACTIVE_PROGRAM_STATUSES


def write_program_course_enrollments(
    *,
    program_uuid: UUID | str | ProgramData,
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
    unless another program's active enrollment still backs it. ``program_uuid`` may be the
    program as the catalog backend returned it (a ``ProgramData``).

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
    program = _program(program_uuid)
    key = as_course_key(course_key)
    check_course_in_program(program, key)
    items = _course_items(requests)
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


# The columns a course write reads of its program course enrollments (``_CourseRow``).
_COURSE_ROW_COLUMNS = [
    "id",
    "program_enrollment",
    "status",
    "course_staff",
    "course_enrollment",
    "access_grant",
    "prior_mode",
    "prior_is_active",
]
# The columns of a new program course enrollment, and their PostgreSQL array types.
_NEW_COURSE_ROW_COLUMNS = [
    "created",
    "modified",
    "program_enrollment",
    "course_enrollment",
    "course_key",
    "status",
    "course_staff",
    "access_grant",
    "prior_mode",
    "prior_is_active",
    "learner_ref",
]
_NEW_COURSE_ROW_TYPES = [
    _sql.TIMESTAMP,
    _sql.TIMESTAMP,
    _sql.BIGINT,
    _sql.BIGINT,
    _sql.TEXT,
    _sql.TEXT,
    _sql.BOOLEAN,
    _sql.TEXT,
    _sql.TEXT,
    _sql.BOOLEAN,
    _sql.TEXT,
]


def _read_course_rows(course: str, enrollment_ids: list[int]) -> dict[int, _CourseRow]:
    """The course run's rows of the program enrollments, by program enrollment id, locked."""
    if not enrollment_ids:
        return {}
    condition, params = _sql.in_list(_sql.column(PCE, "program_enrollment"), enrollment_ids, _sql.BIGINT)
    rows = _sql.fetch(
        f"SELECT {_sql.columns(PCE, _COURSE_ROW_COLUMNS)} FROM {_sql.table(PCE)} "
        f"WHERE {_sql.column(PCE, 'course_key')} = %s AND {condition} ORDER BY {_sql.column(PCE, 'id')}"
        f"{_sql.for_update()}",
        [course, *params],
    )
    return {
        row[1]: _CourseRow(row[0], row[1], row[2], bool(row[3]), row[4], row[5], row[6], _sql.as_bool(row[7]))
        for row in rows
    }


def _apply_course_chunk(context: _CourseContext, chunk: list[_Item]) -> dict[str, str]:
    now = timezone.now()
    course_key = context.course_key
    course = str(course_key)
    enrollments = {
        folded: _Learner(enrollment_id, user_id, status, ref)
        for enrollment_id, folded, user_id, status, ref in _read_program_enrollments(
            context.program.uuid,
            [item.folded_key for item in chunk],
            ["id", "external_user_key_normalized", "user", "status", "learner_ref"],
        )
    }
    course_rows = _read_course_rows(course, [enrollment.id for enrollment in enrollments.values()])

    results: dict[str, str] = {}
    writes: list[tuple[_Item, _Learner, _CourseRow | None]] = []
    for item in chunk:
        enrollment = enrollments.get(item.folded_key)
        existing = course_rows.get(enrollment.id) if enrollment else None
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
        course, {enrollment.learner_ref for item, enrollment, _ in writes if item.status == ACTIVE}
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

    new: list[tuple[_CourseRow, _Learner]] = []
    # Changed rows by their new state, and the rows whose course enrollment changes.
    changes: dict[tuple, list[int]] = defaultdict(list)
    new_course_enrollments: dict[int, tuple[int | None]] = {}
    leaving: dict[int, _CourseRow] = {}
    staff_requests: list[tuple[_CourseRow, int | None, bool]] = []
    for item, enrollment, existing in allowed:
        given = granted.get(enrollment.user_id) if item.status == ACTIVE else attached.get(enrollment.user_id)
        if existing is None:
            row = _CourseRow(
                None,
                enrollment.id,
                item.status,
                bool(item.course_staff),
                None,
                CourseAccessGrant.UNKNOWN.value,
                None,
                None,
            )
            if given is not None:
                _course_access.record(row, given, entering=True)
            new.append((row, enrollment))
            if item.course_staff is not None:
                staff_requests.append((row, enrollment.user_id, item.course_staff))
        else:
            before = existing.state()
            if item.course_staff is not None:
                existing.course_staff = item.course_staff
                staff_requests.append((existing, enrollment.user_id, item.course_staff))
            if given is not None:
                _course_access.record(existing, given, entering=existing.status != item.status)
            if existing.status == ACTIVE and item.status == INACTIVE and enrollment.user_id:
                leaving[enrollment.user_id] = existing
            existing.status = item.status
            if before != existing.state():
                changes[
                    (existing.status, existing.course_staff, existing.access_grant, existing.prior_mode)
                    + (existing.prior_is_active,)
                ].append(existing.id)
                if existing.course_enrollment_id != before[2]:
                    new_course_enrollments[existing.id] = (existing.course_enrollment_id,)
        results[item.student_key] = item.status

    stamp = _sql.timestamp(now)
    changed_ids: list[int] = []
    # Rows leaving the active state go first: with rows of one learner on both sides, a
    # single statement could meet the unique index mid-way.
    for state in sorted(changes, key=lambda state: state[0] == ACTIVE):
        status, course_staff, access_grant, prior_mode, prior_is_active = state
        ids = changes[state]
        _sql.update_ids(
            PCE,
            {
                "status": status,
                "course_staff": course_staff,
                "access_grant": access_grant,
                "prior_mode": prior_mode,
                "prior_is_active": prior_is_active,
                "modified": stamp,
            },
            ids,
        )
        changed_ids.extend(ids)
    _sql.update_rows(PCE, ["course_enrollment"], new_course_enrollments, [_sql.BIGINT])
    _history.record_ids(PCE, changed_ids, created=False, actor=context.actor, reason=context.reason, when=now)
    if new:
        created = _sql.insert(
            PCE,
            _NEW_COURSE_ROW_COLUMNS,
            [
                (
                    stamp,
                    stamp,
                    row.program_enrollment_id,
                    row.course_enrollment_id,
                    course,
                    row.status,
                    row.course_staff,
                    row.access_grant,
                    row.prior_mode,
                    row.prior_is_active,
                    enrollment.learner_ref,
                )
                for row, enrollment in new
            ],
            _NEW_COURSE_ROW_TYPES,
            returning=("id", "program_enrollment"),
            lookup=lambda: [
                (row.id, row.program_enrollment_id)
                for row in _read_course_rows(course, [row.program_enrollment_id for row, _ in new]).values()
            ],
        )
        ids = dict((enrollment_id, row_id) for row_id, enrollment_id in created)
        for row, _enrollment in new:
            row.id = ids[row.program_enrollment_id]
        _history.record_ids(PCE, list(ids.values()), created=True, actor=context.actor, reason=context.reason, when=now)

    _course_access.take_back(course_key, leaving)
    _course_staff.apply(course_key, staff_requests)
    return results


def active_holders(course_key: CourseKey | str, learner_refs: Iterable[str]) -> dict[str, int]:
    """Map each learner ref active in ``course_key`` to the program enrollment holding its slot."""
    refs = list(set(learner_refs))
    if not refs:
        return {}
    condition, params = _sql.in_list(_sql.column(PCE, "active_learner_ref"), refs, _sql.TEXT)
    return dict(
        _sql.fetch(
            f"SELECT {_sql.columns(PCE, ['active_learner_ref', 'program_enrollment'])} FROM {_sql.table(PCE)} "
            f"WHERE {_sql.column(PCE, 'course_key')} = %s AND {condition}",
            [str(course_key), *params],
        )
    )
