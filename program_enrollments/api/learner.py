"""What the learner's program pages show: the programs a user may open, and their course runs in one.

The Open edX built-in app served these to the Master's learner portal; the rules below are
its rules (``docs/rest_api.rst``, "Learner pages"), read through the host backends:

* a learner's course runs in a program are their **active** course enrollments, in a paid
  mode (:data:`LEARNER_COURSE_MODES`), in course runs of the program, whether or not a program
  course enrollment backs them;
* only a learner ``enrolled`` in the program (not ``pending``) sees its pages;
* a run's progress is ``completed`` once it has ended (or, self-paced, when the learner's
  passing certificate is 30 days old), ``in_progress`` once it has started, else ``upcoming``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from uuid import UUID

from django.db import models
from django.utils import timezone

from program_enrollments.api.access import has_global_access
from program_enrollments.backends import catalog_backend, lms_backend
from program_enrollments.constants import ProgramEnrollmentStatus
from program_enrollments.data import CourseRunOverviewData, LearnerCourseRun, ProgramData
from program_enrollments.models import OrganizationGrant, ProgramEnrollment

# The course modes whose enrollments count as the learner's runs of a program (the built-in
# app's list: CourseMode.VERIFIED, MASTERS, EXECUTIVE_EDUCATION, PAID_EXECUTIVE_EDUCATION, PAID_BOOTCAMP).
LEARNER_COURSE_MODES = ("verified", "masters", "executive-education", "paid-executive-education", "paid-bootcamp")

# The program type listed when the caller names none.
DEFAULT_PROGRAM_TYPE = "masters"

# A self-paced run counts as completed this long after the learner's passing certificate.
SELF_PACED_COMPLETION_DELAY = timedelta(days=30)

# The program type whose title each course run repeats (``micromasters_title``).
MICROMASTERS_TYPE = "MicroMasters"


class CourseRunProgress(models.TextChoices):
    """Where a learner stands in a course run."""

    IN_PROGRESS = "in_progress"
    UPCOMING = "upcoming"
    COMPLETED = "completed"


def normalize_program_type(program_type: str | None) -> str:
    """A program type as compared: lower case; the default type when none is given."""
    return str(program_type if program_type is not None else DEFAULT_PROGRAM_TYPE).lower()


def fetch_readable_programs(user, *, program_type: str | None = None) -> list[ProgramData]:
    """The programs whose learner pages ``user`` may open: what ``programs/readonly_access/`` lists.

    * global staff (the ``is_staff`` flag, as in Open edX) and users with read access to
      every program's enrollments: every program of ``program_type``;
    * anyone else: the programs of ``program_type`` they administer (those of the organizations
      they hold a grant for, and those containing a course run in which they hold the course
      ``staff`` or ``instructor`` role), then the programs they are an active learner of
      (``enrolled`` or ``pending``), whatever their type.

    ``program_type`` is compared ignoring case; None means ``masters``. Each program is listed once.
    """
    wanted = normalize_program_type(program_type)
    if not (user and user.is_authenticated and user.is_active):
        return []
    catalog = catalog_backend()
    if user.is_staff or has_global_access(user, write=False):
        return catalog.get_programs_of_type(wanted)
    found: dict[UUID, ProgramData] = {}

    def add(programs, *, of_type: bool):
        for program in programs:
            if not of_type or program.type.lower() == wanted:
                found.setdefault(program.uuid, program)

    organizations = set(OrganizationGrant.objects.filter(user=user).values_list("organization_key", flat=True))
    if organizations:
        add(catalog.get_programs_of_organizations(organizations), of_type=True)
    staffed = lms_backend().get_courses_with_staff_role(user.id)
    if staffed:
        add(catalog.get_programs_with_course_runs(staffed), of_type=True)
    learner_uuids = set(
        ProgramEnrollment.objects.filter(user=user, status__in=ProgramEnrollmentStatus.active_values()).values_list(
            "program_uuid", flat=True
        )
    )
    if learner_uuids:
        programs = catalog.get_programs(learner_uuids)
        add((programs[uuid] for uuid in sorted(programs, key=str)), of_type=False)
    return list(found.values())


def is_enrolled_in_program(user, program_uuid: UUID | str) -> bool:
    """Whether ``user`` is ``enrolled`` in the program (``pending`` and the rest are not)."""
    if not (user and user.is_authenticated):
        return False
    return ProgramEnrollment.objects.filter(
        user=user, program_uuid=program_uuid, status=ProgramEnrollmentStatus.ENROLLED
    ).exists()


def fetch_learner_course_run_enrollments(user, program: ProgramData) -> list[tuple[int, str]]:
    """The user's course enrollments that count as their runs of ``program``: ``(id, course key)``, id order.

    Active, in one of :data:`LEARNER_COURSE_MODES`, in a course run of the program; taken
    through a program or not. One backend call (one query in both hosts).
    """
    return lms_backend().get_user_course_enrollments(user.id, program.course_keys(), modes=LEARNER_COURSE_MODES)


def fetch_learner_course_runs(
    user, program: ProgramData, enrollments: Sequence[tuple[int, str]], *, now: datetime | None = None
) -> list[LearnerCourseRun]:
    """The overview and progress of each of ``enrollments`` (a page of ``fetch_learner_course_run_enrollments``).

    In the order given; a course run the LMS no longer knows is left out. One backend call
    for the whole page.
    """
    if not enrollments:
        return []
    now = now or timezone.now()
    overviews = lms_backend().get_course_run_overviews([key for _id, key in enrollments], user.id)
    title = program.title if program.type == MICROMASTERS_TYPE else ""
    runs = []
    for enrollment_id, key in enrollments:
        overview = overviews.get(key)
        if overview is None:
            continue
        status = course_run_progress(overview, now=now)
        if status != CourseRunProgress.IN_PROGRESS and overview.due_dates:
            # Due dates are shown for runs under way only.
            overview = replace(overview, due_dates=())
        runs.append(
            LearnerCourseRun(enrollment_id=enrollment_id, overview=overview, status=status, micromasters_title=title)
        )
    return runs


def course_run_progress(overview: CourseRunOverviewData, *, now: datetime | None = None) -> str:
    """``completed``, ``in_progress`` or ``upcoming``: the built-in app's rule (see the module docstring)."""
    now = now or timezone.now()
    ended = overview.end is not None and overview.end < now
    started = overview.start is not None and overview.start <= now
    certified = (
        overview.self_paced
        and overview.certificate_passing
        and overview.certificate_created is not None
        and overview.certificate_created <= now - SELF_PACED_COMPLETION_DELAY
    )
    if ended or certified:
        return CourseRunProgress.COMPLETED
    if started:
        return CourseRunProgress.IN_PROGRESS
    return CourseRunProgress.UPCOMING
