"""Plain data crossing the Python API boundary (frozen dataclasses, stdlib only)."""

from __future__ import annotations

from dataclasses import dataclass, field
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
