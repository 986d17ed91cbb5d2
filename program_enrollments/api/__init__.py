"""The Python API of program enrollments: the one entry point for other code.

Reads (``get_*`` one object, ``fetch_*`` querysets) and writes (bulk writes,
linking, transfers). Views, admin, commands and signal handlers call these.
"""

from program_enrollments.api.audit import audit_program_enrollments, iter_audit_findings
from program_enrollments.api.grades import iter_program_course_grades
from program_enrollments.api.housekeeping import (
    count_program_enrollment_data,
    expire_waiting_program_enrollments,
    programs_of_organization,
    reset_program_enrollment_data,
)
from program_enrollments.api.learner import (
    fetch_learner_course_run_enrollments,
    fetch_learner_course_runs,
    fetch_readable_programs,
    is_enrolled_in_program,
)
from program_enrollments.api.linking import link_waiting_program_enrollments
from program_enrollments.api.reading import (
    fetch_adoption_records,
    fetch_course_staff_roles,
    fetch_learner_view,
    fetch_program_course_enrollments,
    fetch_program_enrollments,
    get_program_course_enrollment,
    get_program_enrollment,
    organizations_of_student_key,
)
from program_enrollments.api.relinking import link_program_enrollments
from program_enrollments.api.retirement import retire_student_keys
from program_enrollments.api.support import fetch_support_view
from program_enrollments.api.transfers import iter_transfer_program_enrollments, transfer_program_enrollments
from program_enrollments.api.writing import (
    check_course_in_program,
    write_program_course_enrollments,
    write_program_enrollments,
)

__all__ = [
    "audit_program_enrollments",
    "check_course_in_program",
    "count_program_enrollment_data",
    "expire_waiting_program_enrollments",
    "fetch_adoption_records",
    "fetch_course_staff_roles",
    "fetch_learner_course_run_enrollments",
    "fetch_learner_course_runs",
    "fetch_learner_view",
    "fetch_program_course_enrollments",
    "fetch_program_enrollments",
    "fetch_readable_programs",
    "fetch_support_view",
    "get_program_course_enrollment",
    "get_program_enrollment",
    "iter_audit_findings",
    "iter_program_course_grades",
    "is_enrolled_in_program",
    "iter_transfer_program_enrollments",
    "link_program_enrollments",
    "link_waiting_program_enrollments",
    "organizations_of_student_key",
    "programs_of_organization",
    "reset_program_enrollment_data",
    "retire_student_keys",
    "transfer_program_enrollments",
    "write_program_course_enrollments",
    "write_program_enrollments",
]
