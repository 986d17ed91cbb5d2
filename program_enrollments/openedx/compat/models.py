"""The built-in app's models, served by this app's models (same tables, fields and reverse names)."""

from program_enrollments.models import CourseAccessRoleAssignment, ProgramCourseEnrollment, ProgramEnrollment

__all__ = ["CourseAccessRoleAssignment", "ProgramCourseEnrollment", "ProgramEnrollment"]
