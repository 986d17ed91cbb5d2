"""Background jobs (program_enrollments.api.jobs): submitted whole, run chunk by chunk, resumable."""

from datetime import timedelta
from unittest import mock
from uuid import uuid4

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from program_enrollments import tasks
from program_enrollments.api import jobs
from program_enrollments.exceptions import InvalidRequest, ProgramDoesNotExist
from program_enrollments.models import Job, JobResult, ProgramCourseEnrollment, ProgramEnrollment
from tests.api.helpers import enroll, enroll_course
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _items(catalog, keys, status="enrolled"):
    return [
        {"student_key": key, "status": status, "curriculum_uuid": str(catalog.CYBERSECURITY_CURRICULUM)} for key in keys
    ]


def _submit_writes(catalog, keys, **kwargs):
    kwargs.setdefault("create", True)
    kwargs.setdefault("update", True)
    return jobs.submit_program_enrollments_job(
        program_uuid=catalog.CYBERSECURITY, requests=_items(catalog, keys), **kwargs
    )


def _results(job):
    return list(JobResult.objects.filter(job=job).order_by("position").values_list("position", "student_key", "status"))


def _history_rows(keys):
    model = ProgramEnrollment.history.model
    return {key: model.objects.filter(external_user_key=key).count() for key in keys}


def test_write_job_runs_in_chunks_and_records_each_learner(catalog):
    user = UserFactory()
    keys = [f"k{i}" for i in range(7)]
    submission = _submit_writes(catalog, keys, requested_by=user)
    assert submission.created
    assert submission.job.status == Job.Status.QUEUED and submission.job.total == 7
    assert not ProgramEnrollment.objects.exists()  # nothing written at submission

    job = jobs.run_job(submission.job.pk, chunk_size=3)

    assert (job.status, job.processed, job.succeeded, job.failed, job.total) == ("succeeded", 7, 7, 0, 7)
    assert job.started and job.finished and job.pending_fingerprint is None
    assert _results(job) == [(i, f"k{i}", "enrolled") for i in range(7)]
    assert set(ProgramEnrollment.objects.values_list("external_user_key", flat=True)) == set(keys)
    assert set(ProgramEnrollment.history.model.objects.values_list("history_user_id", flat=True)) == {user.pk}
    assert jobs.job_status_counts(job) == {"enrolled": 7}


def test_duplicates_across_chunks_are_reported_and_not_written(catalog):
    submission = _submit_writes(catalog, ["a", "b", "c", "d", "A"])
    job = jobs.run_job(submission.job.pk, chunk_size=2)
    assert _results(job) == [
        (0, "a", "duplicated"),
        (1, "b", "enrolled"),
        (2, "c", "enrolled"),
        (3, "d", "enrolled"),
        (4, "A", "duplicated"),
    ]
    assert (job.succeeded, job.failed) == (3, 2)
    assert not ProgramEnrollment.objects.filter(external_user_key__in=["a", "A"]).exists()


def test_an_interrupted_job_resumes_after_its_last_chunk_without_writing_twice(catalog):
    keys = [f"k{i}" for i in range(5)]
    job = _submit_writes(catalog, keys, create=True, update=False).job
    job = jobs.run_job(job.pk, chunk_size=2, max_chunks=1)
    assert (job.status, job.processed, job.cursor) == ("running", 2, 2)

    # The next chunk dies after its writes, before the job records them: all of it is rolled back.
    with mock.patch.object(jobs, "_record", side_effect=RuntimeError("worker lost")):
        with pytest.raises(RuntimeError):
            jobs.run_job(job.pk, chunk_size=2)
    assert set(ProgramEnrollment.objects.values_list("external_user_key", flat=True)) == {"k0", "k1"}

    job = jobs.run_job(job.pk, chunk_size=2)
    assert job.status == "succeeded" and job.attempts == 3
    # POST (create only) would say "conflict" for a learner written twice.
    assert _results(job) == [(i, f"k{i}", "enrolled") for i in range(5)]
    assert _history_rows(keys) == dict.fromkeys(keys, 1)


def test_running_a_finished_job_again_changes_nothing(catalog):
    job = _submit_writes(catalog, ["x", "y"]).job
    jobs.run_job(job.pk)
    with CaptureQueriesContext(connection) as queries:
        again = jobs.run_job(job.pk)
    assert again.status == "succeeded" and again.attempts == 1
    assert not [
        query
        for query in queries.captured_queries
        if query["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert JobResult.objects.filter(job=job).count() == 2


def test_course_write_job(catalog):
    enroll(catalog.CYBERSECURITY, ["p", "q"])
    job = jobs.submit_program_course_enrollments_job(
        program_uuid=catalog.CYBERSECURITY,
        course_key=catalog.SHARED_COURSE,
        requests=[
            {"student_key": "p", "status": "active"},
            {"student_key": "q", "status": "bogus"},
            {"student_key": "r", "status": "active"},
        ],
        create=True,
        update=True,
    ).job
    job = jobs.run_job(job.pk, chunk_size=2)
    assert _results(job) == [(0, "p", "active"), (1, "q", "invalid-status"), (2, "r", "not-in-program")]
    assert (job.succeeded, job.failed) == (1, 2)
    assert ProgramCourseEnrollment.objects.filter(status="active").count() == 1


def test_transfer_of_every_learner_moves_them_chunk_by_chunk(catalog):
    keys = [f"t{i}" for i in range(5)]
    enroll(catalog.CYBERSECURITY, keys)
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, keys)
    job = jobs.submit_transfer_job(
        from_program_uuid=catalog.CYBERSECURITY, to_program_uuid=catalog.OTHER, source_status="canceled"
    ).job
    assert job.total is None and job.parameters["to_curriculum_uuid"] == str(catalog.OTHER_CURRICULUM)

    job = jobs.run_job(job.pk, chunk_size=2)

    assert (job.status, job.total, job.succeeded) == ("succeeded", 5, 5)
    assert [status for _, _, status in _results(job)] == ["transferred"] * 5
    assert JobResult.objects.get(job=job, student_key="t0").detail == catalog.SHARED_COURSE
    active = ProgramCourseEnrollment.objects.filter(status="active")
    assert set(active.values_list("program_enrollment__program_uuid", flat=True)) == {catalog.OTHER}
    assert active.count() == 5

    rerun = jobs.run_job(
        jobs.submit_transfer_job(from_program_uuid=catalog.CYBERSECURITY, to_program_uuid=catalog.OTHER).job.pk
    )
    assert [status for _, _, status in _results(rerun)] == ["already-transferred"] * 5


def test_transfer_job_of_listed_learners_reports_each(catalog):
    enroll(catalog.CYBERSECURITY, ["m1", "m2"])
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["m1", "m2"])
    job = jobs.submit_transfer_job(
        from_program_uuid=catalog.CYBERSECURITY,
        to_program_uuid=catalog.OTHER,
        student_keys=["m1", "nobody", "m2", "M2"],
        dry_run=True,
    ).job
    job = jobs.run_job(job.pk, chunk_size=3)
    assert _results(job) == [
        (0, "m1", "would-transfer"),
        (1, "nobody", "not-in-program"),
        (2, "m2", "duplicated"),
        (3, "M2", "duplicated"),
    ]
    assert not ProgramCourseEnrollment.objects.filter(program_enrollment__program_uuid=catalog.OTHER).exists()


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (
            lambda c: jobs.submit_program_enrollments_job(
                program_uuid=c.CYBERSECURITY,
                requests=[{"student_key": "a", "status": "enrolled"}],
                create=True,
                update=False,
            ),
            InvalidRequest,
        ),
        (
            lambda c: jobs.submit_program_enrollments_job(program_uuid=uuid4(), requests=[], create=True, update=True),
            ProgramDoesNotExist,
        ),
        (
            lambda c: jobs.submit_program_enrollments_job(
                program_uuid=c.CYBERSECURITY,
                requests=[{"student_key": " ", "status": "enrolled"}],
                create=False,
                update=True,
            ),
            InvalidRequest,
        ),
        (
            lambda c: jobs.submit_program_course_enrollments_job(
                program_uuid=c.CYBERSECURITY,
                course_key=c.SHARED_COURSE,
                requests=[{"student_key": "a", "status": "active", "course_staff": "yes"}],
                create=True,
                update=True,
            ),
            InvalidRequest,
        ),
        (
            lambda c: jobs.submit_transfer_job(from_program_uuid=c.CYBERSECURITY, to_program_uuid=c.CYBERSECURITY),
            InvalidRequest,
        ),
        (
            lambda c: jobs.submit_transfer_job(
                from_program_uuid=c.CYBERSECURITY, to_program_uuid=c.OTHER, source_status="gone"
            ),
            InvalidRequest,
        ),
        (
            lambda c: jobs.submit_transfer_job(
                from_program_uuid=c.CYBERSECURITY, to_program_uuid=c.ANALYTICS, course_keys=[c.SHARED_COURSE]
            ),
            InvalidRequest,
        ),
    ],
)
def test_bad_submissions_are_refused_and_store_nothing(catalog, call, error):
    before = Job.objects.count()
    with pytest.raises(error):
        call(catalog)
    assert Job.objects.count() == before == 0
    assert not JobResult.objects.exists()


def test_idempotency_key_returns_the_same_job_and_refuses_another_request(catalog):
    user = UserFactory()
    first = _submit_writes(catalog, ["a", "b"], requested_by=user, idempotency_key="upload-1")
    again = _submit_writes(catalog, ["a", "b"], requested_by=user, idempotency_key="upload-1")
    assert first.created and not again.created and again.job.pk == first.job.pk
    with pytest.raises(InvalidRequest, match="different request"):
        _submit_writes(catalog, ["a", "c"], requested_by=user, idempotency_key="upload-1")
    jobs.run_job(first.job.pk)
    after = _submit_writes(catalog, ["a", "b"], requested_by=user, idempotency_key="upload-1")
    assert after.job.pk == first.job.pk and after.job.status == "succeeded"
    # Another user's key is their own.
    assert _submit_writes(catalog, ["a", "b"], requested_by=UserFactory(), idempotency_key="upload-1").created


def test_with_a_key_only_the_key_names_the_job_even_while_an_identical_one_is_pending(catalog):
    """A keyed submission never takes over another submission's job, or the key's promise breaks when that job ends."""
    user = UserFactory()
    keyless = _submit_writes(catalog, ["a", "b"], requested_by=user)
    keyed = _submit_writes(catalog, ["a", "b"], requested_by=user, idempotency_key="retry-1")
    assert keyed.created and keyed.job.pk != keyless.job.pk
    assert (keyed.job.idempotency_key, keyed.job.pending_fingerprint) == ("retry-1", None)
    other_key = _submit_writes(catalog, ["a", "b"], requested_by=user, idempotency_key="retry-2")
    assert other_key.created and other_key.job.pk not in (keyless.job.pk, keyed.job.pk)
    # Without a key, the identical request still finds the pending job that holds its fingerprint.
    assert _submit_writes(catalog, ["a", "b"], requested_by=user).job.pk == keyless.job.pk

    for submission in (keyless, keyed, other_key):
        jobs.run_job(submission.job.pk)
    again = _submit_writes(catalog, ["a", "b"], requested_by=user, idempotency_key="retry-1")
    assert not again.created and again.job.pk == keyed.job.pk and again.job.status == "succeeded"
    assert _results(keyed.job) == [(0, "a", "enrolled"), (1, "b", "enrolled")]


def test_identical_submission_returns_the_unfinished_job_then_a_new_one(catalog):
    user = UserFactory()
    first = _submit_writes(catalog, ["a"], requested_by=user)
    assert _submit_writes(catalog, ["a"], requested_by=user).job.pk == first.job.pk
    assert _submit_writes(catalog, ["a"], requested_by=UserFactory()).created  # someone else's request
    jobs.run_job(first.job.pk)
    assert _submit_writes(catalog, ["a"], requested_by=user).created


def test_sending_an_unfinished_job_again_resumes_it(catalog, django_capture_on_commit_callbacks):
    user = UserFactory()
    job = _submit_writes(catalog, ["r1", "r2", "r3"], requested_by=user).job
    jobs.run_job(job.pk, chunk_size=1, max_chunks=1)  # a run that ended with its process
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = _submit_writes(catalog, ["r1", "r2", "r3"], requested_by=user)
    assert not again.created and again.job.pk == job.pk and len(callbacks) == 1
    job.refresh_from_db()
    assert (job.status, job.processed, job.attempts) == ("succeeded", 3, 2)
    assert _results(job) == [(0, "r1", "enrolled"), (1, "r2", "enrolled"), (2, "r3", "enrolled")]


def test_a_job_whose_program_left_the_catalog_fails_with_the_reason(catalog):
    job = Job.objects.create(
        kind=Job.Kind.PROGRAM_ENROLLMENTS,
        program_uuid=uuid4(),
        parameters={"create": True, "update": True},
        learners=_items(catalog, ["a"]),
        total=1,
        pending_fingerprint="x" * 64,
    )
    job = jobs.run_job(job.pk)
    assert job.status == "failed" and "does not exist" in job.error and job.pending_fingerprint is None


def test_chunk_queries_do_not_grow_with_the_chunk(catalog):
    def queries(count):
        job = _submit_writes(catalog, [f"q{count}-{i}" for i in range(count)]).job
        with CaptureQueriesContext(connection) as captured:
            jobs.run_job(job.pk, chunk_size=count, max_chunks=1)
        return len(captured)

    assert queries(5) == queries(40)


def test_task_runs_the_job_in_process_without_a_broker(catalog, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = _submit_writes(catalog, ["e1", "e2"]).job
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert job.status == "succeeded" and job.processed == 2


def test_task_marks_a_job_failed_on_an_unexpected_error(catalog):
    job = _submit_writes(catalog, ["u1"]).job
    with mock.patch.object(jobs, "_apply", side_effect=ValueError("bug")):
        tasks.run_job.apply(args=[str(job.pk)])
    job.refresh_from_db()
    assert job.status == "failed" and "bug" in job.error
    assert not ProgramEnrollment.objects.exists()


def test_results_csv_lists_every_learner_in_order(catalog):
    job = jobs.run_job(_submit_writes(catalog, ["c1", "c,2"]).job.pk)
    assert "".join(jobs.iter_job_results_csv(job)) == 'student_key,status,detail\r\nc1,enrolled,\r\n"c,2",enrolled,\r\n'


def test_stalled_jobs_are_sent_again_and_old_finished_jobs_deleted(catalog, django_capture_on_commit_callbacks):
    stalled = _submit_writes(catalog, ["s1"]).job
    finished = jobs.run_job(_submit_writes(catalog, ["s2"]).job.pk)
    Job.objects.filter(pk=stalled.pk).update(updated=timezone.now() - timedelta(hours=2))
    Job.objects.filter(pk=finished.pk).update(finished=timezone.now() - timedelta(days=40))

    with django_capture_on_commit_callbacks(execute=True):  # sent once the task's claims commit
        assert tasks.resume_stalled_jobs.apply(kwargs={"idle_minutes": 30}).get() == 1
    stalled.refresh_from_db()
    assert stalled.status == "succeeded"

    assert tasks.delete_finished_jobs.apply(kwargs={"retention_days": 30}).get() == 1
    assert list(Job.objects.values_list("pk", flat=True)) == [stalled.pk]
    assert not JobResult.objects.filter(job_id=finished.pk).exists()
    with pytest.raises(InvalidRequest):
        jobs.delete_finished_jobs(retention_days=0)


def test_the_periodic_task_sends_jobs_that_lost_their_worker_once_a_period(
    catalog, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(jobs, "_enqueue", lambda job_id, **kwargs: sent.append(job_id))
    now = timezone.now()
    lost = _submit_writes(catalog, ["r1"]).job  # running, its worker gone two minutes ago
    busy = _submit_writes(catalog, ["r2"]).job  # running, a chunk committed a moment ago
    waiting = _submit_writes(catalog, ["q1"]).job  # queued behind others for ten minutes
    forgotten = _submit_writes(catalog, ["q2"]).job  # queued for an hour: its message was lost
    unsent = _submit_writes(catalog, ["q3"]).job  # the broker did not take it
    Job.objects.filter(pk__in=[lost.pk, busy.pk]).update(status="running")
    Job.objects.filter(pk=lost.pk).update(updated=now - timedelta(seconds=121))
    Job.objects.filter(pk=waiting.pk).update(updated=now - timedelta(minutes=10))
    Job.objects.filter(pk=forgotten.pk).update(updated=now - timedelta(hours=1))
    Job.objects.filter(pk=unsent.pk).update(updated=now - timedelta(seconds=121), error=jobs.JOB_NOT_SENT)
    sent.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert set(jobs.resume_stalled_jobs(idle_minutes=30)) == {lost.pk, forgotten.pk, unsent.pk}
    assert set(sent) == {lost.pk, forgotten.pk, unsent.pk}
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.resume_stalled_jobs(idle_minutes=30) == []  # claimed: not again within the period
    assert len(sent) == 3
    assert Job.objects.get(pk=lost.pk).updated > now - timedelta(seconds=5)
