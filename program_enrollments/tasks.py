"""Celery tasks, run by the host's workers (an Open edX LMS runs Celery; the standalone host runs them eagerly).

Schedule ``expire_waiting_enrollments`` with the host's ``CELERY_BEAT_SCHEDULE``
(docs/operator_guide.rst). The task is also registered under the name of Open
edX's built-in app's task, so that a schedule written for that app keeps working.
"""

from __future__ import annotations

import logging

from celery import shared_task
from edx_django_utils.monitoring import set_code_owner_attribute

from program_enrollments import api
from program_enrollments.api.housekeeping import DEFAULT_EXPIRATION_DAYS

log = logging.getLogger(__name__)

# The name Open edX's built-in app registered its task under.
BUILT_IN_TASK_NAME = "lms.djangoapps.program_enrollments.tasks.expire_waiting_enrollments"


def _expire(expiration_days: int) -> dict[str, int]:
    counts = api.expire_waiting_program_enrollments(expiration_days=expiration_days)
    log.info(
        "Expired %s waiting program enrollments (%s program course enrollments) unmodified for %s days; "
        "their history is kept.",
        counts.program_enrollments,
        counts.program_course_enrollments,
        expiration_days,
    )
    return {
        "program_enrollments": counts.program_enrollments,
        "program_course_enrollments": counts.program_course_enrollments,
        "course_access_role_assignments": counts.course_access_role_assignments,
    }


@shared_task(ignore_result=True)
@set_code_owner_attribute
def expire_waiting_enrollments(expiration_days: int = DEFAULT_EXPIRATION_DAYS) -> dict[str, int]:
    """Delete waiting program enrollments unmodified for ``expiration_days`` days (history kept); return counts."""
    return _expire(expiration_days)


@shared_task(name=BUILT_IN_TASK_NAME, ignore_result=True)
@set_code_owner_attribute
def expire_waiting_enrollments_built_in_name(expiration_days: int = DEFAULT_EXPIRATION_DAYS) -> dict[str, int]:
    """The same task under the built-in app's name (schedules and queued messages written for it)."""
    return _expire(expiration_days)
