"""The built-in app's constants (``lms/djangoapps/program_enrollments/constants.py``), same names and values.

The status values are this app's own (``program_enrollments.constants``), which
kept the built-in strings; ``__MODEL_CHOICES__`` are tuples here (the built-in's
were one-shot generators).
"""

from program_enrollments.constants import ProgramCourseEnrollmentStatus, ProgramEnrollmentStatus, WriteStatus


class ProgramEnrollmentStatuses:
    """Statuses of a learner in a program."""

    ENROLLED = ProgramEnrollmentStatus.ENROLLED.value
    PENDING = ProgramEnrollmentStatus.PENDING.value
    SUSPENDED = ProgramEnrollmentStatus.SUSPENDED.value
    CANCELED = ProgramEnrollmentStatus.CANCELED.value
    ENDED = ProgramEnrollmentStatus.ENDED.value
    __ACTIVE__ = (ENROLLED, PENDING)
    __ALL__ = (ENROLLED, PENDING, SUSPENDED, CANCELED, ENDED)
    __MODEL_CHOICES__ = tuple((status, status) for status in __ALL__)


class ProgramCourseEnrollmentStatuses:
    """Statuses of a program learner in one course run."""

    ACTIVE = ProgramCourseEnrollmentStatus.ACTIVE.value
    INACTIVE = ProgramCourseEnrollmentStatus.INACTIVE.value
    __ALL__ = (ACTIVE, INACTIVE)
    __MODEL_CHOICES__ = tuple((status, status) for status in __ALL__)


class _EnrollmentErrorStatuses:
    """Error statuses shared by program and program course enrollment writes."""

    DUPLICATED = WriteStatus.DUPLICATED
    INVALID_STATUS = WriteStatus.INVALID_STATUS
    CONFLICT = WriteStatus.CONFLICT
    ILLEGAL_OPERATION = WriteStatus.ILLEGAL_OPERATION
    NOT_IN_PROGRAM = WriteStatus.NOT_IN_PROGRAM
    INTERNAL_ERROR = WriteStatus.INTERNAL_ERROR
    __ALL__ = (DUPLICATED, INVALID_STATUS, CONFLICT, ILLEGAL_OPERATION, NOT_IN_PROGRAM, INTERNAL_ERROR)


class ProgramOperationStatuses(ProgramEnrollmentStatuses, _EnrollmentErrorStatuses):
    """Outcomes of a program enrollment write: a status, or an error."""

    __OK__ = ProgramEnrollmentStatuses.__ALL__
    __ERRORS__ = _EnrollmentErrorStatuses.__ALL__
    __ALL__ = __OK__ + __ERRORS__


class ProgramCourseOperationStatuses(ProgramCourseEnrollmentStatuses, _EnrollmentErrorStatuses):
    """Outcomes of a program course enrollment write: a status, or an error."""

    NOT_FOUND = WriteStatus.NOT_FOUND
    __OK__ = ProgramCourseEnrollmentStatuses.__ALL__
    __ERRORS__ = (NOT_FOUND,) + _EnrollmentErrorStatuses.__ALL__
    __ALL__ = __OK__ + __ERRORS__


class ProgramCourseEnrollmentRoles:
    """Roles a program course enrollment may grant (``CourseStaffRole.ROLE``)."""

    COURSE_STAFF = "staff"
    __ALL__ = (COURSE_STAFF,)
    __MODEL_CHOICES__ = tuple((role, role) for role in __ALL__)


# The name of older releases.
AllowedProgramCourseEnrollmentRoles = ProgramCourseEnrollmentRoles
