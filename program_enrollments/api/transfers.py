"""Moving learners' course enrollments from one program to another in one step per learner.

For each learner, every in-scope active course enrollment in the source
program becomes inactive and the target program's enrollment in the same
course becomes active, pointing at the same LMS course enrollment, in one
transaction: the learner keeps their progress and never loses access. The
target program enrollment is created or reactivated; the source one may be
given a new status. A learner who cannot be moved is reported and untouched.

A chunk of learners is read, decided and written with a fixed number of
statements whatever its size, each of them uniform so that its cost grows
linearly with the chunk: the reads fetch only the columns the decision needs
(no model instances), new rows go in with one multi-row ``INSERT`` (arrays
through ``unnest`` on PostgreSQL, a multi-row ``VALUES`` elsewhere), rows that
change alike with one ``UPDATE ... WHERE id IN (...)`` per target state, rows
that each point at their own course enrollment with one ``UPDATE`` joined to a
derived table of their values, and history with one ``INSERT ... SELECT`` from
the rows just written. See docs/decisions/0004-set-wise-bulk-writes.rst.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple
from uuid import UUID

from django.db import transaction
from django.utils import timezone
from opaque_keys.edx.keys import CourseKey

from program_enrollments import conf
from program_enrollments.api import _batches, _course_access, _history, _sql, linking
from program_enrollments.api._validation import as_course_key, as_student_key, as_uuid, get_program
from program_enrollments.backends import lms_backend
from program_enrollments.constants import (
    STUDENT_KEY_MAX_LENGTH,
    CourseAccessGrant,
    ProgramCourseEnrollmentStatus,
    ProgramEnrollmentStatus,
    TransferStatus,
)
from program_enrollments.data import ProgramData, TransferOutcome, TransferReport
from program_enrollments.exceptions import InvalidRequest
from program_enrollments.identity import key_ref, normalize_student_key, user_ref
from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment

ACTIVE = ProgramCourseEnrollmentStatus.ACTIVE
INACTIVE = ProgramCourseEnrollmentStatus.INACTIVE
ENROLLED = ProgramEnrollmentStatus.ENROLLED


@dataclass(frozen=True)
class _Plan:
    source: ProgramData
    target: ProgramData
    curriculum_uuid: UUID
    course_keys: frozenset[str] | None
    source_status: str | None
    dry_run: bool
    actor: object
    reason: str
    target_courses: frozenset[str]


def transfer_program_enrollments(
    *,
    from_program_uuid: UUID | str,
    to_program_uuid: UUID | str,
    to_curriculum_uuid: UUID | str | None = None,
    student_keys: Iterable[str] | None = None,
    course_keys: Iterable[str] | None = None,
    source_status: str | None = None,
    dry_run: bool = False,
    actor=None,
    reason: str = "",
) -> TransferReport:
    """Transfer learners from one program to another; see ``iter_transfer_program_enrollments``.

    Returns every learner's outcome at once (use the iterator for very large transfers).

    Raises:
        ProgramDoesNotExist: either program is not in the catalog.
        InvalidRequest: a malformed argument (nothing is written).
    """
    return TransferReport(
        tuple(
            iter_transfer_program_enrollments(
                from_program_uuid=from_program_uuid,
                to_program_uuid=to_program_uuid,
                to_curriculum_uuid=to_curriculum_uuid,
                student_keys=student_keys,
                course_keys=course_keys,
                source_status=source_status,
                dry_run=dry_run,
                actor=actor,
                reason=reason,
            )
        )
    )


def iter_transfer_program_enrollments(
    *,
    from_program_uuid: UUID | str,
    to_program_uuid: UUID | str,
    to_curriculum_uuid: UUID | str | None = None,
    student_keys: Iterable[str] | None = None,
    course_keys: Iterable[str] | None = None,
    source_status: str | None = None,
    dry_run: bool = False,
    actor=None,
    reason: str = "",
    chunk_size: int | None = None,
) -> Iterator[TransferOutcome]:
    """Transfer learners chunk by chunk, yielding each learner's outcome as its chunk commits.

    ``student_keys`` None means every learner of the source program. ``course_keys``
    None means every course the learner is active in through the source program.
    ``to_curriculum_uuid`` defaults to the target's first active curriculum.
    ``source_status`` (for example ``canceled``) is given to the source program
    enrollment of each moved learner. With ``dry_run`` nothing is written and
    movable learners are reported ``would-transfer``. ``chunk_size`` learners
    (default ``WRITE_CHUNK_SIZE``) are decided and written per transaction, with
    the same number of statements whatever the size.

    The target enrollment is the learner's: a waiting target of the same key is
    linked to the learner's user (refused, ``illegal-operation``, where the key is
    another organization's and nothing shows it is the same person), and a new or
    waiting target of a waiting learner is linked at once when the target
    organization's SSO identity of the key is known.

    Outcomes: ``transferred``, ``would-transfer``, ``already-transferred`` (a re-run:
    nothing left to move, the target holds the courses), ``nothing-to-transfer``,
    ``not-in-program``, ``course-not-in-target``, ``conflicted``,
    ``illegal-operation``, ``user-already-enrolled`` (the learner's account is in
    the target under another student key), ``duplicated`` (the key twice, or two
    keys of one account), ``internal-error``.

    Raises:
        ProgramDoesNotExist: either program is not in the catalog.
        InvalidRequest: a malformed argument (raised before anything is written).
    """
    plan = _make_plan(
        from_program_uuid, to_program_uuid, to_curriculum_uuid, course_keys, source_status, dry_run, actor, reason
    )
    size = chunk_size or conf.get("WRITE_CHUNK_SIZE")
    if not isinstance(size, int) or size < 1:
        raise InvalidRequest(f"chunk_size must be a positive integer, not {chunk_size!r}.")

    # A chunk is a list of (student key as given, folded key): keys are folded once.
    def apply(chunk: list[tuple[str, str]]) -> dict[str, TransferOutcome]:
        return _transfer_chunk(plan, chunk)

    def on_failure(item: tuple[str, str]) -> dict[str, TransferOutcome]:
        return {item[0]: TransferOutcome(student_key=item[0], status=TransferStatus.INTERNAL_ERROR)}

    if student_keys is None:
        for chunk in _all_keys(plan.source.uuid, size):
            yield from _batches.run_chunk(chunk, apply=apply, on_failure=on_failure).values()
        return

    keys = [_checked_key(key, index) for index, key in enumerate(student_keys)]
    folded = [_fold(key) for key in keys]
    counts = Counter(folded)
    unique = []
    for key, fold in zip(keys, folded, strict=True):
        if counts[fold] > 1:
            yield TransferOutcome(student_key=key, status=TransferStatus.DUPLICATED)
        else:
            unique.append((key, fold))
    for chunk in _batches.chunked(unique, size):
        yield from _batches.run_chunk(chunk, apply=apply, on_failure=on_failure).values()


def _make_plan(from_uuid, to_uuid, curriculum_uuid, course_keys, source_status, dry_run, actor, reason) -> _Plan:
    source = get_program(from_uuid)
    target = get_program(to_uuid)
    if source.uuid == target.uuid:
        raise InvalidRequest("The source and target programs must differ.")
    if curriculum_uuid is None:
        active = [curriculum for curriculum in target.curricula if curriculum.is_active]
        if not active:
            raise InvalidRequest(f"Program {target.uuid} has no active curriculum to transfer into.")
        curriculum = active[0].uuid
    else:
        curriculum = as_uuid(curriculum_uuid, name="to_curriculum_uuid")
        if not target.has_curriculum(curriculum):
            raise InvalidRequest(f"Curriculum {curriculum} is not a curriculum of program {target.uuid}.")
    target_courses = target.course_keys()
    scope = None
    if course_keys is not None:
        scope = frozenset(str(as_course_key(key)) for key in course_keys)
        if not scope:
            raise InvalidRequest("Give at least one course, or none to transfer every course.")
        missing = sorted(scope - target_courses)
        if missing:
            raise InvalidRequest(f"Not in program {target.uuid}: {', '.join(missing)}.")
    if source_status is not None and source_status not in ProgramEnrollmentStatus.values:
        raise InvalidRequest(
            f"source_status must be one of {', '.join(ProgramEnrollmentStatus.values)}, not {source_status!r}."
        )
    return _Plan(source, target, curriculum, scope, source_status, dry_run, actor, reason, target_courses)


def _all_keys(program_uuid: UUID, size: int) -> Iterator[list[tuple[str, str]]]:
    """(student key, folded key) of every learner of a program, a chunk at a time (bounded memory)."""
    last_id = 0
    while True:
        rows = list(
            ProgramEnrollment.objects.for_program(program_uuid)
            .filter(id__gt=last_id, external_user_key__isnull=False)
            .order_by("id")
            .values_list("id", "external_user_key")[:size]
        )
        if not rows:
            return
        last_id = rows[-1][0]
        yield [(key, _fold(key)) for _, key in rows]


def _checked_key(value, index: int) -> str:
    """``as_student_key``, with a shortcut for the common key of printable ASCII characters.

    Such a key holds no invisible character and keeps its length when folded, so only its
    length and blankness can be wrong: the full check costs several microseconds a key.
    """
    if type(value) is str and value.isascii() and value.isprintable() and value.strip():
        if len(value) <= STUDENT_KEY_MAX_LENGTH:
            return value
    return as_student_key(value, position=index)


def _fold(student_key: str) -> str:
    """``normalize_student_key``; an ASCII key's compatibility case fold is its lower case."""
    return student_key.lower() if student_key.isascii() else normalize_student_key(student_key)


def _same_organization(plan: _Plan) -> bool:
    """Whether both programs' student keys are one key space (one authoring organization)."""
    return (plan.source.organization_key or "").casefold() == (plan.target.organization_key or "").casefold()


class _Enrollment(NamedTuple):
    """The columns of a program enrollment that a transfer decides on."""

    id: int
    in_source: bool  # in the source program (otherwise in the target)
    external_user_key: str
    folded_key: str
    user_id: int | None
    status: str
    in_curriculum: bool  # in the curriculum the transfer moves learners into
    learner_ref: str

    @property
    def is_active(self) -> bool:
        return self.status in ProgramEnrollmentStatus.active_values()


class _CourseRow(NamedTuple):
    """The columns of a program course enrollment that a transfer decides on and carries."""

    id: int
    enrollment_id: int
    course_key: str
    status: str
    course_enrollment_id: int | None
    access_grant: str
    prior_mode: str | None
    prior_is_active: bool | None
    course_staff: bool


@dataclass
class _Access:
    """The course enrollment a target row points at once active, and what the program changed of it.

    The attributes ``_course_access.carry`` and ``_course_access.record`` set.
    """

    course_enrollment_id: int | None
    access_grant: str
    prior_mode: str | None
    prior_is_active: bool | None

    def values(self) -> tuple:
        return (self.course_enrollment_id, self.access_grant, self.prior_mode, self.prior_is_active)


@dataclass
class _Move:
    """One learner to move: the source, the target (None: created), the rows, and the target's person."""

    key: str
    source: _Enrollment
    target: _Enrollment | None
    moving: list[_CourseRow]
    user_id: int | None  # the target's user once moved; None: the target stays waiting
    link_target: bool = False  # a waiting target linked to user_id by the move
    target_id: int | None = None  # the target program enrollment, once it exists
    ref: str = ""  # the target's learner identity once moved, once decided (see target_ref)

    @cached_property
    def courses(self) -> tuple[str, ...]:
        return tuple(sorted(row.course_key for row in self.moving))

    def target_ref(self, plan: _Plan) -> str:
        """The learner identity the target program enrollment has once moved."""
        if self.user_id is not None:
            return user_ref(self.user_id)
        if self.target is not None:
            return self.target.learner_ref
        return key_ref(plan.target.organization_key, self.source.folded_key)


def _decide_people(plan: _Plan, candidates: list[_Move]) -> dict[str, TransferOutcome]:
    """Decide whose target each move makes, before anything is written; return the learners refused.

    The target of a realized learner is theirs: a waiting target of the same key is linked to
    the learner, but only where it is provably the same person (the same organization's key, or
    the target organization's SSO identity of the key is this user). A waiting learner's target
    is linked at once when the target organization's SSO identity of the key is known, as writes
    do. Sets ``user_id`` and ``link_target`` on the moves kept.
    """
    refused: dict[str, TransferOutcome] = {}
    needs_sso = [
        move
        for move in candidates
        if (move.target is None or move.target.user_id is None)
        and (move.source.user_id is None or not _same_organization(plan))
    ]
    sso = (
        lms_backend().resolve_users(plan.target.organization_key, [move.source.external_user_key for move in needs_sso])
        if needs_sso
        else {}
    )
    for move in candidates:
        source_user = move.source.user_id
        target_user = move.target.user_id if move.target is not None else None
        known = sso.get(move.source.folded_key) if sso else None
        detail = ""
        if target_user is not None:
            if source_user is not None and source_user != target_user:
                detail = "The target program's enrollment of this student key is linked to another user."
            elif source_user is None and not _same_organization(plan):
                detail = (
                    "The target program's enrollment of this student key is linked to a user, and nothing shows "
                    "this waiting learner of another organization is that user."
                )
            move.user_id = target_user
        elif source_user is not None:
            if move.target is not None and not _same_organization(plan) and known != source_user:
                detail = (
                    "The target program's enrollment of this student key is waiting, and nothing shows it is this "
                    "learner's (another organization's key of that name): link it first."
                )
            move.user_id = source_user
            move.link_target = move.target is not None
        else:
            move.user_id = known
            move.link_target = move.target is not None and known is not None
        if detail:
            refused[move.key] = TransferOutcome(move.key, TransferStatus.ILLEGAL_OPERATION, move.courses, detail)

    # The target's person may already be in the target program under another student key.
    kept = [move for move in candidates if move.key not in refused]
    people = Counter(move.user_id for move in kept if move.user_id is not None)
    enrolled = (
        dict(
            ProgramEnrollment.objects.filter(program_uuid=plan.target.uuid, user_id__in=list(people)).values_list(
                "user_id", "id"
            )
        )
        if people
        else {}
    )
    for move in kept:
        if move.user_id is None:
            continue
        holder = enrolled.get(move.user_id)
        if holder is not None and (move.target is None or holder != move.target.id):
            refused[move.key] = TransferOutcome(
                move.key,
                TransferStatus.USER_ALREADY_ENROLLED,
                move.courses,
                f"The learner's account is in program {plan.target.uuid} under another student key.",
            )
        elif people[move.user_id] > 1:
            refused[move.key] = TransferOutcome(
                move.key,
                TransferStatus.DUPLICATED,
                move.courses,
                "Two student keys of this transfer are one account.",
            )
    return refused


def _transfer_chunk(plan: _Plan, chunk: list[tuple[str, str]]) -> dict[str, TransferOutcome]:
    """Decide and write one chunk of (student key, folded key) in the caller's transaction."""
    sql = _Sql()
    now = timezone.now()
    sources: dict[str, _Enrollment] = {}
    targets: dict[str, _Enrollment] = {}
    # A dry run writes nothing, so it need not hold other writers back.
    lock = not plan.dry_run
    for enrollment in sql.enrollments(plan, [fold for _, fold in chunk], lock=lock):
        (sources if enrollment.in_source else targets)[enrollment.folded_key] = enrollment
    rows: dict[int, list[_CourseRow]] = defaultdict(list)
    enrollment_ids = [enrollment.id for enrollment in (*sources.values(), *targets.values())]
    for row in sql.course_rows(enrollment_ids, lock=lock) if enrollment_ids else ():
        rows[row.enrollment_id].append(row)

    def in_scope(row: _CourseRow) -> bool:
        return row.status == ACTIVE and (plan.course_keys is None or row.course_key in plan.course_keys)

    outcomes: dict[str, TransferOutcome] = {}
    candidates: list[_Move] = []
    for key, fold in chunk:
        source, target = sources.get(fold), targets.get(fold)
        if source is None:
            outcomes[key] = TransferOutcome(key, TransferStatus.NOT_IN_PROGRAM)
            continue
        moving = [row for row in rows[source.id] if in_scope(row)]
        if not moving:
            held = tuple(sorted(row.course_key for row in rows[target.id] if in_scope(row))) if target else ()
            status = TransferStatus.ALREADY_TRANSFERRED if held else TransferStatus.NOTHING_TO_TRANSFER
            outcomes[key] = TransferOutcome(key, status, courses=held)
            continue
        move = _Move(key, source, target, moving, user_id=None)
        missing = [course for course in move.courses if course not in plan.target_courses]
        if missing:
            outcomes[key] = TransferOutcome(
                key,
                TransferStatus.COURSE_NOT_IN_TARGET,
                courses=move.courses,
                detail=f"Not in the target: {', '.join(missing)}",
            )
        else:
            candidates.append(move)
    outcomes.update(_decide_people(plan, candidates))
    moves = [move for move in candidates if move.key not in outcomes]
    for move in moves:
        move.ref = move.target_ref(plan)

    # The target's person may hold the slot of a course through a third program (another
    # organization's key space, or a linked account). A waiting target linked by the move
    # brings its own active courses under the account too.
    def arriving(move: _Move) -> set[str]:
        courses = {row.course_key for row in move.moving}
        if move.link_target:
            courses |= {row.course_key for row in rows[move.target.id] if row.status == ACTIVE}
        return courses

    refs = {move.ref for move in moves}
    course_keys = {course for move in moves for course in arriving(move)}
    holders = sql.slot_holders(refs, course_keys) if moves else {}
    accepted: list[_Move] = []
    status = TransferStatus.WOULD_TRANSFER if plan.dry_run else TransferStatus.TRANSFERRED
    for move in moves:
        ref = move.ref
        own = {move.target.id if move.target else None}
        moving = set(move.courses)
        blocked = sorted(
            course
            for course in arriving(move)
            if holders.get((ref, course)) not in {*own, None}
            and not (holders.get((ref, course)) == move.source.id and course in moving)
        )
        if blocked:
            outcomes[move.key] = TransferOutcome(
                move.key,
                TransferStatus.CONFLICTED,
                courses=move.courses,
                detail=f"Active through another program: {', '.join(blocked)}",
            )
        else:
            accepted.append(move)
            outcomes[move.key] = TransferOutcome(move.key, status, courses=move.courses)
    if not plan.dry_run and accepted:
        _apply_moves(sql, plan, accepted, rows, now)
    return {key: outcomes[key] for key, _ in chunk}


def _apply_moves(sql: _Sql, plan: _Plan, accepted: list[_Move], rows: dict[int, list[_CourseRow]], now) -> None:
    """Write the accepted moves: a fixed number of statements, each uniform over the chunk."""
    reason = plan.reason or f"Transferred from program {plan.source.uuid} to {plan.target.uuid}"

    def history(model, ids: list[int], *, created: bool) -> None:
        _history.record_ids(model, ids, created=created, actor=plan.actor, reason=reason, when=now)

    when = _sql.timestamp(now)

    # 1. Leave the source's courses first, so the target's rows can take the active slots.
    leaving = [row.id for move in accepted for row in move.moving]
    _sql.update_ids(ProgramCourseEnrollment, {"status": INACTIVE, "modified": when}, leaving)
    history(ProgramCourseEnrollment, leaving, created=False)

    # 2. Link the waiting targets the move proves to be the learner's (their rows get course enrollments).
    to_link = {move.target.id: move.user_id for move in accepted if move.link_target}
    if to_link:
        # Linking works on model instances; the targets are few (a waiting target of a realized
        # learner) and already locked by this transaction.
        instances = ProgramEnrollment.objects.filter(id__in=list(to_link)).order_by("id")
        linking.link_locked([(instance, to_link[instance.id]) for instance in instances], actor=plan.actor)
        for target_id in to_link:
            rows.pop(target_id, None)
        for row in sql.course_rows(list(to_link), lock=False):
            rows[row.enrollment_id].append(row)

    # 3. Create or reactivate the target program enrollments.
    target_uuid, curriculum = sql.uuid(plan.target.uuid), sql.uuid(plan.curriculum_uuid)
    new_targets = [move for move in accepted if move.target is None]
    reactivated, recurriculumed = [], []
    for move in accepted:
        if move.target is not None:
            move.target_id = move.target.id
            if not move.target.is_active:
                reactivated.append(move.target.id)
            elif not move.target.in_curriculum:
                recurriculumed.append(move.target.id)
    if new_targets:
        created = sql.insert(
            ProgramEnrollment,
            ("external_user_key_normalized",),
            uniform={
                "created": when,
                "modified": when,
                "program_uuid": target_uuid,
                "curriculum_uuid": curriculum,
                "status": ENROLLED,
            },
            columns=("user_id", "external_user_key", "external_user_key_normalized", "learner_ref"),
            rows=[
                (
                    move.user_id,
                    move.source.external_user_key,
                    move.source.folded_key,
                    move.ref,
                )
                for move in new_targets
            ],
            lookup={"program_uuid": target_uuid},
        )
        ids = {fold: enrollment_id for enrollment_id, fold in created}
        for move in new_targets:
            move.target_id = ids[move.source.folded_key]
        history(ProgramEnrollment, list(ids.values()), created=True)
    _sql.update_ids(
        ProgramEnrollment, {"status": ENROLLED, "curriculum_uuid": curriculum, "modified": when}, reactivated
    )
    _sql.update_ids(ProgramEnrollment, {"curriculum_uuid": curriculum, "modified": when}, recurriculumed)
    history(ProgramEnrollment, reactivated + recurriculumed, created=False)

    # 4. Activate the target's course enrollments: on the learner's own course enrollment, which
    #    moves with what the program granted; a target of another user than the source's (a waiting
    #    learner moving to a linked target) gets that user's, granted now.
    to_grant: dict[str, set[int]] = defaultdict(set)
    for move in accepted:
        if move.user_id is not None and move.user_id != move.source.user_id:
            for row in move.moving:
                to_grant[row.course_key].add(move.user_id)
    granted = {
        (course, user_id): given
        for course, user_ids in to_grant.items()
        for user_id, given in _course_access.grant(CourseKey.from_string(course), user_ids).items()
    }
    entering_changed: list[tuple] = []
    entering_new: list[tuple] = []
    for move in accepted:
        existing = {row.course_key: row for row in rows.get(move.target_id, ())}
        for row in move.moving:
            current = existing.get(row.course_key)
            if current is None:
                access = _Access(None, CourseAccessGrant.UNKNOWN, None, None)
            else:
                access = _Access(
                    current.course_enrollment_id, current.access_grant, current.prior_mode, current.prior_is_active
                )
            if move.user_id is None:
                access.course_enrollment_id = None
            elif move.user_id == move.source.user_id:
                _course_access.carry(access, row)
            else:
                _course_access.record(access, granted[(row.course_key, move.user_id)], entering=True)
            if current is None:
                entering_new.append((move.target_id, row.course_key, row.course_staff, *access.values(), move.ref))
            else:
                entering_changed.append((current.id, *access.values()))
    access_columns = ("course_enrollment_id", "access_grant", "prior_mode", "prior_is_active")
    sql.update_rows(
        ProgramCourseEnrollment, access_columns, entering_changed, uniform={"status": ACTIVE, "modified": when}
    )
    history(ProgramCourseEnrollment, [values[0] for values in entering_changed], created=False)
    if entering_new:
        created = sql.insert(
            ProgramCourseEnrollment,
            ("program_enrollment_id", "course_key"),
            uniform={"created": when, "modified": when, "status": ACTIVE},
            columns=("program_enrollment_id", "course_key", "course_staff", *access_columns, "learner_ref"),
            rows=entering_new,
        )
        history(ProgramCourseEnrollment, [values[0] for values in created], created=True)

    # 5. The source program enrollments' new status, when asked.
    if plan.source_status is not None:
        changed = [move.source.id for move in accepted if move.source.status != plan.source_status]
        _sql.update_ids(ProgramEnrollment, {"status": plan.source_status, "modified": when}, changed)
        history(ProgramEnrollment, changed, created=False)


# --- set-wise statements -----------------------------------------------------------------------


class _Sql:
    """The transfer's reads and its writes of many rows, in the dialect of the database in use.

    Built on ``_sql``'s statements (the write path's): lists of values reach PostgreSQL as
    arrays (one parameter whatever their length, expanded by ``= ANY`` and ``unnest``) and
    the other databases as lists of placeholders, split where a chunk of several thousand
    learners passes the database's limit of placeholders per statement (SQLite's). The
    multi-row writes here take that limit into account, and read the new rows' ids back by
    key on a database that returns none from a multi-row insert (MySQL).
    """

    def __init__(self):
        self.connection = transaction.get_connection()
        self.connection.ensure_connection()
        self.vendor = self.connection.vendor
        self.postgresql = self.vendor == "postgresql"
        self.max_params = self.connection.features.max_query_params
        self.returning = self.connection.features.can_return_rows_from_bulk_insert

    def uuid(self, value: UUID):
        return _sql.prep(ProgramEnrollment, "program_uuid", value)

    def _cast(self, model, name: str) -> str:
        """The type a PostgreSQL array of the column's values is cast to."""
        field = model._meta.get_field(name)
        if field.is_relation:
            field = field.target_field
        if field.generated:
            field = field.output_field
        return field.cast_db_type(self.connection)

    # Reads.

    def enrollments(self, plan: _Plan, folded_keys: list[str], *, lock: bool) -> list[_Enrollment]:
        """The program enrollments of the keys in the plan's two programs, in id order (locked: ``lock``)."""
        pe = ProgramEnrollment
        program, curriculum = _sql.column(pe, "program_uuid"), _sql.column(pe, "curriculum_uuid")
        # Whether a row is the source's, and in the target curriculum, is compared by the
        # database: each backend gives UUID columns back in its own form.
        selected = (
            f"{_sql.column(pe, 'id')}, {program} = %s, "
            f"{_sql.columns(pe, ('external_user_key', 'external_user_key_normalized', 'user_id', 'status'))}, "
            f"{curriculum} = %s, {_sql.column(pe, 'learner_ref')}"
        )
        source, target = self.uuid(plan.source.uuid), self.uuid(plan.target.uuid)
        found = []
        keys = _sql.column(pe, "external_user_key_normalized")
        for condition, params in _sql.in_parts(keys, folded_keys, _sql.TEXT, other_params=4):
            found += _sql.fetch(
                f"SELECT {selected} FROM {_sql.table(pe)} "
                f"WHERE {program} IN (%s, %s) AND {condition} "
                f"ORDER BY {_sql.column(pe, 'id')}{_sql.for_update() if lock else ''}",
                [source, self.uuid(plan.curriculum_uuid), source, target, *params],
            )
        return [_Enrollment(*values) for values in found]

    def course_rows(self, enrollment_ids: list[int], *, lock: bool) -> list[_CourseRow]:
        """The program course enrollments of the program enrollments, in id order (locked: ``lock``)."""
        pce = ProgramCourseEnrollment
        names = (
            "id",
            "program_enrollment_id",
            "course_key",
            "status",
            "course_enrollment_id",
            "access_grant",
            "prior_mode",
            "prior_is_active",
            "course_staff",
        )
        if not enrollment_ids:
            return []
        condition, params = _sql.in_list(_sql.column(pce, "program_enrollment_id"), enrollment_ids, _sql.BIGINT)
        found = _sql.fetch(
            f"SELECT {_sql.columns(pce, names)} FROM {_sql.table(pce)} WHERE {condition} "
            f"ORDER BY {_sql.column(pce, 'id')}{_sql.for_update() if lock else ''}",
            params,
        )
        return [_CourseRow(*values) for values in found]

    def slot_holders(self, refs: Iterable[str], course_keys: Iterable[str]) -> dict[tuple[str, str], int]:
        """{(learner ref, course key): program enrollment id} of the active rows holding these slots."""
        pce = ProgramCourseEnrollment
        refs, course_keys = sorted(refs), sorted(course_keys)
        if not refs or not course_keys:
            return {}
        holders = {}
        courses = ", ".join(["%s"] * len(course_keys))
        active = _sql.column(pce, "active_learner_ref")
        for condition, params in _sql.in_parts(active, refs, _sql.TEXT, other_params=len(course_keys)):
            for ref, course_key, holder in _sql.fetch(
                f"SELECT {_sql.columns(pce, ('active_learner_ref', 'course_key', 'program_enrollment_id'))} "
                f"FROM {_sql.table(pce)} WHERE {condition} AND {_sql.column(pce, 'course_key')} IN ({courses})",
                [*params, *course_keys],
            ):
                holders[(ref, course_key)] = holder
        return holders

    # Writes.

    def update_rows(self, model, columns: Sequence[str], rows: list[tuple], *, uniform: dict[str, object]) -> None:
        """Give each row (id, *values of ``columns``) its own values, and all of them ``uniform``.

        One ``UPDATE`` joined on id to a derived table of the rows' values: no per-row ``CASE``,
        whose cost grows with the square of the rows.
        """
        if not rows:
            return
        table, pk = _sql.table(model), _sql.column(model, "id")
        names = ["id", *columns]
        quoted = [self.connection.ops.quote_name(f"v{index}") for index in range(len(names))]
        uniform_sql = [f"{_sql.column(model, name)} = %s" for name in uniform]
        if self.postgresql:
            arrays = ", ".join(f"%s::{self._cast(model, name)}[]" for name in names)
            assignments = ", ".join(
                [
                    *uniform_sql,
                    *(f"{_sql.column(model, name)} = v.{q}" for name, q in zip(columns, quoted[1:], strict=True)),
                ]
            )
            _sql.execute(
                f"UPDATE {table} AS t SET {assignments} FROM unnest({arrays}) AS v({', '.join(quoted)}) "
                f"WHERE t.{pk} = v.{quoted[0]}",
                [*uniform.values(), *(_sql.array_literal(values) for values in zip(*rows, strict=True))],
            )
            return
        for part in self._row_parts(rows, len(names), len(uniform)):
            params = [value for values in part for value in values]
            if self.vendor == "sqlite":
                # SQLite names the columns of a VALUES table column1, column2, ...
                assignments = ", ".join(
                    [
                        *uniform_sql,
                        *(f"{_sql.column(model, name)} = v.column{index + 2}" for index, name in enumerate(columns)),
                    ]
                )
                placeholders = ", ".join([f"({', '.join(['%s'] * len(names))})"] * len(part))
                _sql.execute(
                    f"UPDATE {table} SET {assignments} FROM (VALUES {placeholders}) AS v "
                    f"WHERE {table}.{pk} = v.column1",
                    [*uniform.values(), *params],
                )
            else:
                # MySQL and MariaDB: a derived table of SELECTs (the two spell VALUES tables apart).
                first = "SELECT " + ", ".join(f"%s AS {q}" for q in quoted)
                more = " UNION ALL SELECT " + ", ".join(["%s"] * len(names))
                assignments = ", ".join(
                    [
                        *(f"t.{assignment}" for assignment in uniform_sql),
                        *(f"t.{_sql.column(model, name)} = v.{q}" for name, q in zip(columns, quoted[1:], strict=True)),
                    ]
                )
                _sql.execute(
                    f"UPDATE {table} AS t JOIN ({first}{more * (len(part) - 1)}) AS v ON t.{pk} = v.{quoted[0]} "
                    f"SET {assignments}",
                    [*params, *uniform.values()],
                )

    def insert(
        self,
        model,
        key: Sequence[str],
        *,
        uniform: dict[str, object],
        columns: Sequence[str],
        rows: list[tuple],
        lookup: dict[str, object] | None = None,
    ) -> list[tuple]:
        """Insert rows (values of ``columns``, plus ``uniform``); return (id, *``key`` values) of each.

        One multi-row ``INSERT ... RETURNING``. Where the database returns nothing from a
        multi-row insert (MySQL), the rows are read back by ``key`` (a unique key with the
        ``lookup`` columns), in one query.
        """
        table = _sql.table(model)
        names = [*uniform, *columns]
        returning = f" RETURNING {_sql.columns(model, ('id', *key))}" if self.returning else ""
        found: list[tuple] = []
        if self.postgresql:
            arrays = ", ".join(f"%s::{self._cast(model, name)}[]" for name in columns)
            statement = (
                f"INSERT INTO {table} ({_sql.columns(model, names)}) "
                f"SELECT {', '.join(['%s'] * len(uniform) + ['v.*'])} FROM unnest({arrays}) AS v{returning}"
            )
            params = [*uniform.values(), *(_sql.array_literal(values) for values in zip(*rows, strict=True))]
            if returning:
                found = _sql.fetch(statement, params)
            else:
                _sql.execute(statement, params)
        else:
            for part in self._row_parts(rows, len(names)):
                row_sql = f"({', '.join(['%s'] * len(names))})"
                params = [value for values in part for value in (*uniform.values(), *values)]
                statement = (
                    f"INSERT INTO {table} ({_sql.columns(model, names)}) VALUES {', '.join([row_sql] * len(part))}"
                )
                if returning:
                    found += _sql.fetch(statement + returning, params)
                else:
                    _sql.execute(statement, params)
        if returning:
            return found
        # Read back by the unique key: the rows just inserted, and no others.
        fixed = lookup or {}
        index = {name: position for position, name in enumerate(columns)}
        wanted = {tuple(row[index[name]] for name in key if name not in fixed) for row in rows}
        free = [name for name in key if name not in fixed]
        conditions = [f"{_sql.column(model, name)} = %s" for name in fixed]
        found = []
        firsts = sorted({values[0] for values in wanted})
        kind = _sql.BIGINT if all(isinstance(value, int) for value in firsts) else _sql.TEXT
        for condition, params in _sql.in_parts(_sql.column(model, free[0]), firsts, kind, other_params=len(fixed)):
            for values in _sql.fetch(
                f"SELECT {_sql.columns(model, ('id', *free))} FROM {table} "
                f"WHERE {' AND '.join([*conditions, condition])}",
                [*fixed.values(), *params],
            ):
                if tuple(values[1:]) in wanted:
                    found.append(values)
        return found

    def _row_parts(self, rows: list[tuple], per_row: int, other_params: int = 0) -> Iterator[list[tuple]]:
        """``rows`` in parts small enough for the database's limit of placeholders per statement."""
        size = max(1, (self.max_params - other_params) // per_row) if self.max_params else len(rows)
        for start in range(0, len(rows), size):
            yield rows[start : start + size]
