"""The integrity audit: finding (and optionally repairing) enrollments that broke the app's invariants.

The invariants are held by the database and the Python API, but raw SQL, a
restored backup or a host that changed course enrollments behind the app's
back can still break them. The audit looks for seven kinds of problem
(``AuditKind``):

``rule-violation``
    More than one active program course enrollment (PCE) of one learner in one
    course run. The learner is the program enrollment's (PE's) ``learner_ref``,
    the true identity, so a violation that identity drift hides from the
    unique index is found too. Reported only: which program keeps the learner
    is a decision for a person.
``stale-identity``
    A waiting PE whose ``learner_ref`` names another organization than the
    catalog gives its program now: the program was unknown to the catalog when
    the PE was written (or adopted from Open edX's built-in app) and is known
    now. Repaired by rewriting the identity (the database copies it to the
    PE's course enrollments), unless the learner, under the new identity, is
    already active in one of the same course runs through another program
    (then reported only: which program keeps the learner is a person's call).
``identity-drift``
    A PCE whose copy of ``learner_ref`` differs from its PE's. Repaired by
    rewriting the copy, unless the rewrite would make the learner active twice
    in the course (then reported only).
``foreign-course-enrollment``
    A PCE pointing at a course enrollment that is not its learner's: a waiting
    learner's row (no user yet, so no course enrollment can be theirs), or an
    inactive row pointing at another user's course enrollment or at one in
    another course run. The database refuses such a pointer since migration
    0015; older or restored data may hold one. An inactive row's pointer is
    cleared (the course enrollment is left as it is). An active waiting row is
    reported only: someone may be learning through that course enrollment, so
    the audit never cuts it off; link the learner, or make the row inactive.
    (An active realized row pointing elsewhere is ``missing-course-enrollment``.)
``missing-course-enrollment``
    An active PCE of a realized learner whose course enrollment is missing,
    inactive, or not the one the PCE points at. Repaired by enrolling the
    learner again through the LMS backend and pointing the PCE at the result.
``unbacked-course-enrollment``
    An active masters-mode course enrollment that no active PCE backs.
    Repaired by deactivating it through the LMS backend.
``waiting-too-long``
    A waiting PE (no user yet) created more than a given number of days ago.
    Informational: reported, never a failure.

Every scan reads in chunks (keyset pagination on ids) with a fixed number of
queries per chunk, plus backend calls per distinct course run in the chunk:
the cost grows with the number of chunks, never with a query per learner.
Repairs lock the rows they touch (program enrollments first, then program
course enrollments, the order the writers use), decide again on what they
read under the lock, and run in one transaction per chunk.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from opaque_keys.edx.keys import CourseKey

from program_enrollments import conf
from program_enrollments.api import _history
from program_enrollments.backends import LMSBackend, catalog_backend, lms_backend
from program_enrollments.constants import MASTERS_MODE, ProgramCourseEnrollmentStatus
from program_enrollments.exceptions import InvalidRequest
from program_enrollments.identity import learner_ref, user_ref
from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment

log = logging.getLogger(__name__)

ACTIVE = ProgramCourseEnrollmentStatus.ACTIVE

REPAIR_REASON_PREFIX = "Repaired by the integrity audit: "


class AuditKind:
    """The kinds of problem the integrity audit looks for, in the order it looks."""

    RULE_VIOLATION = "rule-violation"
    STALE_IDENTITY = "stale-identity"
    IDENTITY_DRIFT = "identity-drift"
    FOREIGN_COURSE_ENROLLMENT = "foreign-course-enrollment"
    MISSING_COURSE_ENROLLMENT = "missing-course-enrollment"
    UNBACKED_COURSE_ENROLLMENT = "unbacked-course-enrollment"
    WAITING_TOO_LONG = "waiting-too-long"

    ALL = (
        RULE_VIOLATION,
        STALE_IDENTITY,
        IDENTITY_DRIFT,
        FOREIGN_COURSE_ENROLLMENT,
        MISSING_COURSE_ENROLLMENT,
        UNBACKED_COURSE_ENROLLMENT,
        WAITING_TOO_LONG,
    )
    # Found for information: they break no invariant, so they never count as problems left.
    INFORMATIONAL = frozenset({WAITING_TOO_LONG})


@dataclass(frozen=True)
class AuditFinding:
    """One problem the audit found, and whether it repaired it."""

    kind: str
    detail: str
    program_enrollment_ids: tuple[int, ...] = ()
    program_course_enrollment_ids: tuple[int, ...] = ()
    course_enrollment_id: int | None = None
    student_key: str | None = None
    user_id: int | None = None
    course_key: str | None = None
    repaired: bool = False

    @property
    def unresolved(self) -> bool:
        """Whether the finding is a problem that is still there (not informational, not repaired)."""
        return not self.repaired and self.kind not in AuditKind.INFORMATIONAL


@dataclass(frozen=True)
class AuditReport:
    """Everything one audit found, in the order it was found."""

    findings: tuple[AuditFinding, ...] = field(default_factory=tuple)
    kinds_checked: tuple[str, ...] = ()

    @property
    def clean(self) -> bool:
        """Whether the audit found nothing at all."""
        return not self.findings

    @property
    def unresolved(self) -> tuple[AuditFinding, ...]:
        """The problems still there after the audit (informational findings excluded)."""
        return tuple(finding for finding in self.findings if finding.unresolved)

    def of_kind(self, kind: str) -> tuple[AuditFinding, ...]:
        """The findings of one kind."""
        return tuple(finding for finding in self.findings if finding.kind == kind)

    def summary(self) -> dict[str, tuple[int, int]]:
        """``(found, repaired)`` for each kind checked, in the order the audit checks them."""
        counts = {kind: [0, 0] for kind in self.kinds_checked}
        for finding in self.findings:
            found_repaired = counts.setdefault(finding.kind, [0, 0])
            found_repaired[0] += 1
            found_repaired[1] += int(finding.repaired)
        return {kind: (found, repaired) for kind, (found, repaired) in counts.items()}


def audit_program_enrollments(
    *,
    waiting_older_than_days: int | None = None,
    fix: bool = False,
    actor=None,
    chunk_size: int | None = None,
) -> AuditReport:
    """Audit every program enrollment; see ``iter_audit_findings``.

    Returns every finding at once (use the iterator to stream a very large audit).

    Raises:
        InvalidRequest: a negative or non-integer ``waiting_older_than_days`` or ``chunk_size``.
    """
    findings = tuple(
        iter_audit_findings(
            waiting_older_than_days=waiting_older_than_days, fix=fix, actor=actor, chunk_size=chunk_size
        )
    )
    return AuditReport(findings=findings, kinds_checked=_kinds_checked(waiting_older_than_days))


def iter_audit_findings(
    *,
    waiting_older_than_days: int | None = None,
    fix: bool = False,
    actor=None,
    chunk_size: int | None = None,
) -> Iterator[AuditFinding]:
    """Find the problems described in this module's docstring, chunk by chunk, yielding each as found.

    ``waiting_older_than_days`` None skips the waiting-too-long check. With
    ``fix``, repairable problems are repaired, each chunk in one transaction
    (committed before its findings are yielded), with a history row per
    repaired program course enrollment (reason ``Repaired by the integrity
    audit: ...``, user ``actor``). A problem that is gone when its chunk is
    locked for the repair (another writer repaired it) is not reported.
    ``chunk_size`` defaults to the ``WRITE_CHUNK_SIZE`` setting.

    Raises:
        InvalidRequest: a negative or non-integer ``waiting_older_than_days`` or ``chunk_size``
            (raised before anything is read).
    """
    if waiting_older_than_days is not None and (
        isinstance(waiting_older_than_days, bool)
        or not isinstance(waiting_older_than_days, int)
        or waiting_older_than_days < 0
    ):
        raise InvalidRequest(
            f"waiting_older_than_days must be a non-negative integer, not {waiting_older_than_days!r}."
        )
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1):
        raise InvalidRequest(f"chunk_size must be a positive integer, not {chunk_size!r}.")
    return _audit(waiting_older_than_days, fix, actor, chunk_size or conf.get("WRITE_CHUNK_SIZE"))


def _kinds_checked(waiting_older_than_days: int | None) -> tuple[str, ...]:
    if waiting_older_than_days is None:
        return tuple(kind for kind in AuditKind.ALL if kind != AuditKind.WAITING_TOO_LONG)
    return AuditKind.ALL


def _audit(waiting_older_than_days: int | None, fix: bool, actor, size: int) -> Iterator[AuditFinding]:
    backend = lms_backend()
    yield from _rule_violations(size)
    # Identity first: the later checks match learners by identity.
    yield from _stale_identities(size, fix=fix, actor=actor)
    yield from _identity_drift(size, fix=fix, actor=actor)
    yield from _foreign_course_enrollments(size, fix=fix, actor=actor)
    # Enrolling before releasing: a course enrollment made active again is backed, never released.
    yield from _missing_course_enrollments(backend, size, fix=fix, actor=actor)
    yield from _unbacked_course_enrollments(backend, size, fix=fix)
    if waiting_older_than_days is not None:
        yield from _waiting_too_long(waiting_older_than_days, size)


def _chunks(queryset, fields: Iterable[str], size: int) -> Iterator[list[tuple]]:
    """The rows of ``queryset`` as value tuples (``id`` first), a chunk at a time in id order."""
    fields = ("id", *fields)
    last_id = 0
    while True:
        rows = list(queryset.filter(id__gt=last_id).order_by("id").values_list(*fields)[:size])
        if not rows:
            return
        last_id = rows[-1][0]
        yield rows


def _lock_program_enrollments(enrollments) -> None:
    """Lock the program enrollments of a queryset in id order, as the writers do (no deadlock with them).

    The lock is the first statement of its transaction: on MySQL the snapshot
    of the plain reads that follow is taken once it is held, so they see what
    a writer that held the rows committed.
    """
    list(enrollments.select_for_update().order_by("id").values_list("id", flat=True))


def _lock_course_rows(rows: Iterable[tuple[int, int]]) -> list[ProgramCourseEnrollment]:
    """Lock (row id, program enrollment id) pairs, program enrollments first; return the rows in id order."""
    rows = list(rows)
    _lock_program_enrollments(ProgramEnrollment.objects.filter(id__in={enrollment_id for _, enrollment_id in rows}))
    return list(
        ProgramCourseEnrollment.objects.select_for_update()
        .filter(id__in={row_id for row_id, _ in rows})
        .select_related("program_enrollment")
        .order_by("id")
    )


def _save_repairs(rows: list[ProgramCourseEnrollment], fields: list[str], *, actor, when) -> None:
    """Write repaired rows and their history; each row carries its reason as ``_change_reason``."""
    if not rows:
        return
    ProgramCourseEnrollment.objects.bulk_update(rows, [*fields, "modified"])
    _history.record(ProgramCourseEnrollment, rows, created=False, actor=actor, reason=REPAIR_REASON_PREFIX, when=when)
    for row in rows:
        del row._change_reason


def _repair_chunk(repair, *args, **kwargs) -> list[AuditFinding] | None:
    """Run ``repair`` in one transaction; None (and a log entry) when the database refuses it."""
    try:
        with transaction.atomic():
            return repair(*args, **kwargs)
    except DatabaseError:
        log.exception("The integrity audit could not repair a chunk; its problems are reported unrepaired.")
        return None


# --- rule violations ----------------------------------------------------------------------------


def _rule_violations(size: int) -> Iterator[AuditFinding]:
    """Active program course enrollments of one learner in one course run, more than one (report only)."""
    groups = (
        ProgramCourseEnrollment.objects.active()
        .values("program_enrollment__learner_ref", "course_key")
        .annotate(rows=Count("id"))
        .filter(rows__gt=1)
        .order_by("program_enrollment__learner_ref", "course_key")
        .values_list("program_enrollment__learner_ref", "course_key")
    )
    after: tuple[str, CourseKey] | None = None
    while True:
        page = groups
        if after is not None:
            ref, course_key = after
            page = page.filter(
                Q(program_enrollment__learner_ref__gt=ref)
                | Q(program_enrollment__learner_ref=ref, course_key__gt=course_key)
            )
        slots = list(page[:size])
        if not slots:
            return
        after = slots[-1]
        yield from _violation_findings(slots)


def _violation_findings(slots: list[tuple[str, CourseKey]]) -> Iterator[AuditFinding]:
    wanted = {(ref, str(course_key)) for ref, course_key in slots}
    rows = defaultdict(list)
    for row in (
        ProgramCourseEnrollment.objects.active()
        .filter(
            program_enrollment__learner_ref__in={ref for ref, _ in slots},
            course_key__in={course_key for _, course_key in slots},
        )
        .order_by("id")
        .values_list(
            "id",
            "program_enrollment_id",
            "program_enrollment__learner_ref",
            "course_key",
            "program_enrollment__external_user_key",
            "program_enrollment__user_id",
        )
    ):
        slot = (row[2], str(row[3]))
        if slot in wanted:
            rows[slot].append(row)
    for ref, course_key in slots:
        slot_rows = rows[(ref, str(course_key))]
        if len(slot_rows) < 2:
            continue  # deactivated since the grouping query
        row_ids = tuple(row[0] for row in slot_rows)
        enrollment_ids = tuple(row[1] for row in slot_rows)
        yield AuditFinding(
            kind=AuditKind.RULE_VIOLATION,
            detail=(
                f"{len(slot_rows)} active program course enrollments of one learner in one course run "
                f"(through program enrollments {', '.join(map(str, enrollment_ids))}); "
                "deactivate all but one through the API"
            ),
            program_enrollment_ids=enrollment_ids,
            program_course_enrollment_ids=row_ids,
            student_key=next((row[4] for row in slot_rows if row[4]), None),
            user_id=slot_rows[0][5],
            course_key=str(course_key),
        )


# --- identity drift -----------------------------------------------------------------------------


def _stale_identities(size: int, *, fix: bool, actor) -> Iterator[AuditFinding]:
    """Waiting program enrollments whose identity is not (the catalog's organization, their key) any more."""
    catalog = catalog_backend()
    waiting = ProgramEnrollment.objects.filter(user__isnull=True, external_user_key__isnull=False)
    for rows in _chunks(waiting, ("program_uuid", "external_user_key", "learner_ref"), size):
        programs = catalog.get_programs({program_uuid for _id, program_uuid, _key, _ref in rows})
        stale = []
        for enrollment_id, program_uuid, key, ref in rows:
            program = programs.get(program_uuid)
            if program is None:
                continue  # still unknown to the catalog: the unknown organization is the best there is
            expected = learner_ref(user_id=None, organization_key=program.organization_key, student_key=key)
            if expected != ref:
                stale.append(
                    AuditFinding(
                        kind=AuditKind.STALE_IDENTITY,
                        detail=f"the identity of waiting learner {key!r} does not name organization "
                        f"{program.organization_key!r}, which the catalog gives program {program_uuid} now",
                        program_enrollment_ids=(enrollment_id,),
                        student_key=key,
                    )
                )
        if fix:
            stale = [_repair_stale_identity(finding, actor=actor) for finding in stale]
        yield from stale


def _repair_stale_identity(finding: AuditFinding, *, actor) -> AuditFinding:
    """Rewrite one waiting learner's identity; the unique index refuses it if it would make two active rows."""
    now = timezone.now()
    (enrollment_id,) = finding.program_enrollment_ids
    try:
        with transaction.atomic():
            _lock_program_enrollments(ProgramEnrollment.objects.filter(id=enrollment_id, user__isnull=True))
            enrollment = ProgramEnrollment.objects.filter(id=enrollment_id, user__isnull=True).first()
            if enrollment is None:
                return replace(finding, repaired=True, detail=finding.detail + "; linked meanwhile")
            program = catalog_backend().get_program(enrollment.program_uuid)
            enrollment.learner_ref = learner_ref(
                user_id=None, organization_key=program.organization_key, student_key=enrollment.external_user_key
            )
            enrollment.modified = now
            # A plain UPDATE: the database trigger copies the identity to the course rows, and the
            # unique index judges the new identity there.
            ProgramEnrollment.objects.filter(id=enrollment.id).update(learner_ref=enrollment.learner_ref, modified=now)
            enrollment._change_reason = REPAIR_REASON_PREFIX + finding.detail
            _history.record(
                ProgramEnrollment, [enrollment], created=False, actor=actor, reason=REPAIR_REASON_PREFIX, when=now
            )
    except IntegrityError:
        return replace(
            finding,
            detail=finding.detail + "; not rewritten: under that identity the learner is already active in one of "
            "the same course runs through another program",
        )
    return replace(finding, repaired=True)


def _identity_drift(size: int, *, fix: bool, actor) -> Iterator[AuditFinding]:
    """Program course enrollments whose learner_ref is not their program enrollment's."""
    drifted = ProgramCourseEnrollment.objects.exclude(learner_ref=F("program_enrollment__learner_ref")).select_related(
        "program_enrollment"
    )
    last_id = 0
    while rows := list(drifted.filter(id__gt=last_id).order_by("id")[:size]):
        last_id = rows[-1].id
        findings = None
        if fix:
            findings = _repair_chunk(_repair_drift, [(row.id, row.program_enrollment_id) for row in rows], actor=actor)
        if findings is None:
            findings = [finding for _row, finding in _drift_findings(rows)]
        yield from findings


def _drift_findings(
    rows: list[ProgramCourseEnrollment],
) -> Iterator[tuple[ProgramCourseEnrollment | None, AuditFinding]]:
    """A finding per drifted row, with the row when it can be rewritten, None when that would make two active rows."""
    active = [row for row in rows if row.status == ACTIVE]
    # Who holds, right now, the slot each active drifted row would move into.
    holders = (
        {
            (ref, str(course_key)): row_id
            for ref, course_key, row_id in ProgramCourseEnrollment.objects.filter(
                active_learner_ref__in={row.program_enrollment.learner_ref for row in active},
                course_key__in={row.course_key for row in active},
            ).values_list("active_learner_ref", "course_key", "id")
        }
        if active
        else {}
    )
    for row in sorted(rows, key=lambda row: row.id):
        enrollment = row.program_enrollment
        detail = f"learner_ref is {row.learner_ref!r}, its program enrollment's is {enrollment.learner_ref!r}"
        slot = (enrollment.learner_ref, str(row.course_key))
        holder = holders.get(slot) if row.status == ACTIVE else None
        if holder is not None:
            detail += (
                f"; not rewritten: the learner is already active in the course run through "
                f"program course enrollment {holder}"
            )
        elif row.status == ACTIVE:
            # A later row of this chunk moving into the same slot is held off by this one.
            holders[slot] = row.id
        finding = AuditFinding(
            kind=AuditKind.IDENTITY_DRIFT,
            detail=detail,
            program_enrollment_ids=(enrollment.id,),
            program_course_enrollment_ids=(row.id,),
            student_key=enrollment.external_user_key,
            user_id=enrollment.user_id,
            course_key=str(row.course_key),
        )
        yield (row if holder is None else None), finding


def _repair_drift(row_ids: list[tuple[int, int]], *, actor) -> list[AuditFinding]:
    now = timezone.now()
    rows = [row for row in _lock_course_rows(row_ids) if row.learner_ref != row.program_enrollment.learner_ref]
    findings = []
    repaired = []
    for row, finding in _drift_findings(rows):
        if row is None:
            findings.append(finding)
            continue
        row._change_reason = REPAIR_REASON_PREFIX + finding.detail
        row.learner_ref = row.program_enrollment.learner_ref
        row.modified = now
        repaired.append(row)
        findings.append(replace(finding, repaired=True))
    _save_repairs(repaired, ["learner_ref"], actor=actor, when=now)
    return findings


# --- course enrollments of active learners ------------------------------------------------------


def _foreign_course_enrollments(size: int, *, fix: bool, actor) -> Iterator[AuditFinding]:
    """Rows pointing at a course enrollment that cannot be their learner's (see the module docstring)."""
    rows = ProgramCourseEnrollment.objects.filter(course_enrollment__isnull=False).filter(
        Q(program_enrollment__user__isnull=True) | ~Q(status=ACTIVE)
    )
    fields = [
        "program_enrollment_id",
        "status",
        "course_key",
        "course_enrollment_id",
        "program_enrollment__user_id",
        "program_enrollment__external_user_key",
        "course_enrollment__user_id",
        "course_enrollment__course_id",
    ]
    for chunk in _chunks(rows, fields, size):
        findings = []
        for row_id, enrollment_id, status, course_key, pointer, user_id, student_key, owner, course in chunk:
            if user_id is None:
                detail = f"a waiting learner's row points at course enrollment {pointer} of user {owner}"
            elif owner != user_id or str(course) != str(course_key):
                detail = f"the row points at course enrollment {pointer} of user {owner} in {course}"
            else:
                continue
            if status == ACTIVE:
                detail += (
                    "; the row is active, so the course enrollment is left to its user: link the learner "
                    "or make the row inactive"
                )
            findings.append(
                AuditFinding(
                    kind=AuditKind.FOREIGN_COURSE_ENROLLMENT,
                    detail=detail,
                    program_enrollment_ids=(enrollment_id,),
                    program_course_enrollment_ids=(row_id,),
                    course_enrollment_id=pointer,
                    student_key=student_key,
                    user_id=user_id,
                    course_key=str(course_key),
                )
            )
        if fix:
            inactive = {
                finding.program_course_enrollment_ids[0]: finding
                for finding in findings
                if "the row is active" not in finding.detail
            }
            if inactive:
                repaired = _repair_chunk(_clear_foreign_pointers, inactive, actor=actor)
                if repaired is not None:
                    findings = [repaired.get(finding.program_course_enrollment_ids[0], finding) for finding in findings]
        yield from findings


def _clear_foreign_pointers(findings: dict[int, AuditFinding], *, actor) -> dict[int, AuditFinding]:
    now = timezone.now()
    rows = [
        row
        for row in _lock_course_rows(
            (row_id, finding.program_enrollment_ids[0]) for row_id, finding in findings.items()
        )
        if row.status != ACTIVE and row.course_enrollment_id == findings[row.id].course_enrollment_id
    ]
    for row in rows:
        row.course_enrollment_id = None
        row.modified = now
        row._change_reason = REPAIR_REASON_PREFIX + findings[row.id].detail
    _save_repairs(rows, ["course_enrollment"], actor=actor, when=now)
    return {
        row.id: replace(findings[row.id], detail=f"{findings[row.id].detail}; pointer cleared", repaired=True)
        for row in rows
    }


def _missing_course_enrollments(backend: LMSBackend, size: int, *, fix: bool, actor) -> Iterator[AuditFinding]:
    """Active program course enrollments of realized learners without their active course enrollment."""
    candidates = ProgramCourseEnrollment.objects.active().filter(program_enrollment__user__isnull=False)
    fields = [
        "program_enrollment_id",
        "course_key",
        "course_enrollment_id",
        "program_enrollment__user_id",
        "program_enrollment__external_user_key",
    ]
    for chunk in _chunks(candidates, fields, size):
        states = _course_enrollment_states(
            backend, ((course_key, user_id) for _id, _pe, course_key, _ce, user_id, _key in chunk)
        )
        findings = []
        for row_id, enrollment_id, course_key, pointer, user_id, student_key in chunk:
            detail = _course_enrollment_problem(pointer, states.get((str(course_key), user_id)))
            if detail:
                findings.append(
                    AuditFinding(
                        kind=AuditKind.MISSING_COURSE_ENROLLMENT,
                        detail=detail,
                        program_enrollment_ids=(enrollment_id,),
                        program_course_enrollment_ids=(row_id,),
                        course_enrollment_id=pointer,
                        student_key=student_key,
                        user_id=user_id,
                        course_key=str(course_key),
                    )
                )
        if fix and findings:
            repaired = _repair_chunk(
                _repair_course_enrollments,
                backend,
                [(finding.program_course_enrollment_ids[0], finding.program_enrollment_ids[0]) for finding in findings],
                actor=actor,
            )
            findings = findings if repaired is None else repaired
        yield from findings


def _course_enrollment_states(
    backend: LMSBackend, pairs: Iterable[tuple[CourseKey, int]]
) -> dict[tuple[str, int], tuple[int, str, bool]]:
    """The LMS's ``(id, mode, is_active)`` for each (course run, user): one backend call per course run."""
    users_by_course: dict[str, set[int]] = defaultdict(set)
    keys: dict[str, CourseKey] = {}
    for course_key, user_id in pairs:
        keys[str(course_key)] = course_key
        users_by_course[str(course_key)].add(user_id)
    states = {}
    for course, user_ids in users_by_course.items():
        for user_id, state in backend.get_enrollments(keys[course], user_ids).items():
            states[(course, user_id)] = state
    return states


def _course_enrollment_problem(pointer: int | None, state: tuple[int, str, bool] | None) -> str:
    """What is wrong with an active row's course enrollment, or "" when nothing is."""
    if state is None:
        if pointer is None:
            return "the learner has no course enrollment in the course run"
        return f"course enrollment {pointer} does not exist: the learner has no course enrollment in the course run"
    enrollment_id, _mode, is_active = state
    if not is_active:
        problem = f"course enrollment {enrollment_id} is inactive"
        if pointer != enrollment_id:
            problem += f" (and the row points at {pointer if pointer is not None else 'none'})"
        return problem
    if pointer != enrollment_id:
        return (
            f"the row points at course enrollment {pointer if pointer is not None else 'none'} "
            f"instead of the learner's {enrollment_id}"
        )
    return ""


def _repair_course_enrollments(backend: LMSBackend, row_ids: list[tuple[int, int]], *, actor) -> list[AuditFinding]:
    now = timezone.now()
    rows = [row for row in _lock_course_rows(row_ids) if row.status == ACTIVE and row.program_enrollment.user_id]
    states = _course_enrollment_states(backend, ((row.course_key, row.program_enrollment.user_id) for row in rows))
    broken = []
    for row in rows:
        detail = _course_enrollment_problem(
            row.course_enrollment_id, states.get((str(row.course_key), row.program_enrollment.user_id))
        )
        if detail:
            broken.append((row, detail))

    users_by_course: dict[str, set[int]] = defaultdict(set)
    keys: dict[str, CourseKey] = {}
    for row, _detail in broken:
        keys[str(row.course_key)] = row.course_key
        users_by_course[str(row.course_key)].add(row.program_enrollment.user_id)
    enrolled: dict[tuple[str, int], int] = {}
    for course, user_ids in users_by_course.items():
        for user_id, enrollment_id in backend.enroll(keys[course], user_ids, active=True).items():
            enrolled[(course, user_id)] = enrollment_id

    findings = []
    for row, detail in broken:
        pointer = row.course_enrollment_id
        row.course_enrollment_id = enrolled[(str(row.course_key), row.program_enrollment.user_id)]
        row.modified = now
        row._change_reason = REPAIR_REASON_PREFIX + detail
        findings.append(
            AuditFinding(
                kind=AuditKind.MISSING_COURSE_ENROLLMENT,
                detail=f"{detail}; enrolled, now course enrollment {row.course_enrollment_id}",
                program_enrollment_ids=(row.program_enrollment_id,),
                program_course_enrollment_ids=(row.id,),
                course_enrollment_id=pointer,
                student_key=row.program_enrollment.external_user_key,
                user_id=row.program_enrollment.user_id,
                course_key=str(row.course_key),
                repaired=True,
            )
        )
    _save_repairs([row for row, _detail in broken], ["course_enrollment"], actor=actor, when=now)
    return findings


def _unbacked_course_enrollments(backend: LMSBackend, size: int, *, fix: bool) -> Iterator[AuditFinding]:
    """Active masters-mode course enrollments that no active program course enrollment backs."""
    # Only a program activates a course enrollment in masters mode (activation enrolls or
    # upgrades to it), so an active one with no active program course enrollment behind it
    # is access whose release was missed: deactivating it is that release.
    for chunk in backend.iter_active_enrollments_in_mode(MASTERS_MODE, size):
        backed = _backed_pairs((course_key, user_id) for _id, user_id, course_key in chunk)
        findings = [
            AuditFinding(
                kind=AuditKind.UNBACKED_COURSE_ENROLLMENT,
                detail="an active masters-mode course enrollment that no active program course enrollment backs",
                course_enrollment_id=enrollment_id,
                user_id=user_id,
                course_key=course_key,
            )
            for enrollment_id, user_id, course_key in chunk
            if (course_key, user_id) not in backed
        ]
        if fix and findings:
            repaired = _repair_chunk(_release_course_enrollments, backend, findings)
            findings = findings if repaired is None else repaired
        yield from findings


def _backed_pairs(pairs: Iterable[tuple[str, int]]) -> set[tuple[str, int]]:
    """The (course run, user) pairs among ``pairs`` that an active program course enrollment backs."""
    pairs = set(pairs)
    if not pairs:
        return set()
    user_ids = {user_id for _, user_id in pairs}
    # Backed through the row's identity or its program enrollment's user: on a drifted row the
    # two differ, and a course enrollment that either backs is kept (deactivating removes access).
    rows = (
        ProgramCourseEnrollment.objects.active()
        .filter(course_key__in={course_key for course_key, _ in pairs})
        .filter(
            Q(active_learner_ref__in={user_ref(user_id) for user_id in user_ids})
            | Q(program_enrollment__user_id__in=user_ids)
            | Q(course_enrollment__user_id__in=user_ids)
        )
        .values_list("course_key", "active_learner_ref", "program_enrollment__user_id", "course_enrollment__user_id")
    )
    refs = {user_ref(user_id): user_id for user_id in user_ids}
    backed = set()
    for course_key, ref, user_id, owner in rows:
        # An active row pointing at the course enrollment backs it too, whoever the row's learner
        # is (a foreign-course-enrollment finding): someone may be learning through it.
        backed.add((str(course_key), user_id))
        backed.add((str(course_key), owner))
        if ref in refs:
            backed.add((str(course_key), refs[ref]))
    return backed & pairs


def _release_course_enrollments(backend: LMSBackend, findings: list[AuditFinding]) -> list[AuditFinding]:
    # A writer activating one of these learners locks their program enrollments first:
    # holding those locks, the audit sees any activation committed before it decides.
    _lock_program_enrollments(ProgramEnrollment.objects.filter(user_id__in={finding.user_id for finding in findings}))
    backed = _backed_pairs((finding.course_key, finding.user_id) for finding in findings)
    states = _course_enrollment_states(
        backend,
        ((CourseKey.from_string(finding.course_key), finding.user_id) for finding in findings),
    )
    to_release: dict[str, list[AuditFinding]] = defaultdict(list)
    for finding in findings:
        state = states.get((finding.course_key, finding.user_id))
        still_unbacked = (finding.course_key, finding.user_id) not in backed
        if still_unbacked and state is not None and state[1] == MASTERS_MODE and state[2]:
            to_release[finding.course_key].append(finding)
    repaired = []
    for course, course_findings in to_release.items():
        backend.deactivate(CourseKey.from_string(course), [finding.user_id for finding in course_findings])
        repaired.extend(
            replace(finding, detail=f"{finding.detail}; deactivated", repaired=True) for finding in course_findings
        )
    return sorted(repaired, key=lambda finding: finding.course_enrollment_id)


# --- waiting learners ---------------------------------------------------------------------------


def _waiting_too_long(days: int, size: int) -> Iterator[AuditFinding]:
    """Waiting program enrollments created more than ``days`` days ago (informational)."""
    now = timezone.now()
    old = ProgramEnrollment.objects.waiting().filter(created__lt=now - timedelta(days=days))
    for chunk in _chunks(old, ["external_user_key", "program_uuid", "created"], size):
        for enrollment_id, student_key, program_uuid, created in chunk:
            yield AuditFinding(
                kind=AuditKind.WAITING_TOO_LONG,
                detail=(
                    f"waiting for a user in program {program_uuid} since {created:%Y-%m-%d} "
                    f"({(now - created).days} days)"
                ),
                program_enrollment_ids=(enrollment_id,),
                student_key=student_key,
            )
