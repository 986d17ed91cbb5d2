"""Mirrors ``common/djangoapps/student/models/__init__.py``: the student models, importable from the package."""

from common.djangoapps.student.models.course_enrollment import (
    EVENT_NAME_ENROLLMENT_ACTIVATED,
    EVENT_NAME_ENROLLMENT_DEACTIVATED,
    EVENT_NAME_ENROLLMENT_MODE_CHANGED,
    AlreadyEnrolledError,
    CourseEnrollment,
    CourseEnrollmentException,
    CourseFullError,
    EnrollmentClosedError,
    EnrollmentNotAllowed,
    EnrollStatusChange,
    NonExistentCourseError,
    UnenrollmentNotAllowed,
)
from common.djangoapps.student.models.user import CourseAccessRole

__all__ = [
    "EVENT_NAME_ENROLLMENT_ACTIVATED",
    "EVENT_NAME_ENROLLMENT_DEACTIVATED",
    "EVENT_NAME_ENROLLMENT_MODE_CHANGED",
    "AlreadyEnrolledError",
    "CourseAccessRole",
    "CourseEnrollment",
    "CourseEnrollmentException",
    "CourseFullError",
    "EnrollStatusChange",
    "EnrollmentClosedError",
    "EnrollmentNotAllowed",
    "NonExistentCourseError",
    "UnenrollmentNotAllowed",
]
