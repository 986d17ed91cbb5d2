"""Plain data crossing the Python API boundary (frozen dataclasses, stdlib only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True)
class CurriculumData:
    """One version of a program's course list."""

    uuid: UUID
    is_active: bool
    course_keys: frozenset[str] = frozenset()
    name: str = ""


@dataclass(frozen=True)
class ProgramData:
    """A program as the catalog describes it."""

    uuid: UUID
    organization_key: str
    title: str = ""
    curricula: tuple[CurriculumData, ...] = ()
    # The catalog's program type (``Masters``, ``MicroMasters``...) and marketing page slug.
    type: str = ""
    marketing_slug: str = ""

    def course_keys(self) -> frozenset[str]:
        """Course runs of the program: those in any of its active curricula."""
        keys: set[str] = set()
        for curriculum in self.curricula:
            if curriculum.is_active:
                keys |= curriculum.course_keys
        return frozenset(keys)

    def has_curriculum(self, curriculum_uuid: UUID) -> bool:
        """Whether ``curriculum_uuid`` is one of this program's curricula."""
        return any(curriculum.uuid == curriculum_uuid for curriculum in self.curricula)


@dataclass(frozen=True)
class ProgramEnrollmentRequest:
    """One learner of a bulk program enrollment write."""

    student_key: str
    status: str
    curriculum_uuid: UUID | None = None


@dataclass(frozen=True)
class CourseEnrollmentRequest:
    """One learner of a bulk program course enrollment write."""

    student_key: str
    status: str
    course_staff: bool | None = None


@dataclass(frozen=True)
class LinkOutcome:
    """What linking did for one student key."""

    student_key: str
    username: str
    error: str = ""
    # Course keys whose program course enrollment was made inactive because the
    # learner was already active in the same course through another program.
    deactivated_courses: tuple[str, ...] = ()
    # With ``relink``: the account the student key was linked to before (empty when it was waiting).
    previous_username: str = ""

    @property
    def linked(self) -> bool:
        return not self.error


@dataclass(frozen=True)
class TransferOutcome:
    """What a transfer did (or, in a dry run, would do) for one learner."""

    student_key: str
    status: str
    courses: tuple[str, ...] = ()
    detail: str = ""


@dataclass(frozen=True)
class TransferReport:
    """Per-learner outcomes of one transfer call, in request order."""

    outcomes: tuple[TransferOutcome, ...] = field(default_factory=tuple)

    def by_status(self) -> dict[str, int]:
        """How many learners ended with each status."""
        counts: dict[str, int] = {}
        for outcome in self.outcomes:
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
        return counts


@dataclass(frozen=True)
class SSOIdentityData:
    """A learner's single sign-on identity at an organization, as the host LMS records it."""

    organization_key: str
    # The student key as the identity gives it (the partner's spelling).
    student_key: str
    user_id: int
    # The host's own name for the identity: ``<provider slug>:<student key>`` in Open edX.
    uid: str


@dataclass(frozen=True)
class CourseGradeData:
    """A learner's grade in a course run, as the LMS computes it."""

    percent: float
    passed: bool
    # The grading policy's letter grade (``Pass``, ``A``...), None while the learner has none.
    letter_grade: str | None = None


@dataclass(frozen=True)
class ProgramCourseGrade:
    """The grade of one program course enrollment's learner, or why it could not be read."""

    program_course_enrollment: object
    grade: CourseGradeData | None = None
    error: str = ""

    @property
    def is_error(self) -> bool:
        return self.grade is None

    @property
    def student_key(self) -> str | None:
        return self.program_course_enrollment.program_enrollment.external_user_key


@dataclass(frozen=True)
class DueDateData:
    """A due date of a learner in a course run (a subsection's deadline)."""

    name: str
    # Absolute, or relative to the LMS's root.
    url: str
    date: datetime


@dataclass(frozen=True)
class CourseRunOverviewData:
    """What the LMS knows of a course run and of one learner in it, for the learner's program pages.

    URLs are absolute or relative to the LMS's root (the REST API makes them absolute);
    empty when the LMS has none.
    """

    course_key: str
    display_name: str
    course_run_url: str
    start: datetime | None = None
    end: datetime | None = None
    self_paced: bool = False
    # The learner's passing certificate (or what the host takes for one): since when, where to get it.
    certificate_passing: bool = False
    certificate_created: datetime | None = None
    certificate_download_url: str = ""
    # Where the learner left off; empty before any progress.
    resume_url: str = ""
    # Whether the learner receives the course's bulk emails; None when the host has no bulk email for it.
    emails_enabled: bool | None = None
    due_dates: tuple[DueDateData, ...] = ()


@dataclass(frozen=True)
class LearnerCourseRun:
    """One course run of a learner's program page: the LMS's overview and the learner's progress in it."""

    # The learner's course enrollment, whose id orders the pages.
    enrollment_id: int
    overview: CourseRunOverviewData
    # ``in_progress``, ``upcoming`` or ``completed`` (``program_enrollments.api.learner.CourseRunProgress``).
    status: str
    # The program's title when it is a MicroMasters program, else empty.
    micromasters_title: str = ""
