"""Stand-in of ``common/djangoapps/student/api.py``: the student app's Python API for other in-process apps."""

from opaque_keys.edx.keys import CourseKey

from common.djangoapps.student.models import CourseEnrollment
from common.djangoapps.student.roles import REGISTERED_ACCESS_ROLES as _REGISTERED_ACCESS_ROLES
from common.djangoapps.student.roles import CourseInstructorRole, CourseStaffRole, GlobalStaff


def get_access_role_by_role_name(role_name):
    """The registered access role class named ``role_name`` (for example ``'staff'``), or ``None``."""
    return _REGISTERED_ACCESS_ROLES.get(role_name, None)


def is_user_enrolled_in_course(student, course_key):
    """Whether ``student`` is actively enrolled in the course run."""
    return CourseEnrollment.is_enrolled(student, course_key)


def is_user_staff_or_instructor_in_course(user, course_key):
    """Whether ``user`` is global staff, or staff or instructor of the course."""
    if not isinstance(course_key, CourseKey):
        course_key = CourseKey.from_string(course_key)
    return (
        GlobalStaff().has_user(user)
        or CourseStaffRole(course_key).has_user(user)
        or CourseInstructorRole(course_key).has_user(user)
    )


def get_course_enrollments(user, is_filtered=False, course_ids=None):
    """The user's active enrollments, restricted to ``course_ids`` when ``is_filtered``."""
    enrollments = CourseEnrollment.enrollments_for_user(user).select_related("course")
    if is_filtered:
        enrollments = enrollments.filter(course_id__in=course_ids)
    return enrollments
