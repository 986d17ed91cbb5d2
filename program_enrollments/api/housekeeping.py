"""Housekeeping: expiring waiting enrollments, and wiping test partners' programs.

Both delete program enrollments (PEs) with their program course enrollments
(PCEs) and the course roles waiting for them (``CourseAccessRoleAssignment``).
Unlike Open edX's built-in app, which deletes the history of what it expires,
the history stays: each deleted row gets one more history row (type ``-``)
saying who deleted it and why, so support can still answer "what happened to
this learner".

The rows are deleted set-wise, a chunk at a time (keyset pagination on ids),
each chunk in one transaction with a fixed number of queries: the chunk's PEs
are locked first and the selection is decided again under the lock (a learner
linked meanwhile is no longer waiting, and is kept), then their PCEs, then the
history is written and the rows deleted. The deletion sends no signals (the
history they would write, one insert per row, is written here in bulk).

Resetting also takes back, through the LMS backend, the course access that
the deleted active PCEs gave (a course enrollment the program created is
deactivated, one it upgraded gets its mode back, the learner's own is left
alone): the built-in app deletes those course enrollments outright; the app's
backend interface never deletes a host's course enrollment.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from opaque_keys.edx.keys import CourseKey

from program_enrollments import conf
from program_enrollments.api import _course_access, _history
from program_enrollments.backends import catalog_backend
from program_enrollments.exceptions import InvalidRequest
from program_enrollments.models import CourseAccessRoleAssignment, ProgramCourseEnrollment, ProgramEnrollment

# The built-in command's default: a waiting enrollment unmodified this long has expired.
DEFAULT_EXPIRATION_DAYS = 60

EXPIRY_REASON = "Expired: waiting for a learner account, unmodified for {days} days"
RESET_REASON = "Integration reset: program enrollment data wiped"


@dataclass(frozen=True)
class DeletedCounts:
    """What a housekeeping call deleted (or, for ``count_program_enrollment_data``, would delete)."""

    program_enrollments: int = 0
    program_course_enrollments: int = 0
    course_access_role_assignments: int = 0
    # Course enrollments whose access the deleted rows had given, taken back through the LMS backend.
    course_accesses_taken_back: int = 0

    def __add__(self, other: DeletedCounts) -> DeletedCounts:
        return DeletedCounts(
            self.program_enrollments + other.program_enrollments,
            self.program_course_enrollments + other.program_course_enrollments,
            self.course_access_role_assignments + other.course_access_role_assignments,
            self.course_accesses_taken_back + other.course_accesses_taken_back,
        )

    @property
    def total(self) -> int:
        """The number of the app's rows deleted."""
        return self.program_enrollments + self.program_course_enrollments + self.course_access_role_assignments


def _positive_int(name: str, value, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        qualifier = "non-negative" if minimum == 0 else "positive"
        raise InvalidRequest(f"{name} must be a {qualifier} integer, not {value!r}.")
    return value


def _chunk_size(chunk_size) -> int:
    if chunk_size is None:
        return conf.get("WRITE_CHUNK_SIZE")
    return _positive_int("chunk_size", chunk_size, minimum=1)


def _program_uuids(program_uuids: Iterable[UUID | str]) -> list[UUID]:
    if isinstance(program_uuids, (str, UUID)):
        program_uuids = [program_uuids]
    uuids = []
    for value in program_uuids:
        try:
            uuids.append(value if isinstance(value, UUID) else UUID(str(value).strip()))
        except ValueError:
            raise InvalidRequest(f"Not a program UUID: {value!r}.") from None
    if not uuids:
        raise InvalidRequest("No program UUID given.")
    return sorted(set(uuids), key=str)


# --- expiry ---------------------------------------------------------------------------------------


def expire_waiting_program_enrollments(
    *,
    expiration_days: int = DEFAULT_EXPIRATION_DAYS,
    actor=None,
    chunk_size: int | None = None,
    now: datetime | None = None,
) -> DeletedCounts:
    """Delete the waiting PEs (no user) unmodified for ``expiration_days`` days, with their PCEs.

    A PE is expired when it has no user and its ``modified`` is at least
    ``expiration_days`` days before ``now`` (default: the current time), as in
    Open edX's built-in ``expire_waiting_enrollments`` task. Its PCEs and the
    course roles waiting for them go with it. Each deleted PE and PCE keeps its
    history, plus one history row recording the deletion (user ``actor``,
    reason ``Expired: ...``). Runs in chunks of ``chunk_size`` (default: the
    ``WRITE_CHUNK_SIZE`` setting), each in one transaction.

    Raises:
        InvalidRequest: a negative or non-integer ``expiration_days``, or a ``chunk_size``
            that is not a positive integer (raised before anything changes).
    """
    days = _positive_int("expiration_days", expiration_days, minimum=0)
    size = _chunk_size(chunk_size)
    cutoff = (now or timezone.now()) - timedelta(days=days)
    expired = Q(user__isnull=True, modified__lte=cutoff)
    return _delete_in_chunks(expired, size, actor=actor, reason=EXPIRY_REASON.format(days=days), take_back=False)


# --- reset ----------------------------------------------------------------------------------------


def count_program_enrollment_data(*, program_uuids: Iterable[UUID | str]) -> DeletedCounts:
    """What ``reset_program_enrollment_data`` would delete for these programs now (three counting queries).

    ``course_accesses_taken_back`` counts the active PCEs pointing at a course enrollment.

    Raises:
        InvalidRequest: a value that is not a program UUID, or none at all.
    """
    uuids = _program_uuids(program_uuids)
    course_rows = ProgramCourseEnrollment.objects.filter(program_enrollment__program_uuid__in=uuids)
    return DeletedCounts(
        program_enrollments=ProgramEnrollment.objects.filter(program_uuid__in=uuids).count(),
        program_course_enrollments=course_rows.count(),
        course_access_role_assignments=CourseAccessRoleAssignment.objects.filter(
            enrollment__program_enrollment__program_uuid__in=uuids
        ).count(),
        course_accesses_taken_back=course_rows.active().filter(course_enrollment__isnull=False).count(),
    )


def reset_program_enrollment_data(
    *, program_uuids: Iterable[UUID | str], actor=None, chunk_size: int | None = None
) -> DeletedCounts:
    """Delete every PE of the given programs, with their PCEs and waiting course roles (for test partners).

    Only the given programs are touched. The course access that the deleted
    active PCEs gave realized learners is taken back through the LMS backend,
    as making them inactive would (see ``_course_access.take_back``); course
    enrollments themselves are never deleted. History stays, with one history
    row per deleted PE and PCE (reason ``Integration reset: ...``).

    Raises:
        InvalidRequest: a value that is not a program UUID, none at all, or a bad ``chunk_size``
            (raised before anything changes).
    """
    uuids = _program_uuids(program_uuids)
    size = _chunk_size(chunk_size)
    return _delete_in_chunks(Q(program_uuid__in=uuids), size, actor=actor, reason=RESET_REASON, take_back=True)


def programs_of_organization(organization_key: str) -> list[UUID]:
    """The programs holding enrollments whose catalog entry names ``organization_key`` as author.

    One query (the distinct programs enrolled in) and one catalog call. Programs
    the catalog does not know are left out: nobody can tell whose they are.

    Raises:
        InvalidRequest: a blank or non-string organization key.
    """
    if not isinstance(organization_key, str) or not organization_key.strip():
        raise InvalidRequest(f"organization must be a non-blank string, not {organization_key!r}.")
    enrolled = set(ProgramEnrollment.objects.values_list("program_uuid", flat=True).distinct())
    programs = catalog_backend().get_programs(enrolled)
    return sorted(
        (uuid for uuid, program in programs.items() if program.organization_key == organization_key.strip()),
        key=str,
    )


# --- the deletion -------------------------------------------------------------------------------


def _delete_in_chunks(selection: Q, size: int, *, actor, reason: str, take_back: bool) -> DeletedCounts:
    counts = DeletedCounts()
    last_id = 0
    while True:
        ids = list(
            ProgramEnrollment.objects.filter(selection, id__gt=last_id)
            .order_by("id")
            .values_list("id", flat=True)[:size]
        )
        if not ids:
            return counts
        last_id = ids[-1]
        counts += _delete_chunk(ids, selection, actor=actor, reason=reason, take_back=take_back)


def _delete_chunk(ids: list[int], selection: Q, *, actor, reason: str, take_back: bool) -> DeletedCounts:
    """Delete one chunk: lock (PEs, then PCEs, as the writers do), decide again, record, delete."""
    when = timezone.now()
    with transaction.atomic():
        enrollments = list(ProgramEnrollment.objects.select_for_update().filter(selection, id__in=ids).order_by("id"))
        if not enrollments:
            return DeletedCounts()
        enrollment_ids = [enrollment.id for enrollment in enrollments]
        course_rows = list(
            ProgramCourseEnrollment.objects.select_for_update()
            .filter(program_enrollment_id__in=enrollment_ids)
            .order_by("id")
        )
        course_row_ids = [row.id for row in course_rows]
        roles, _ = CourseAccessRoleAssignment.objects.filter(enrollment_id__in=course_row_ids).delete()
        _history.record_deletion(ProgramCourseEnrollment, course_rows, actor=actor, reason=reason, when=when)
        _history.record_deletion(ProgramEnrollment, enrollments, actor=actor, reason=reason, when=when)
        # Raw deletes: the only rows pointing at these are the course roles deleted above (a test
        # guards that list), and Django's collector would send signals and write history row by row.
        ProgramCourseEnrollment.objects.filter(id__in=course_row_ids)._raw_delete(ProgramCourseEnrollment.objects.db)
        ProgramEnrollment.objects.filter(id__in=enrollment_ids)._raw_delete(ProgramEnrollment.objects.db)
        taken_back = _take_back_access(enrollments, course_rows) if take_back else 0
    return DeletedCounts(len(enrollments), len(course_rows), roles, taken_back)


def _take_back_access(enrollments: list[ProgramEnrollment], course_rows: list[ProgramCourseEnrollment]) -> int:
    """Take back what the deleted active rows of realized learners gave, per course run (after their deletion)."""
    users = {enrollment.id: enrollment.user_id for enrollment in enrollments if enrollment.user_id is not None}
    leaving: dict[CourseKey, dict[int, ProgramCourseEnrollment]] = defaultdict(dict)
    for row in course_rows:
        user_id = users.get(row.program_enrollment_id)
        if row.is_active and user_id is not None and row.course_enrollment_id is not None:
            leaving[row.course_key][user_id] = row
    for course_key, rows_by_user in leaving.items():
        _course_access.take_back(course_key, rows_by_user)
    return sum(len(rows) for rows in leaving.values())
