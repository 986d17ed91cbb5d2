"""Celery tasks, run by the host's workers (an Open edX LMS runs Celery; the standalone host runs them eagerly).

Schedule ``expire_waiting_enrollments``, ``resume_stalled_jobs`` and
``delete_finished_jobs`` with the host's ``CELERY_BEAT_SCHEDULE``
(docs/operator_guide.rst); ``run_job`` runs the background jobs
(``program_enrollments.api.jobs``). ``expire_waiting_enrollments`` is also registered under the name of Open
edX's built-in app's task, so that a schedule written for that app keeps working.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import DatabaseError
from edx_django_utils.monitoring import set_code_owner_attribute

from program_enrollments import api
from program_enrollments.api import jobs
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


# --- jobs --------------------------------------------------------------------------------------

# Seconds before a job's task is tried again after a database failure (doubling up to half an
# hour). Redis delivers a message again once it is unacknowledged for its visibility timeout,
# also while it waits for its retry time in a worker: keep that timeout above the longest delay.
JOB_RETRY_DELAY = 30
JOB_RETRY_DELAY_MAX = 30 * 60


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True, max_retries=None)
@set_code_owner_attribute
def run_job(self, job_id: str) -> None:
    """Run a background job (``program_enrollments.api.jobs``) from its last committed chunk to its end.

    Acknowledged only once it has run (``acks_late``), and given back to the broker when
    the worker process dies (``reject_on_worker_lost``): a delivery that did not finish is
    delivered again, and the job goes on after its last committed chunk. A database
    failure retries the task later; any other failure marks the job failed.
    """
    try:
        jobs.run_job(job_id)
    except jobs.JobNotFound:
        log.warning("Job %s does not exist (deleted?); nothing to run.", job_id)
    except DatabaseError as error:
        if self.request.is_eager:
            # In-process (no broker): the caller must not fail; the job stays where its last chunk
            # left it, and resume_stalled_jobs (or a resubmission) goes on with it.
            log.exception("Job %s stopped on a database error; it resumes when run again.", job_id)
            return
        delay = min(JOB_RETRY_DELAY * 2 ** min(self.request.retries, 10), JOB_RETRY_DELAY_MAX)
        log.warning("Job %s stopped on a database error (%r); trying again in %s s.", job_id, error, delay)
        raise self.retry(exc=error, countdown=delay) from error
    except Exception as error:  # noqa: BLE001 - a job never loops on a bug: it fails, with the reason
        log.exception("Job %s failed.", job_id)
        jobs.fail_job(job_id, f"Unexpected error: {error!r}")


@shared_task(ignore_result=True)
@set_code_owner_attribute
def resume_stalled_jobs(idle_minutes: int = 30) -> int:
    """Send ``run_job`` again for the jobs that lost their task (``api.jobs.resume_stalled_jobs``); return how many.

    Running jobs without a committed chunk for ``STALLED_JOB_SECONDS`` (their worker was
    lost: Redis would deliver the message again only after its visibility timeout), and
    queued ones idle for ``idle_minutes`` (a message the broker lost, an in-process run
    whose process ended). Sending a job that is still running is harmless: its chunks are
    serialized.
    """
    stalled = jobs.resume_stalled_jobs(idle_minutes=idle_minutes)
    if stalled:
        log.info("Sent %d stalled jobs to be run again.", len(stalled))
    return len(stalled)


@shared_task(ignore_result=True)
@set_code_owner_attribute
def delete_finished_jobs(retention_days: int = 30) -> int:
    """Delete jobs finished more than ``retention_days`` ago, with their results; return how many."""
    deleted = jobs.delete_finished_jobs(retention_days=retention_days)
    log.info("Deleted %d jobs finished more than %d days ago.", deleted, retention_days)
    return deleted
