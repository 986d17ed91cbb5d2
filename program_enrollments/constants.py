"""Statuses and limits of program enrollments, named once."""

from django.db import models


class ProgramEnrollmentStatus(models.TextChoices):
    """Status of a learner in a program."""

    ENROLLED = "enrolled"
    PENDING = "pending"
    SUSPENDED = "suspended"
    CANCELED = "canceled"
    ENDED = "ended"

    @classmethod
    def active_values(cls) -> frozenset[str]:
        """The statuses under which a learner may hold active program course enrollments."""
        return frozenset({cls.ENROLLED, cls.PENDING})


class ProgramCourseEnrollmentStatus(models.TextChoices):
    """Status of a learner in one course run of a program."""

    ACTIVE = "active"
    INACTIVE = "inactive"


class WriteStatus:
    """Per-learner outcomes of a bulk write that are not the new status itself."""

    DUPLICATED = "duplicated"
    INVALID_STATUS = "invalid-status"
    CONFLICT = "conflict"
    NOT_IN_PROGRAM = "not-in-program"
    NOT_FOUND = "not-found"
    ILLEGAL_OPERATION = "illegal-operation"
    CONFLICTED = "conflicted"
    INTERNAL_ERROR = "internal-error"


class TransferStatus:
    """Per-learner outcomes of a transfer between programs."""

    TRANSFERRED = "transferred"
    ALREADY_TRANSFERRED = "already-transferred"
    WOULD_TRANSFER = "would-transfer"
    NOT_IN_PROGRAM = "not-in-program"
    NOTHING_TO_TRANSFER = "nothing-to-transfer"
    COURSE_NOT_IN_TARGET = "course-not-in-target"
    ILLEGAL_OPERATION = "illegal-operation"
    CONFLICTED = "conflicted"
    DUPLICATED = "duplicated"
    INTERNAL_ERROR = "internal-error"


# The course mode of a program learner's course enrollment.
MASTERS_MODE = "masters"

# Modes that activation upgrades to MASTERS_MODE; other modes (paid ones) are kept.
UPGRADABLE_MODES = frozenset({"audit", "honor"})

# Longest student key accepted (the column width of external_user_key).
STUDENT_KEY_MAX_LENGTH = 255
