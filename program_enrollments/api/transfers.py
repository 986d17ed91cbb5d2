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

from program_enrollments import conf
from program_enrollments.api import _batches, _history
from program_enrollments.api._validation import as_course_key, as_student_key, as_uuid, get_program
from program_enrollments.constants import ProgramCourseEnrollmentStatus, ProgramEnrollmentStatus, TransferStatus
from program_enrollments.data import ProgramData, TransferOutcome, TransferReport
from program_enrollments.exceptions import InvalidRequest
from program_enrollments.identity import learner_ref, normalize_student_key
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

    Outcomes: ``transferred``, ``would-transfer``, ``already-transferred`` (a re-run:
    nothing left to move, the target holds the courses), ``nothing-to-transfer``,
    ``not-in-program``, ``course-not-in-target``, ``conflicted``,
    ``illegal-operation``, ``duplicated``, ``internal-error``.

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


def _target_ref(plan: _Plan, source: ProgramEnrollment, target: ProgramEnrollment | None) -> str:
    """The learner identity the target program enrollment has, or will have once created."""
    if target is not None:
        return target.learner_ref
    return learner_ref(
        user_id=source.user_id, organization_key=plan.target.organization_key, student_key=source.external_user_key
    )


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
    moves: list[tuple[str, ProgramEnrollment, ProgramEnrollment | None, list[ProgramCourseEnrollment]]] = []
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
        courses = tuple(sorted(str(row.course_key) for row in moving))
        missing = [course for course in courses if course not in plan.target.course_keys()]
        if missing:
            outcomes[key] = TransferOutcome(
                key,
                TransferStatus.COURSE_NOT_IN_TARGET,
                courses=courses,
                detail=f"Not in the target: {', '.join(missing)}",
            )
        elif target is not None and target.user_id is not None and target.user_id != source.user_id:
            outcomes[key] = TransferOutcome(
                key,
                TransferStatus.ILLEGAL_OPERATION,
                courses=courses,
                detail="The target program's enrollment of this student key is linked to another user.",
            )
        else:
            moves.append((key, source, target, moving))

    # The target may know the learner under another identity (another organization's key
    # space, or a linked account); a third program may hold the active slot there.
    target_refs = {_target_ref(plan, source, target) for _, source, target, _ in moves}
    course_keys = {row.course_key for *_, moving in moves for row in moving}
    holders = (
        {
            (ref, str(course_key)): holder
            for ref, course_key, holder in ProgramCourseEnrollment.objects.filter(
                active_learner_ref__in=target_refs, course_key__in=course_keys
            ).values_list("active_learner_ref", "course_key", "program_enrollment_id")
        }
        if moves
        else {}
    )
    accepted = []
    for key, source, target, moving in moves:
        courses = tuple(sorted(str(row.course_key) for row in moving))
        ref = _target_ref(plan, source, target)
        own = {source.id, target.id if target else None, None}
        blocked = [course for course in courses if holders.get((ref, course)) not in own]
        if blocked:
            outcomes[key] = TransferOutcome(
                key,
                TransferStatus.CONFLICTED,
                courses=courses,
                detail=f"Active through another program: {', '.join(blocked)}",
            )
        else:
            accepted.append((key, source, target, moving))
            status = TransferStatus.WOULD_TRANSFER if plan.dry_run else TransferStatus.TRANSFERRED
            outcomes[key] = TransferOutcome(key, status, courses=courses)
    if plan.dry_run or not accepted:
        return {key: outcomes[key] for key in keys}

    reason = plan.reason or f"Transferred from program {plan.source.uuid} to {plan.target.uuid}"

    # 1. Leave the source's courses first, so the target's rows can take the active slots.
    leaving = [row for *_, moving in accepted for row in moving]
    for row in leaving:
        row.status = INACTIVE
        row.modified = now
    ProgramCourseEnrollment.objects.bulk_update(leaving, ["status", "modified"])
    _history.record(ProgramCourseEnrollment, leaving, created=False, actor=plan.actor, reason=reason, when=now)

    # 2. Create or reactivate the target program enrollments.
    new_targets, changed_targets, target_of = [], [], {}
    for _key, source, target, _ in accepted:
        if target is None:
            target = ProgramEnrollment(
                user_id=source.user_id,
                external_user_key=source.external_user_key,
                program_uuid=plan.target.uuid,
                curriculum_uuid=plan.curriculum_uuid,
                status=ProgramEnrollmentStatus.ENROLLED,
                created=now,
                modified=now,
            )
            target._organization_key = plan.target.organization_key
            new_targets.append(target)
        elif not target.is_active or target.curriculum_uuid != plan.curriculum_uuid:
            if not target.is_active:
                target.status = ProgramEnrollmentStatus.ENROLLED
            target.curriculum_uuid = plan.curriculum_uuid
            target.modified = now
            changed_targets.append(target)
        target_of[source.id] = target
    if new_targets:
        ProgramEnrollment.objects.bulk_create(new_targets)
        _history.record(ProgramEnrollment, new_targets, created=True, actor=plan.actor, reason=reason, when=now)
    if changed_targets:
        ProgramEnrollment.objects.bulk_update(changed_targets, ["status", "curriculum_uuid", "modified"])
        _history.record(ProgramEnrollment, changed_targets, created=False, actor=plan.actor, reason=reason, when=now)

    # 3. Activate the target's course enrollments, on the same LMS course enrollment.
    entering_new, entering_changed = [], []
    for _, source, _, moving in accepted:
        target = target_of[source.id]
        existing = {str(row.course_key): row for row in rows.get(target.id, ())}
        for row in moving:
            current = existing.get(str(row.course_key))
            if current is None:
                entering_new.append(
                    ProgramCourseEnrollment(
                        program_enrollment=target,
                        course_key=row.course_key,
                        status=ACTIVE,
                        course_staff=row.course_staff,
                        course_enrollment_id=row.course_enrollment_id,
                        created=now,
                        modified=now,
                    )
                )
            else:
                current.status = ACTIVE
                current.course_enrollment_id = row.course_enrollment_id
                current.modified = now
                entering_changed.append(current)
    if entering_changed:
        ProgramCourseEnrollment.objects.bulk_update(entering_changed, ["status", "course_enrollment", "modified"])
        _history.record(
            ProgramCourseEnrollment, entering_changed, created=False, actor=plan.actor, reason=reason, when=now
        )
    if entering_new:
        ProgramCourseEnrollment.objects.bulk_create(entering_new)
        _history.record(ProgramCourseEnrollment, entering_new, created=True, actor=plan.actor, reason=reason, when=now)

    # 4. The source program enrollments' new status, when asked.
    if plan.source_status is not None:
        sources_changed = [source for _, source, _, _ in accepted if source.status != plan.source_status]
        for source in sources_changed:
            source.status = plan.source_status
            source.modified = now
        if sources_changed:
            ProgramEnrollment.objects.bulk_update(sources_changed, ["status", "modified"])
            _history.record(
                ProgramEnrollment, sources_changed, created=False, actor=plan.actor, reason=reason, when=now
            )
    return {key: outcomes[key] for key in keys}
