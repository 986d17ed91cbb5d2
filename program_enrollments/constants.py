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


class CourseAccessGrant(models.TextChoices):
    """What a program changed of a learner's course enrollment when it made them active.

    Making the learner inactive takes back only that: a course enrollment the
    program created is deactivated, one it upgraded or reactivated gets its
    former mode and activity back, and one the learner held on their own (a
    paid mode, say) is left as it is.
    """

    UNKNOWN = "unknown", "not recorded (written before this was kept): treated as given by the program"
    NONE = "none", "nothing: the learner's own course enrollment, left as it was"
    CREATED = "created", "created by the program"
    CHANGED = "changed", "upgraded to masters and/or reactivated by the program"


class WriteStatus:
    """Per-learner outcomes of a bulk write that are not the new status itself."""

    DUPLICATED = "duplicated"
    INVALID_STATUS = "invalid-status"
    CONFLICT = "conflict"
    NOT_IN_PROGRAM = "not-in-program"
    NOT_FOUND = "not-found"
    ILLEGAL_OPERATION = "illegal-operation"
    CONFLICTED = "conflicted"
    # The learner's LMS account is already in the program under another student key.
    USER_ALREADY_ENROLLED = "user-already-enrolled"
    # The curriculum_uuid of the learner's item is not one of the program's curricula.
    INVALID_CURRICULUM = "invalid-curriculum"
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
    USER_ALREADY_ENROLLED = "user-already-enrolled"
    DUPLICATED = "duplicated"
    INTERNAL_ERROR = "internal-error"


# The course mode of a program learner's course enrollment.
MASTERS_MODE = "masters"

# Modes that activation upgrades to MASTERS_MODE; other modes (paid ones) are kept.
UPGRADABLE_MODES = frozenset({"audit", "honor"})

# Longest student key accepted (the column width of external_user_key).
STUDENT_KEY_MAX_LENGTH = 255
