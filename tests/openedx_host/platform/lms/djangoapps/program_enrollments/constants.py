"""
Status and role constants of the built-in app.

Mirrors ``lms/djangoapps/program_enrollments/constants.py``: the same class and attribute names, so
``__MODEL_CHOICES__`` produces the choices the platform's migrations recorded. The role value is
written out here; the platform reads it from ``common.djangoapps.student.roles.CourseStaffRole.ROLE``
(``'staff'``).
"""


class ProgramEnrollmentStatuses:
    """Statuses of a learner's enrollment in a program."""

    ENROLLED = "enrolled"
    PENDING = "pending"
    SUSPENDED = "suspended"
    CANCELED = "canceled"
    ENDED = "ended"
    __ACTIVE__ = (ENROLLED, PENDING)
    __ALL__ = (ENROLLED, PENDING, SUSPENDED, CANCELED, ENDED)
    # A tuple, not the platform's generator, so the choices can be read more than once.
    __MODEL_CHOICES__ = tuple((status, status) for status in __ALL__)


class ProgramCourseEnrollmentStatuses:
    """Statuses of a learner's enrollment in a course through a program."""

    ACTIVE = "active"
    INACTIVE = "inactive"
    __ALL__ = (ACTIVE, INACTIVE)
    __MODEL_CHOICES__ = tuple((status, status) for status in __ALL__)


class _EnrollmentErrorStatuses:
    """Error statuses shared by the program and program-course write responses."""

    DUPLICATED = "duplicated"
    INVALID_STATUS = "invalid-status"
    CONFLICT = "conflict"
    ILLEGAL_OPERATION = "illegal-operation"
    NOT_IN_PROGRAM = "not-in-program"
    INTERNAL_ERROR = "internal-error"
    __ALL__ = (DUPLICATED, INVALID_STATUS, CONFLICT, ILLEGAL_OPERATION, NOT_IN_PROGRAM, INTERNAL_ERROR)


class ProgramOperationStatuses(ProgramEnrollmentStatuses, _EnrollmentErrorStatuses):
    """Result statuses of a program enrollment write."""

    __OK__ = ProgramEnrollmentStatuses.__ALL__
    __ERRORS__ = _EnrollmentErrorStatuses.__ALL__
    __ALL__ = __OK__ + __ERRORS__


class ProgramCourseOperationStatuses(ProgramCourseEnrollmentStatuses, _EnrollmentErrorStatuses):
    """Result statuses of a program-course enrollment write."""

    NOT_FOUND = "not-found"
    __OK__ = ProgramCourseEnrollmentStatuses.__ALL__
    __ERRORS__ = (NOT_FOUND,) + _EnrollmentErrorStatuses.__ALL__
    __ALL__ = __OK__ + __ERRORS__


class ProgramCourseEnrollmentRoles:
    """Roles a program-course enrollment can carry for a learner who has no account yet."""

    COURSE_STAFF = "staff"
    __ALL__ = (COURSE_STAFF,)
    __MODEL_CHOICES__ = tuple((role, role) for role in __ALL__)
