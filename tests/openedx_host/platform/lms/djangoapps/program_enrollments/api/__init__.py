"""
Stand-in of the built-in app's Python API (``lms/djangoapps/program_enrollments/api/__init__.py``).

Only the reading functions are reproduced (``api/reading.py``), with the platform's names, parameters and
results, so that tests can record what the built-in app answered on seeded data and compare the
compatibility layer of our app with it after the takeover. The writing, linking and grades functions of
the platform's API are not reproduced.
"""

from .reading import (
    fetch_program_course_enrollments,
    fetch_program_course_enrollments_by_students,
    fetch_program_enrollments,
    fetch_program_enrollments_by_student,
    fetch_program_enrollments_by_students,
    get_external_key_by_user_and_course,
    get_org_key_for_program,
    get_program_course_enrollment,
    get_program_enrollment,
    get_provider_slug,
    get_saml_providers_for_organization,
    get_users_by_external_keys,
    get_users_by_external_keys_and_org_key,
    is_course_staff_enrollment,
)

__all__ = [
    "fetch_program_course_enrollments",
    "fetch_program_course_enrollments_by_students",
    "fetch_program_enrollments",
    "fetch_program_enrollments_by_student",
    "fetch_program_enrollments_by_students",
    "get_external_key_by_user_and_course",
    "get_org_key_for_program",
    "get_program_course_enrollment",
    "get_program_enrollment",
    "get_provider_slug",
    "get_saml_providers_for_organization",
    "get_users_by_external_keys",
    "get_users_by_external_keys_and_org_key",
    "is_course_staff_enrollment",
]
