"""Moving learners' course enrollments from one program to another in one step per learner.

For each learner, every in-scope active course enrollment in the source
program becomes inactive and the target program's enrollment in the same
course becomes active, pointing at the same LMS course enrollment, in one
transaction: the learner keeps their progress and never loses access. The
target program enrollment is created or reactivated; the source one may be
given a new status. A learner who cannot be moved is reported and untouched.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from uuid import UUID

from django.utils import timezone
from opaque_keys.edx.keys import CourseKey

from program_enrollments import conf
from program_enrollments.api import _batches, _course_access, _history, linking
from program_enrollments.api._validation import as_course_key, as_student_key, as_uuid, get_program
from program_enrollments.backends import lms_backend
from program_enrollments.constants import ProgramCourseEnrollmentStatus, ProgramEnrollmentStatus, TransferStatus
from program_enrollments.data import ProgramData, TransferOutcome, TransferReport
from program_enrollments.exceptions import InvalidRequest
from program_enrollments.identity import learner_ref, normalize_student_key, user_ref
from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment

ACTIVE = ProgramCourseEnrollmentStatus.ACTIVE
INACTIVE = ProgramCourseEnrollmentStatus.INACTIVE


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
    movable learners are reported ``would-transfer``.

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

    def apply(chunk: list[str]) -> dict[str, TransferOutcome]:
        return _transfer_chunk(plan, chunk)

    def on_failure(key: str) -> dict[str, TransferOutcome]:
        return {key: TransferOutcome(student_key=key, status=TransferStatus.INTERNAL_ERROR)}

    if student_keys is None:
        for chunk in _all_keys(plan.source.uuid, size):
            yield from _batches.run_chunk(chunk, apply=apply, on_failure=on_failure).values()
        return

    keys = [as_student_key(key, position=index) for index, key in enumerate(student_keys)]
    counts = Counter(normalize_student_key(key) for key in keys)
    unique = []
    for key in keys:
        if counts[normalize_student_key(key)] > 1:
            yield TransferOutcome(student_key=key, status=TransferStatus.DUPLICATED)
        else:
            unique.append(key)
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
    scope = None
    if course_keys is not None:
        scope = frozenset(str(as_course_key(key)) for key in course_keys)
        if not scope:
            raise InvalidRequest("Give at least one course, or none to transfer every course.")
        missing = sorted(scope - target.course_keys())
        if missing:
            raise InvalidRequest(f"Not in program {target.uuid}: {', '.join(missing)}.")
    if source_status is not None and source_status not in ProgramEnrollmentStatus.values:
        raise InvalidRequest(
            f"source_status must be one of {', '.join(ProgramEnrollmentStatus.values)}, not {source_status!r}."
        )
    return _Plan(source, target, curriculum, scope, source_status, dry_run, actor, reason)


def _all_keys(program_uuid: UUID, size: int) -> Iterator[list[str]]:
    """Student keys of every learner of a program, a chunk at a time (bounded memory)."""
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
        yield [key for _, key in rows]


def _same_organization(plan: _Plan) -> bool:
    """Whether both programs' student keys are one key space (one authoring organization)."""
    return (plan.source.organization_key or "").casefold() == (plan.target.organization_key or "").casefold()


@dataclass
class _Move:
    """One learner to move: the source, the target (None: created), the rows, and the target's person."""

    key: str
    source: ProgramEnrollment
    target: ProgramEnrollment | None
    moving: list[ProgramCourseEnrollment]
    user_id: int | None  # the target's user once moved; None: the target stays waiting
    link_target: bool = False  # a waiting target linked to user_id by the move

    @property
    def courses(self) -> tuple[str, ...]:
        return tuple(sorted(str(row.course_key) for row in self.moving))

    def target_ref(self, plan: _Plan) -> str:
        """The learner identity the target program enrollment has once moved."""
        if self.user_id is not None:
            return user_ref(self.user_id)
        if self.target is not None:
            return self.target.learner_ref
        return learner_ref(
            user_id=None, organization_key=plan.target.organization_key, student_key=self.source.external_user_key
        )


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
        known = sso.get(normalize_student_key(move.source.external_user_key))
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
    enrolled = {
        user_id: enrollment_id
        for user_id, enrollment_id in ProgramEnrollment.objects.filter(
            program_uuid=plan.target.uuid, user_id__in=list(people)
        ).values_list("user_id", "id")
    }
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


def _transfer_chunk(plan: _Plan, keys: list[str]) -> dict[str, TransferOutcome]:
    now = timezone.now()
    folded = [normalize_student_key(key) for key in keys]
    enrollments = defaultdict(dict)
    for enrollment in (
        ProgramEnrollment.objects.select_for_update()
        .filter(program_uuid__in=[plan.source.uuid, plan.target.uuid], external_user_key_normalized__in=folded)
        .order_by("id")
    ):
        enrollments[enrollment.program_uuid][enrollment.external_user_key_normalized] = enrollment
    sources, targets = enrollments[plan.source.uuid], enrollments[plan.target.uuid]
    rows = defaultdict(list)
    for row in (
        ProgramCourseEnrollment.objects.select_for_update()
        .filter(program_enrollment__in=[e.id for e in (*sources.values(), *targets.values())])
        .order_by("id")
    ):
        rows[row.program_enrollment_id].append(row)

    def in_scope(row):
        return row.status == ACTIVE and (plan.course_keys is None or str(row.course_key) in plan.course_keys)

    outcomes: dict[str, TransferOutcome] = {}
    candidates: list[_Move] = []
    for key, fold in zip(keys, folded, strict=True):
        source, target = sources.get(fold), targets.get(fold)
        if source is None:
            outcomes[key] = TransferOutcome(key, TransferStatus.NOT_IN_PROGRAM)
            continue
        moving = [row for row in rows[source.id] if in_scope(row)]
        if not moving:
            held = tuple(sorted(str(row.course_key) for row in rows[target.id] if in_scope(row))) if target else ()
            status = TransferStatus.ALREADY_TRANSFERRED if held else TransferStatus.NOTHING_TO_TRANSFER
            outcomes[key] = TransferOutcome(key, status, courses=held)
            continue
        move = _Move(key, source, target, moving, user_id=None)
        missing = [course for course in move.courses if course not in plan.target.course_keys()]
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

    # The target's person may hold the slot of a course through a third program (another
    # organization's key space, or a linked account). A waiting target linked by the move
    # brings its own active courses under the account too.
    def arriving(move: _Move) -> set[str]:
        courses = set(move.courses)
        if move.link_target:
            courses |= {str(row.course_key) for row in rows[move.target.id] if row.status == ACTIVE}
        return courses

    refs = {move.target_ref(plan) for move in moves}
    course_keys = {course for move in moves for course in arriving(move)}
    holders = (
        {
            (ref, str(course_key)): holder
            for ref, course_key, holder in ProgramCourseEnrollment.objects.filter(
                active_learner_ref__in=refs, course_key__in=course_keys
            ).values_list("active_learner_ref", "course_key", "program_enrollment_id")
        }
        if moves
        else {}
    )
    accepted: list[_Move] = []
    for move in moves:
        ref = move.target_ref(plan)
        own = {move.target.id if move.target else None}
        blocked = sorted(
            course
            for course in arriving(move)
            if holders.get((ref, course)) not in {*own, None}
            and not (holders.get((ref, course)) == move.source.id and course in move.courses)
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
            status = TransferStatus.WOULD_TRANSFER if plan.dry_run else TransferStatus.TRANSFERRED
            outcomes[move.key] = TransferOutcome(move.key, status, courses=move.courses)
    if plan.dry_run or not accepted:
        return {key: outcomes[key] for key in keys}
    _apply_moves(plan, accepted, rows, now)
    return {key: outcomes[key] for key in keys}


def _apply_moves(plan: _Plan, accepted: list[_Move], rows, now) -> None:
    reason = plan.reason or f"Transferred from program {plan.source.uuid} to {plan.target.uuid}"

    # 1. Leave the source's courses first, so the target's rows can take the active slots.
    leaving = [row for move in accepted for row in move.moving]
    for row in leaving:
        row.status = INACTIVE
        row.modified = now
    ProgramCourseEnrollment.objects.bulk_update(leaving, ["status", "modified"])
    _history.record(ProgramCourseEnrollment, leaving, created=False, actor=plan.actor, reason=reason, when=now)

    # 2. Link the waiting targets the move proves to be the learner's (their rows get course enrollments).
    to_link = [(move.target, move.user_id) for move in accepted if move.link_target]
    if to_link:
        linking.link_locked(to_link, actor=plan.actor)
        for move in accepted:
            if move.link_target:
                rows[move.target.id] = list(
                    ProgramCourseEnrollment.objects.filter(program_enrollment=move.target).order_by("id")
                )

    # 3. Create or reactivate the target program enrollments.
    new_targets, changed_targets = [], []
    for move in accepted:
        if move.target is None:
            move.target = ProgramEnrollment(
                user_id=move.user_id,
                external_user_key=move.source.external_user_key,
                program_uuid=plan.target.uuid,
                curriculum_uuid=plan.curriculum_uuid,
                status=ProgramEnrollmentStatus.ENROLLED,
                created=now,
                modified=now,
            )
            move.target._organization_key = plan.target.organization_key
            new_targets.append(move.target)
        elif not move.target.is_active or move.target.curriculum_uuid != plan.curriculum_uuid:
            if not move.target.is_active:
                move.target.status = ProgramEnrollmentStatus.ENROLLED
            move.target.curriculum_uuid = plan.curriculum_uuid
            move.target.modified = now
            changed_targets.append(move.target)
    if new_targets:
        ProgramEnrollment.objects.bulk_create(new_targets)
        _history.record(ProgramEnrollment, new_targets, created=True, actor=plan.actor, reason=reason, when=now)
    if changed_targets:
        ProgramEnrollment.objects.bulk_update(changed_targets, ["status", "curriculum_uuid", "modified"])
        _history.record(ProgramEnrollment, changed_targets, created=False, actor=plan.actor, reason=reason, when=now)

    # 4. Activate the target's course enrollments: on the learner's own course enrollment, which
    #    moves with what the program granted; a target of another user than the source's (a waiting
    #    learner moving to a linked target) gets that user's, granted now.
    to_grant: dict[str, set[int]] = defaultdict(set)
    for move in accepted:
        if move.user_id is not None and move.user_id != move.source.user_id:
            for row in move.moving:
                to_grant[str(row.course_key)].add(move.user_id)
    granted = {
        (course, user_id): given
        for course, user_ids in to_grant.items()
        for user_id, given in _course_access.grant(CourseKey.from_string(course), user_ids).items()
    }
    entering_new, entering_changed = [], []
    for move in accepted:
        existing = {str(row.course_key): row for row in rows.get(move.target.id, ())}
        for row in move.moving:
            current = existing.get(str(row.course_key))
            if current is None:
                current = ProgramCourseEnrollment(
                    program_enrollment=move.target,
                    course_key=row.course_key,
                    course_staff=row.course_staff,
                    created=now,
                )
                entering_new.append(current)
            else:
                entering_changed.append(current)
            current.status = ACTIVE
            current.modified = now
            if move.user_id is None:
                current.course_enrollment_id = None
            elif move.user_id == move.source.user_id:
                _course_access.carry(current, row)
            else:
                _course_access.record(current, granted[(str(row.course_key), move.user_id)], entering=True)
    if entering_changed:
        ProgramCourseEnrollment.objects.bulk_update(
            entering_changed,
            ["status", "course_enrollment", "access_grant", "prior_mode", "prior_is_active", "modified"],
        )
        _history.record(
            ProgramCourseEnrollment, entering_changed, created=False, actor=plan.actor, reason=reason, when=now
        )
    if entering_new:
        ProgramCourseEnrollment.objects.bulk_create(entering_new)
        _history.record(ProgramCourseEnrollment, entering_new, created=True, actor=plan.actor, reason=reason, when=now)

    # 5. The source program enrollments' new status, when asked.
    if plan.source_status is not None:
        sources_changed = [move.source for move in accepted if move.source.status != plan.source_status]
        for source in sources_changed:
            source.status = plan.source_status
            source.modified = now
        if sources_changed:
            ProgramEnrollment.objects.bulk_update(sources_changed, ["status", "modified"])
            _history.record(
                ProgramEnrollment, sources_changed, created=False, actor=plan.actor, reason=reason, when=now
            )
