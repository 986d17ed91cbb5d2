"""Jobs run by real Celery workers on a Redis broker, submitted to a gunicorn server: a worker killed
mid-job (SIGKILL of its whole process group) and a message delivered again while its job still runs.

The web server and the workers are separate processes on the test database, so these tests run
on PostgreSQL and MariaDB (SQLite's test database lives in the test process's memory). A Redis
broker must answer at 127.0.0.1:6379 (its database 12 for PostgreSQL, 13 for MariaDB; or
``PROGRAM_ENROLLMENTS_TEST_REDIS_URL``); each test uses a queue of its own.
"""

from __future__ import annotations

import csv
import io
import time
from collections import Counter
from uuid import uuid4

import pytest
import requests
from django.db import connection

from program_enrollments.models import Job, JobResult, ProgramCourseEnrollment, ProgramEnrollment
from tests import catalog as c
from tests.api.helpers import enroll, enroll_course
from tests.factories import SupportStaffFactory
from tests.rest_api.processes import CeleryWorker, GunicornServer, redis_url, skip_without_workers

pytestmark = [
    pytest.mark.faults,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor == "sqlite",
        reason="jobs run by worker processes on the test database need PostgreSQL or MariaDB "
        "(DATABASE_URL=postgres://... or mysql://...)",
    ),
]

BASE = "/api/program_enrollments/v1"
TIMEOUT = 60
JOB_TIMEOUT = 180


@pytest.fixture(autouse=True)
def _broker_and_host(capsys):
    skip_without_workers(capsys, "jobs with real workers")


@pytest.fixture
def queue():
    """A Redis queue of the test's own, deleted at the end."""
    import redis

    name = f"program-enrollments-jobs-{uuid4().hex[:12]}"
    yield name
    redis.Redis.from_url(redis_url()).delete(name)


@pytest.fixture
def processes(transactional_db, tmp_path):
    """Starts servers and workers (all with one JWT secret); kills those still running at the end."""
    started = []
    secret = f"jobs-test-{uuid4().hex}"

    def start(kind, **kwargs):
        number = len(started)
        process = kind(tmp_path / f"{kind.__name__.lower()}-{number}.log", jwt_secret=secret, **kwargs)
        started.append(process)
        return process.start()

    yield start
    for process in started:
        process.kill()


def _wait(predicate, what, timeout=JOB_TIMEOUT, *logs):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}\n" + "\n----\n".join(log() for log in logs))


def _job(job_id) -> Job:
    return Job.objects.defer("learners").get(pk=job_id)


def _post_enrollments_job(server, user, keys, **headers) -> requests.Response:
    """POST a job enrolling ``keys`` in the Cybersecurity program (create only); it must be accepted."""
    items = [
        {"student_key": key, "status": "enrolled", "curriculum_uuid": str(c.CYBERSECURITY_CURRICULUM)} for key in keys
    ]
    response = requests.post(
        f"{server.url}{BASE}/programs/{c.CYBERSECURITY}/enrollments/jobs/",
        json=items,
        headers={**server.headers(user), **headers},
        timeout=TIMEOUT,
    )
    assert response.status_code == 202, response.text
    return response


def _check_results(job_id, keys, status):
    """Every learner has exactly one result, in the job's order, with ``status``."""
    rows = list(
        JobResult.objects.filter(job_id=job_id).order_by("position").values_list("position", "student_key", "status")
    )
    assert [position for position, _, _ in rows] == list(range(len(keys)))
    assert Counter(key for _, key, _ in rows) == Counter(keys)
    assert {value for _, _, value in rows} == {status}, Counter(value for _, _, value in rows)


def test_worker_killed_mid_job_is_replaced_and_each_learner_is_written_once(catalog, processes, queue):
    user = SupportStaffFactory(username="registrar")
    broker = {"broker_url": redis_url(), "queue": queue}
    server = processes(
        GunicornServer,
        workers=2,
        environment={"CELERY_BROKER_URL": redis_url(), "CELERY_TASK_DEFAULT_QUEUE": queue},
    )
    first = processes(CeleryWorker, name="first", visibility_timeout=3, chunk_size=10, pause=0.2, **broker)
    keys = [f"KILL-{index:04}" for index in range(300)]
    idempotency = {"Idempotency-Key": "kill-test"}

    # POST creates only: a learner written twice would get "conflict" the second time.
    response = _post_enrollments_job(server, user, keys, **idempotency)
    job_id = response.json()["id"]
    job_url = response.headers["Location"]

    processed = _wait(
        lambda: _job(job_id).processed >= 40 and _job(job_id).processed, "progress", JOB_TIMEOUT, first.log
    )
    first.kill()
    job = _job(job_id)
    assert job.status == "running" and 40 <= job.processed < 300, (job.status, job.processed, processed)
    at_kill = job.processed
    # What the killed worker committed is there; the chunk it was in the middle of is not.
    assert ProgramEnrollment.objects.count() == job.processed

    second = processes(CeleryWorker, name="second", visibility_timeout=3, chunk_size=10, **broker)
    _wait(lambda: _job(job_id).is_finished, "the job to finish", JOB_TIMEOUT, second.log, first.log)

    job = _job(job_id)
    assert (job.status, job.total, job.processed, job.succeeded, job.failed) == ("succeeded", 300, 300, 300, 0)
    assert job.attempts >= 2, "the message was not delivered again"
    # Sent again once it has run: the same job, not run again.
    again = _post_enrollments_job(server, user, keys, **idempotency)
    assert again.json()["id"] == job_id and again.json()["status"] == "succeeded"
    assert _job(job_id).attempts == job.attempts
    _check_results(job_id, keys, "enrolled")
    assert ProgramEnrollment.objects.count() == 300
    history = Counter(ProgramEnrollment.history.model.objects.values_list("external_user_key", flat=True))
    assert history == Counter(keys), "a learner was written more than once"

    status = requests.get(job_url, headers=server.headers(user), timeout=TIMEOUT).json()
    assert (status["status"], status["counts"]) == ("succeeded", {"enrolled": 300})
    results = requests.get(status["results_url"], headers=server.headers(user), timeout=TIMEOUT)
    rows = list(csv.reader(io.StringIO(results.text)))
    assert rows[0] == ["student_key", "status", "detail"] and rows[1:] == [[key, "enrolled", ""] for key in keys]
    assert not server.errors(), server.errors()
    print(
        f"\nJob killed mid-run: worker SIGKILLed after {at_kill} of 300 learners committed, finished by a "
        f"second worker after {job.attempts} deliveries; 300 results, 300 history rows"
    )


def test_message_delivered_again_while_its_job_runs_never_writes_twice(catalog, processes, queue):
    """Two workers; the visibility timeout is shorter than the job: both end up running it, chunk after chunk."""
    keys = [f"MOVE-{index:04}" for index in range(200)]
    enroll(c.CYBERSECURITY, keys)
    enroll_course(c.CYBERSECURITY, c.SHARED_COURSE, keys)
    user = SupportStaffFactory(username="registrar")
    broker = {"broker_url": redis_url(), "queue": queue, "visibility_timeout": 2, "chunk_size": 5, "pause": 0.1}
    server = processes(
        GunicornServer, workers=2, environment={"CELERY_BROKER_URL": redis_url(), "CELERY_TASK_DEFAULT_QUEUE": queue}
    )
    workers = [processes(CeleryWorker, name=f"worker{number}", **broker) for number in range(2)]

    response = requests.post(
        f"{server.url}{BASE}/programs/{c.CYBERSECURITY}/transfers/jobs/",
        json={"to_program_uuid": str(c.OTHER), "source_status": "canceled"},
        headers=server.headers(user),
        timeout=TIMEOUT,
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    _wait(lambda: _job(job_id).is_finished, "the job to finish", JOB_TIMEOUT, *(worker.log for worker in workers))

    job = _job(job_id)
    assert (job.status, job.processed, job.succeeded) == ("succeeded", 200, 200)
    assert job.attempts >= 2, "the message was not delivered again within the job"
    rows = list(JobResult.objects.filter(job_id=job_id).order_by("position").values_list("student_key", "status"))
    assert sorted(key for key, _ in rows) == keys and {status for _, status in rows} == {"transferred"}
    active = ProgramCourseEnrollment.objects.filter(status="active")
    assert active.count() == 200 and set(active.values_list("program_enrollment__program_uuid", flat=True)) == {c.OTHER}
    history = ProgramCourseEnrollment.history.model.objects.filter(program_enrollment__program_uuid=c.OTHER)
    assert Counter(history.values_list("id", flat=True)) == Counter(
        dict.fromkeys(active.values_list("id", flat=True), 1)
    )
    assert not server.errors(), server.errors()
    print(f"\nJob delivered again while running: {job.attempts} deliveries, 200 learners transferred once each")


def test_a_job_whose_worker_was_killed_goes_on_when_its_status_is_read(catalog, processes, queue):
    """The broker's visibility timeout an hour (Redis's usual): reading the job's status sends its task again."""
    user = SupportStaffFactory(username="registrar")
    broker = {"broker_url": redis_url(), "queue": queue, "visibility_timeout": 3600, "chunk_size": 10}
    server = processes(
        GunicornServer,
        workers=2,
        environment={
            "CELERY_BROKER_URL": redis_url(),
            "CELERY_TASK_DEFAULT_QUEUE": queue,
            "PROGRAM_ENROLLMENTS_STALLED_JOB_SECONDS": "3",
        },
    )
    first = processes(CeleryWorker, name="first", pause=0.2, **broker)
    keys = [f"LOST-{index:04}" for index in range(200)]
    response = _post_enrollments_job(server, user, keys)
    job_id, job_url = response.json()["id"], response.headers["Location"]
    _wait(lambda: _job(job_id).processed >= 30, "progress", JOB_TIMEOUT, first.log)
    first.kill()
    at_kill = _job(job_id).processed
    killed = time.monotonic()

    second = processes(CeleryWorker, name="second", **broker)
    time.sleep(5)  # longer than STALLED_JOB_SECONDS: no message comes back by itself within the hour
    job = _job(job_id)
    assert (job.status, job.processed, job.attempts) == ("running", at_kill, 1)

    def finished():
        status = requests.get(job_url, headers=server.headers(user), timeout=TIMEOUT).json()
        return status["status"] == "succeeded" and status

    status = _wait(finished, "the job to finish", JOB_TIMEOUT, second.log, server.log)
    recovered = time.monotonic() - killed
    assert (status["processed"], status["succeeded"], status["counts"]) == (200, 200, {"enrolled": 200})
    assert _job(job_id).attempts == 2
    _check_results(job_id, keys, "enrolled")
    history = Counter(ProgramEnrollment.history.model.objects.values_list("external_user_key", flat=True))
    assert history == Counter(keys), "a learner was written more than once"
    assert not server.errors(), server.errors()
    print(
        f"\nJob whose worker was killed after {at_kill} of 200 learners (visibility timeout 3600 s): sent again by a "
        f"status read, finished {recovered:.1f} s after the kill"
    )


def test_a_job_submitted_while_the_broker_is_down_is_sent_when_it_is_back(catalog, processes, tmp_path):
    """Submitting answers 202 (the job stored, queued, not sent); once a broker answers, a status read sends it."""
    import shutil
    import subprocess

    from program_enrollments.api.jobs import JOB_NOT_SENT
    from tests.rest_api.processes import free_port

    redis_server = shutil.which("redis-server")
    if redis_server is None:
        pytest.skip("redis-server is not installed: the broker cannot be started during the test")
    port = free_port()
    broker_url = f"redis://127.0.0.1:{port}/0"
    user = SupportStaffFactory(username="registrar")
    server = processes(
        GunicornServer,
        workers=2,
        environment={"CELERY_BROKER_URL": broker_url, "PROGRAM_ENROLLMENTS_STALLED_JOB_SECONDS": "2"},
    )
    keys = [f"DOWN-{index:03}" for index in range(20)]
    response = _post_enrollments_job(server, user, keys)
    assert (response.json()["status"], response.json()["error"]) == ("queued", JOB_NOT_SENT)
    job_url = response.headers["Location"]
    status = requests.get(job_url, headers=server.headers(user), timeout=TIMEOUT)
    assert status.status_code == 200 and status.json()["status"] == "queued"

    broker = subprocess.Popen(
        [redis_server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        worker = processes(CeleryWorker, name="back", broker_url=broker_url, queue="celery")

        def finished():
            body = requests.get(job_url, headers=server.headers(user), timeout=TIMEOUT).json()
            return body["status"] == "succeeded" and body

        body = _wait(finished, "the job to be sent and run", JOB_TIMEOUT, worker.log, server.log)
    finally:
        broker.kill()
        broker.wait(timeout=TIMEOUT)
    assert (body["processed"], body["counts"], body["error"]) == (20, {"enrolled": 20}, "")
    _check_results(body["id"], keys, "enrolled")
    answered = server.access_log_path.read_text().splitlines()
    assert answered and not [line for line in answered if line.rsplit(" ", 1)[-1].startswith("5")], answered
