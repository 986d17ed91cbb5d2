"""Big writes and transfers as background jobs: submitted at once, run chunk by chunk by a task.

A job is submitted with everything it needs (checked then: bad input raises
``InvalidRequest`` and stores nothing) and run by ``program_enrollments.tasks.run_job``
on the host's Celery workers, or in-process where the host has no broker.

Running a job is safe to repeat and to interrupt. Each chunk runs in one transaction
that locks the job's row, reads where the last committed chunk ended (``Job.cursor``),
applies the chunk through the same API functions as the synchronous paths, and writes
the chunk's per-learner ``JobResult`` rows, the counters and the new cursor: all of it
commits, or none of it. A worker killed mid-chunk leaves nothing of that chunk; a
re-delivered task (or a second delivery running at the same time) takes the lock,
finds the cursor and goes on after the last committed chunk, so no learner is written
twice and every learner gets exactly one result row.

Duplicated student keys are found across the whole job before the first chunk (every
copy is reported ``duplicated``, as in one synchronous request); two different keys of
one account in different chunks are decided chunk by chunk (the later one gets
``user-already-enrolled`` in a write, ``duplicated`` only within one chunk).
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from uuid import UUID

from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from program_enrollments import conf
from program_enrollments.api import transfers, writing
from program_enrollments.api._validation import as_course_key, as_student_key, as_uuid, field, get_program
from program_enrollments.constants import (
    ProgramCourseEnrollmentStatus,
    ProgramEnrollmentStatus,
    TransferStatus,
)
from program_enrollments.exceptions import InvalidRequest, ProgramEnrollmentsError
from program_enrollments.identity import normalize_student_key
from program_enrollments.models import Job, JobResult, ProgramEnrollment

log = logging.getLogger(__name__)

# Statuses that count as a learner's success, by kind of job.
SUCCESSES = {
    Job.Kind.PROGRAM_ENROLLMENTS: frozenset(ProgramEnrollmentStatus.values),
    Job.Kind.PROGRAM_COURSE_ENROLLMENTS: frozenset(ProgramCourseEnrollmentStatus.values),
    Job.Kind.TRANSFER: frozenset(
        {TransferStatus.TRANSFERRED, TransferStatus.WOULD_TRANSFER, TransferStatus.ALREADY_TRANSFERRED}
    ),
}

# Columns of the results file.
RESULT_COLUMNS = ("student_key", "status", "detail")

# Whole attempts at a chunk whose transaction the database rolled back (a deadlock on MySQL
# rolls back the whole transaction, not just the statement) before it is run learner by learner.
CHUNK_ATTEMPTS = 3

# The ``error`` of a queued job whose task the broker did not take: it is sent again later.
JOB_NOT_SENT = (
    "Not sent to the workers yet: the task broker did not answer. It is sent again when the job's status is read."
)

# The job fields a chunk reads and writes; ``learners`` (large) is read once per run.
_PROGRESS_FIELDS = ("status", "cursor", "processed", "succeeded", "failed", "total", "kind")


class IdempotencyKeyReused(InvalidRequest):
    """The requester's idempotency key names a job of a different request."""

    code = "idempotency_key_reused"


@dataclass(frozen=True)
class JobSubmission:
    """A submitted job, and whether this call created it (False: an earlier identical submission's job)."""

    job: Job
    created: bool


# --- submitting --------------------------------------------------------------------------------


def submit_program_enrollments_job(
    *,
    program_uuid: UUID | str,
    requests: Iterable[dict],
    create: bool,
    update: bool,
    requested_by=None,
    idempotency_key: str | None = None,
    reason: str = "",
) -> JobSubmission:
    """Submit a write of many learners' program enrollments (``write_program_enrollments``) as a job.

    Every item is checked now, as the synchronous write checks it: a malformed item
    raises and nothing is stored. A status that is not a program enrollment status is
    the learner's ``invalid-status`` result, as there.

    Raises:
        ProgramDoesNotExist: the catalog does not know the program.
        InvalidRequest: a malformed argument, or ``idempotency_key`` already used for another request.
    """
    _check_mode(create, update)
    program = get_program(program_uuid)
    items = []
    for position, request in enumerate(requests):
        item = {
            "student_key": as_student_key(field(request, "student_key"), position=position),
            "status": _status(request, position),
        }
        curriculum = field(request, "curriculum_uuid")
        if create:
            if curriculum is None:
                raise InvalidRequest(f"item {position}: curriculum_uuid is required.")
            item["curriculum_uuid"] = str(as_uuid(curriculum, name=f"item {position}: curriculum_uuid"))
        items.append(item)
    return _submit(
        kind=Job.Kind.PROGRAM_ENROLLMENTS,
        program_uuid=program.uuid,
        parameters={"create": create, "update": update, "reason": reason},
        learners=items,
        requested_by=requested_by,
        idempotency_key=idempotency_key,
    )


def submit_program_course_enrollments_job(
    *,
    program_uuid: UUID | str,
    course_key,
    requests: Iterable[dict],
    create: bool,
    update: bool,
    requested_by=None,
    idempotency_key: str | None = None,
    reason: str = "",
) -> JobSubmission:
    """Submit a write of many learners' enrollments in one course run (``write_program_course_enrollments``).

    Raises:
        ProgramDoesNotExist: the catalog does not know the program.
        CourseDoesNotExist: the LMS does not know the course run.
        CourseNotInProgram: the course run is in none of the program's active curricula.
        InvalidRequest: a malformed argument, or ``idempotency_key`` already used for another request.
    """
    _check_mode(create, update)
    program = get_program(program_uuid)
    key = as_course_key(course_key)
    writing.check_course_in_program(program, key)
    items = []
    for position, request in enumerate(requests):
        item = {
            "student_key": as_student_key(field(request, "student_key"), position=position),
            "status": _status(request, position),
        }
        course_staff = field(request, "course_staff")
        if course_staff is not None:
            if not isinstance(course_staff, bool):
                raise InvalidRequest(f"item {position}: course_staff must be a boolean, not {course_staff!r}.")
            item["course_staff"] = course_staff
        items.append(item)
    return _submit(
        kind=Job.Kind.PROGRAM_COURSE_ENROLLMENTS,
        program_uuid=program.uuid,
        parameters={"course_key": str(key), "create": create, "update": update, "reason": reason},
        learners=items,
        requested_by=requested_by,
        idempotency_key=idempotency_key,
    )


def submit_transfer_job(
    *,
    from_program_uuid: UUID | str,
    to_program_uuid: UUID | str,
    to_curriculum_uuid: UUID | str | None = None,
    student_keys: Iterable[str] | None = None,
    course_keys: Iterable[str] | None = None,
    source_status: str | None = None,
    dry_run: bool = False,
    requested_by=None,
    idempotency_key: str | None = None,
    reason: str = "",
) -> JobSubmission:
    """Submit a transfer (``iter_transfer_program_enrollments``) as a job; ``student_keys`` None: every learner.

    The target curriculum is decided now (the target's first active one when not
    given), so that every chunk moves learners into the same curriculum. A transfer of
    every learner takes the source program's learners in id order as the job goes: a
    learner enrolled in the source while it runs is moved too if the job has not yet
    passed them.

    Raises:
        ProgramDoesNotExist: either program is not in the catalog.
        InvalidRequest: a malformed argument, or ``idempotency_key`` already used for another request.
    """
    source = get_program(from_program_uuid)
    target = get_program(to_program_uuid)
    if to_curriculum_uuid is None:
        active = [curriculum.uuid for curriculum in target.curricula if curriculum.is_active]
        to_curriculum_uuid = active[0] if active else None
    keys = None if student_keys is None else [as_student_key(key, position=i) for i, key in enumerate(student_keys)]
    courses = None if course_keys is None else [str(as_course_key(key)) for key in course_keys]
    # The transfer's own checks (programs differ, curriculum and courses of the target, source
    # status), run now so that a bad request is refused before anything is stored. The
    # generator checks its arguments on the first step; with no learner it writes nothing.
    for _ in transfers.iter_transfer_program_enrollments(
        from_program_uuid=source.uuid,
        to_program_uuid=target.uuid,
        to_curriculum_uuid=to_curriculum_uuid,
        student_keys=[],
        course_keys=courses,
        source_status=source_status,
        dry_run=True,
    ):
        pass  # pragma: no cover - no learner, no outcome
    if not isinstance(dry_run, bool):
        raise InvalidRequest(f"dry_run must be a boolean, not {dry_run!r}.")
    parameters = {
        "to_program_uuid": str(target.uuid),
        "to_curriculum_uuid": str(to_curriculum_uuid),
        "course_keys": courses,
        "source_status": source_status,
        "dry_run": dry_run,
        "every_learner": keys is None,
        "reason": reason,
    }
    return _submit(
        kind=Job.Kind.TRANSFER,
        program_uuid=source.uuid,
        parameters=parameters,
        learners=keys or [],
        requested_by=requested_by,
        idempotency_key=idempotency_key,
    )


def _check_mode(create, update) -> None:
    if not isinstance(create, bool) or not isinstance(update, bool) or not (create or update):
        raise InvalidRequest("A write must allow creating, updating, or both.")


def _status(request, position: int) -> str:
    status = field(request, "status")
    if not isinstance(status, str):
        raise InvalidRequest(f"item {position}: status must be a string, not {status!r}.")
    return status


def _fingerprint(kind, program_uuid, parameters, learners, requested_by) -> str:
    user = getattr(requested_by, "pk", None)
    text = json.dumps([kind, str(program_uuid), parameters, learners, user], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _submit(*, kind, program_uuid, parameters, learners, requested_by, idempotency_key) -> JobSubmission:
    if idempotency_key is not None:
        if not isinstance(idempotency_key, str) or not idempotency_key.strip() or len(idempotency_key) > 255:
            raise InvalidRequest("The idempotency key must be a non-blank string of at most 255 characters.")
    if requested_by is not None and not getattr(requested_by, "pk", None):
        requested_by = None  # an anonymous or unsaved user: no one to name
    fingerprint = _fingerprint(kind, program_uuid, parameters, learners, requested_by)
    total = None if parameters.get("every_learner") else len(learners)
    keyed = idempotency_key is not None and requested_by is not None
    # Whether the new job is the one an identical submission without a key would find. A keyed job
    # is not, when another job of the same request is pending: the key alone names its job.
    pending_fingerprint = fingerprint
    for _attempt in range(3):
        existing = _existing(requested_by, idempotency_key, fingerprint)
        if existing is not None:
            if not existing.is_finished:
                # Sent again: a job whose run was lost (a process that ended mid-job) goes on; one that
                # runs still is unaffected (its chunks are serialized on its row).
                transaction.on_commit(partial(_enqueue, existing.pk))
            return JobSubmission(existing, created=False)
        try:
            with transaction.atomic():
                job = Job.objects.create(
                    kind=kind,
                    program_uuid=program_uuid,
                    requested_by=requested_by,
                    parameters=parameters,
                    learners=learners,
                    total=total,
                    idempotency_key=idempotency_key,
                    pending_fingerprint=pending_fingerprint,
                )
                transaction.on_commit(partial(_enqueue, job.pk))
        except IntegrityError:
            # The same key committed first (the next turn returns its job); or, for a keyed
            # submission whose key is still free, another pending job of the same request.
            if keyed:
                pending_fingerprint = None
            continue
        return JobSubmission(job, created=True)
    raise InvalidRequest("The job could not be submitted; send it again.")


def _existing(requested_by, idempotency_key, fingerprint) -> Job | None:
    """The job an earlier submission made: the requester's job of this idempotency key, or the same request's.

    With a key (and a requester), the key alone decides. A job of the same request made
    without the key, or under another key, is not this key's job: were it returned, the
    key would be stored nowhere, and once that job had finished the key would make a new one.

    Raises:
        IdempotencyKeyReused: the idempotency key was used for a different request.
    """
    if idempotency_key is not None and requested_by is not None:
        job = Job.objects.defer("learners").filter(requested_by=requested_by, idempotency_key=idempotency_key).first()
        if job is not None:
            if job.pending_fingerprint not in (None, fingerprint) or (
                job.pending_fingerprint is None
                and _fingerprint(job.kind, job.program_uuid, job.parameters, _learners(job), job.requested_by)
                != fingerprint
            ):
                raise IdempotencyKeyReused("This idempotency key was already used for a different request.")
        return job
    return Job.objects.defer("learners").filter(pending_fingerprint=fingerprint).first()


def _learners(job: Job) -> list:
    return Job.objects.filter(pk=job.pk).values_list("learners", flat=True).get()


def _enqueue(job_id, *, was_not_sent: bool = False) -> None:
    """Send the job's task to the workers (without a broker: run it here).

    A broker that cannot be reached fails no request: the job stays queued, its ``error``
    says it was not sent, and a read of its status sends it again (``resume_stalled_job``),
    which clears that ``error`` (``was_not_sent``) once the broker has taken the task.
    """
    from program_enrollments import tasks  # the tasks module imports this one

    try:
        tasks.run_job.delay(str(job_id))
    except Exception:  # noqa: BLE001 - kombu's OperationalError, or any failure of the broker's client
        if _runs_in_process():
            raise  # not the broker: the job itself, run here
        log.exception("Job %s could not be sent to the workers; it is sent again when its status is read.", job_id)
        Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(error=JOB_NOT_SENT, updated=timezone.now())
        return
    if was_not_sent:
        Job.objects.filter(pk=job_id, error=JOB_NOT_SENT).update(error="")


# --- reading -----------------------------------------------------------------------------------


def get_job(job_id: UUID | str) -> Job | None:
    """The job (its learners left unread), or None when there is no such job."""
    try:
        job_id = as_uuid(job_id, name="job_id")
    except InvalidRequest:
        return None
    return Job.objects.defer("learners").select_related("requested_by").filter(pk=job_id).first()


def job_status_counts(job: Job) -> dict[str, int]:
    """How many of the job's learners got each result status so far."""
    rows = JobResult.objects.filter(job=job).values_list("status").annotate(count=Count("id")).order_by("status")
    return dict(rows)


def iter_job_results_csv(job: Job) -> Iterator[str]:
    """The job's per-learner results as CSV lines (header first), in the job's order, read in pages."""

    class _Line:
        def write(self, value):
            return value

    writer = csv.writer(_Line())
    yield writer.writerow(RESULT_COLUMNS)
    rows = JobResult.objects.filter(job=job).order_by("position").values_list("student_key", "status", "detail")
    for row in rows.iterator(chunk_size=2000):
        yield writer.writerow(row)


# --- running -----------------------------------------------------------------------------------


class JobNotFound(ProgramEnrollmentsError):
    """No job has the id."""

    code = "job_does_not_exist"


@dataclass(frozen=True)
class _Run:
    """What every chunk of one run of a job needs, read once."""

    job_id: UUID
    kind: str
    program_uuid: UUID
    parameters: dict
    learners: list
    duplicated: frozenset[str]
    actor: object
    size: int

    @property
    def every_learner(self) -> bool:
        return bool(self.parameters.get("every_learner"))


def run_job(job_id: UUID | str, *, chunk_size: int | None = None, max_chunks: int | None = None) -> Job:
    """Run a job to its end from where its last committed chunk left it; return it.

    Safe to call again at any time, also while another call runs the same job: the
    chunks are serialized on the job's row and each is applied once. A finished job
    is returned as it is. ``chunk_size`` (at most the ``WRITE_CHUNK_SIZE`` setting, its
    default) is the number of learners per transaction; ``max_chunks`` stops after that
    many chunks (the job stays ``running``; a later call goes on).

    A domain error that concerns the whole job (a program that left the catalog)
    marks it ``failed`` with the reason. Database errors propagate, the job left as
    it was after its last committed chunk, for the caller to retry.

    Raises:
        JobNotFound: there is no such job.
        DatabaseError: the database failed (the job goes on from its last committed chunk when run again).
    """
    job = _start(job_id)
    if job.is_finished:
        return job
    learners = _learners(job)
    run = _Run(
        job_id=job.pk,
        kind=job.kind,
        program_uuid=job.program_uuid,
        parameters=job.parameters,
        learners=learners,
        duplicated=_duplicated_keys(job.kind, learners),
        actor=job.requested_by,  # read after the lock: FOR UPDATE cannot take an outer join (PostgreSQL)
        size=max(1, min(chunk_size or conf.get("WRITE_CHUNK_SIZE"), conf.get("WRITE_CHUNK_SIZE"))),
    )
    done = 0
    try:
        while max_chunks is None or done < max_chunks:
            if not _run_chunk(run):
                break
            done += 1
    except ProgramEnrollmentsError as error:
        fail_job(job.pk, str(error))
    return Job.objects.defer("learners").get(pk=job.pk)


def fail_job(job_id: UUID | str, message: str) -> None:
    """Mark an unfinished job ``failed`` with ``message`` (what its chunks committed stays, with its results)."""
    log.warning("Job %s failed: %s", job_id, message)
    now = timezone.now()
    Job.objects.filter(pk=job_id, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).update(
        status=Job.Status.FAILED, error=message, finished=now, updated=now, pending_fingerprint=None
    )


def _start(job_id) -> Job:
    try:
        pk = as_uuid(job_id, name="job_id")
    except InvalidRequest as error:
        raise JobNotFound(f"Job {job_id} does not exist.") from error
    with transaction.atomic():
        job = Job.objects.select_for_update().defer("learners").filter(pk=pk).first()
        if job is None:
            raise JobNotFound(f"Job {job_id} does not exist.")
        if job.is_finished:
            return job
        changed = {"status": Job.Status.RUNNING, "attempts": job.attempts + 1}
        if job.error == JOB_NOT_SENT:
            changed["error"] = ""
        if job.started is None:
            changed["started"] = timezone.now()
        if job.total is None and job.parameters.get("every_learner"):
            changed["total"] = _program_learners(job.program_uuid).count()
        for name, value in changed.items():
            setattr(job, name, value)
        job.save(update_fields=[*changed, "updated"])
    return job


def _duplicated_keys(kind, learners) -> frozenset[str]:
    """Case-folded student keys that the job names more than once (every copy is ``duplicated``)."""
    keys = (item if kind == Job.Kind.TRANSFER else item["student_key"] for item in learners)
    counts = Counter(normalize_student_key(key) for key in keys)
    return frozenset(key for key, count in counts.items() if count > 1)


def _program_learners(program_uuid):
    # The transfer of every learner takes the learners with a student key, as the API's does.
    return ProgramEnrollment.objects.for_program(program_uuid).filter(external_user_key__isnull=False)


class _Broken(Exception):
    """The chunk's transaction was rolled back under it by the database: run it again from the start."""


def _run_chunk(run: _Run) -> bool:
    """Run the job's next chunk; False when there was none left (the job is then finished)."""
    for attempt in range(1, CHUNK_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                return _chunk(run, run.size)
        except (_Broken, OperationalError) as error:
            log.info("Job %s: a chunk was rolled back (attempt %d/%d): %r", run.job_id, attempt, CHUNK_ATTEMPTS, error)
    # The chunk keeps being rolled back: learner by learner, each with its result in its own transaction.
    for _ in range(run.size):
        try:
            with transaction.atomic():
                if not _chunk(run, 1):
                    return False
        except (_Broken, OperationalError):
            log.exception("Job %s: one learner could not be written; reported internal-error.", run.job_id)
            with transaction.atomic():
                _record_failure(run)
    return True


def _lock(job_id) -> Job | None:
    """The job's progress, its row locked until the end of the transaction; None once it is finished."""
    job = Job.objects.select_for_update().only(*_PROGRESS_FIELDS).get(pk=job_id)
    return None if job.is_finished else job


def _chunk(run: _Run, size: int) -> bool:
    """In the caller's transaction: lock the job, apply the chunk after its cursor, record it."""
    job = _lock(run.job_id)
    if job is None:
        return False
    positions, keys, items, next_cursor = _next_chunk(run, job, size)
    if not positions:
        _finish(job)
        return False
    outcomes = _apply(run, keys, items)
    if transaction.get_connection().needs_rollback:
        raise _Broken("the database rolled the chunk's transaction back")
    _record(job, positions, keys, outcomes, next_cursor)
    return True


def _next_chunk(run: _Run, job: Job, size: int):
    """Positions, student keys and request items of the chunk after the cursor, and the cursor after it."""
    if run.every_learner:
        rows = list(
            _program_learners(run.program_uuid)
            .filter(id__gt=job.cursor)
            .order_by("id")
            .values_list("id", "external_user_key")[:size]
        )
        keys = [key for _, key in rows]
        positions = list(range(job.processed, job.processed + len(rows)))
        return positions, keys, keys, rows[-1][0] if rows else job.cursor
    start = job.cursor
    chunk = run.learners[start : start + size]
    positions = list(range(start, start + len(chunk)))
    keys = chunk if run.kind == Job.Kind.TRANSFER else [item["student_key"] for item in chunk]
    return positions, keys, chunk, start + len(chunk)


def _apply(run: _Run, keys, items) -> list[tuple[str, str]]:
    """Apply one chunk through the API; (status, detail) per learner, in chunk order."""
    parameters = run.parameters
    reason = parameters.get("reason") or f"Job {run.job_id}"
    folded = [normalize_student_key(key) for key in keys]
    unique = [item for item, key in zip(items, folded, strict=True) if key not in run.duplicated]
    by_key: dict[str, tuple[str, str]] = {}
    if unique and run.kind == Job.Kind.TRANSFER:
        for outcome in transfers.iter_transfer_program_enrollments(
            from_program_uuid=run.program_uuid,
            to_program_uuid=parameters["to_program_uuid"],
            to_curriculum_uuid=parameters["to_curriculum_uuid"],
            student_keys=unique,
            course_keys=parameters.get("course_keys"),
            source_status=parameters.get("source_status"),
            dry_run=parameters.get("dry_run", False),
            actor=run.actor,
            reason=reason,
            chunk_size=len(unique),
        ):
            detail = outcome.detail or ", ".join(outcome.courses)
            by_key[normalize_student_key(outcome.student_key)] = (outcome.status, detail)
    elif unique:
        if run.kind == Job.Kind.PROGRAM_ENROLLMENTS:
            statuses = writing.write_program_enrollments(
                program_uuid=run.program_uuid,
                requests=unique,
                create=parameters["create"],
                update=parameters["update"],
                actor=run.actor,
                reason=reason,
            )
        else:
            statuses = writing.write_program_course_enrollments(
                program_uuid=run.program_uuid,
                course_key=parameters["course_key"],
                requests=unique,
                create=parameters["create"],
                update=parameters["update"],
                actor=run.actor,
                reason=reason,
            )
        by_key = {normalize_student_key(key): (status, "") for key, status in statuses.items()}
    missing = (TransferStatus.INTERNAL_ERROR, "")
    duplicated = (TransferStatus.DUPLICATED, "")
    return [duplicated if key in run.duplicated else by_key.get(key, missing) for key in folded]


def _record(job: Job, positions, keys, outcomes, next_cursor) -> None:
    JobResult.objects.bulk_create(
        JobResult(job_id=job.pk, position=position, student_key=key, status=status, detail=detail)
        for position, key, (status, detail) in zip(positions, keys, outcomes, strict=True)
    )
    successes = SUCCESSES[job.kind]
    succeeded = sum(1 for status, _ in outcomes if status in successes)
    job.processed += len(positions)
    job.succeeded += succeeded
    job.failed += len(positions) - succeeded
    job.cursor = next_cursor
    job.save(update_fields=["processed", "succeeded", "failed", "cursor", "updated"])


def _record_failure(run: _Run) -> None:
    """Report the next learner ``internal-error`` (nothing of theirs was written) and go past them."""
    job = _lock(run.job_id)
    if job is None:
        return
    positions, keys, _, next_cursor = _next_chunk(run, job, 1)
    if positions:
        _record(job, positions, keys, [(TransferStatus.INTERNAL_ERROR, "")], next_cursor)


def _finish(job: Job) -> None:
    job.status = Job.Status.SUCCEEDED
    job.finished = timezone.now()
    job.pending_fingerprint = None
    job.total = job.processed
    job.save(update_fields=["status", "finished", "pending_fingerprint", "total", "updated"])


# --- upkeep ------------------------------------------------------------------------------------


def resume_stalled_job(job: Job) -> bool:
    """Send the task of a job again if it has lost its worker, or was never sent; True when it was sent.

    A running job commits a chunk every few seconds; one with no committed chunk for
    ``STALLED_JOB_SECONDS`` is taken as lost (its worker was killed, and a Redis broker
    would deliver its message again only after its visibility timeout, an hour by
    default). A queued job whose task could not be sent (the broker did not answer) is
    sent again after the same time. The job's ``updated`` moves to now in the same
    conditional ``UPDATE`` that claims it, so that however many callers ask at once
    (status reads, several processes), the task is sent once per period. A job that was
    only slow gets a second delivery, which is harmless: the chunks are serialized on the
    job's row. Without a broker (tasks run in-process) nothing is sent: the caller's
    request would run the job.
    """
    unsent = job.status == Job.Status.QUEUED and job.error == JOB_NOT_SENT
    if not (job.status == Job.Status.RUNNING or unsent) or _runs_in_process():
        return False
    now = timezone.now()
    cutoff = now - timedelta(seconds=conf.get("STALLED_JOB_SECONDS"))
    if job.updated is not None and job.updated >= cutoff:
        return False  # the usual answer to a read, without a query
    stalled = Q(status=Job.Status.RUNNING) | Q(status=Job.Status.QUEUED, error=JOB_NOT_SENT)
    return _send_again(job.pk, job.status, job.updated, stalled & Q(updated__lt=cutoff), now)


def resume_stalled_jobs(*, idle_minutes: int) -> list[UUID]:
    """Send again every job that lost its task; return their ids (the periodic task ``resume_stalled_jobs``).

    Those ``resume_stalled_job`` sends (running, or never sent, and idle for
    ``STALLED_JOB_SECONDS``, or for ``idle_minutes`` if that is shorter), and queued jobs
    idle for ``idle_minutes``: a message the broker lost, or an in-process run whose
    process ended. Each is claimed as ``resume_stalled_job`` claims it, so a job waiting in
    a long queue is sent again once per ``idle_minutes``, not at every run of the task.
    """
    now = timezone.now()
    forgotten = now - timedelta(minutes=idle_minutes)
    lost = max(now - timedelta(seconds=conf.get("STALLED_JOB_SECONDS")), forgotten)
    stalled = (
        Q(status=Job.Status.RUNNING, updated__lt=lost)
        | Q(status=Job.Status.QUEUED, error=JOB_NOT_SENT, updated__lt=lost)
        | Q(status=Job.Status.QUEUED, updated__lt=forgotten)
    )
    candidates = Job.objects.filter(stalled).order_by("created").values_list("pk", "status", "updated")
    return [job_id for job_id, status, updated in candidates if _send_again(job_id, status, updated, stalled, now)]


def _send_again(job_id, status, updated, stalled: Q, now) -> bool:
    """Claim the job if it is still ``stalled`` (its ``updated`` moved to now) and send its task; True if sent."""
    if not Job.objects.filter(stalled, pk=job_id).update(updated=now):
        return False  # it moved on, or another caller claimed it
    log.warning("Job %s (%s) has made no progress since %s: its task is sent again.", job_id, status, updated)
    # A queued job whose task the broker did not take loses that error once it has taken it.
    transaction.on_commit(partial(_enqueue, job_id, was_not_sent=status == Job.Status.QUEUED))
    return True


def _runs_in_process() -> bool:
    from program_enrollments import tasks  # the tasks module imports this one

    return bool(tasks.run_job.app.conf.task_always_eager)


def delete_finished_jobs(*, retention_days: int) -> int:
    """Delete the jobs (and their results) finished more than ``retention_days`` ago; return how many.

    Raises:
        InvalidRequest: ``retention_days`` is not a positive integer.
    """
    if not isinstance(retention_days, int) or isinstance(retention_days, bool) or retention_days < 1:
        raise InvalidRequest(f"retention_days must be a positive integer, not {retention_days!r}.")
    cutoff = timezone.now() - timedelta(days=retention_days)
    ids = list(Job.objects.filter(finished__lt=cutoff).values_list("pk", flat=True))
    for start in range(0, len(ids), 500):
        batch = ids[start : start + 500]
        with transaction.atomic():
            JobResult.objects.filter(job_id__in=batch).delete()
            Job.objects.filter(pk__in=batch).delete()
    return len(ids)
