"""The job endpoints: big writes and transfers accepted with 202, their status and per-learner results."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from program_enrollments.models import Job, ProgramCourseEnrollment, ProgramEnrollment
from tests.api.helpers import enroll, enroll_course
from tests.rest_api.conftest import app_settings

pytestmark = pytest.mark.django_db

BASE = "/api/program_enrollments/v1"


@pytest.fixture(autouse=True)
def _run_jobs_at_commit(monkeypatch):
    """A submission's job runs when the submission commits (in-process, as without a broker).

    The test's transaction never commits: the callbacks a submission registers are run at once.
    """
    from django.db import transaction

    from program_enrollments.api import jobs

    def on_commit(callback, using=None, robust=False):
        callback()

    monkeypatch.setattr(jobs.transaction, "on_commit", on_commit)
    assert transaction.on_commit is on_commit


def _items(catalog, keys, status="enrolled"):
    return [
        {"student_key": key, "status": status, "curriculum_uuid": str(catalog.CYBERSECURITY_CURRICULUM)} for key in keys
    ]


def _results(caller, body):
    response = caller.get(body["results_url"])
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


@app_settings(MAX_BATCH_SIZE=25, WRITE_CHUNK_SIZE=10)
def test_upload_beyond_the_batch_limit_runs_as_a_job(catalog, gtx_writer):
    keys = [f"L{i:03}" for i in range(60)]
    sync = gtx_writer.put(f"{BASE}/programs/{catalog.CYBERSECURITY}/enrollments/", _items(catalog, keys))
    assert sync.status_code == 413

    response = gtx_writer.put(f"{BASE}/programs/{catalog.CYBERSECURITY}/enrollments/jobs/", _items(catalog, keys))

    assert response.status_code == 202
    body = response.json()
    assert response["Location"] == body["url"]
    assert body["url"].endswith(f"/programs/{catalog.CYBERSECURITY}/jobs/{body['id']}/")
    status = gtx_writer.get(body["url"])
    assert status.status_code == 200
    assert {key: status.json()[key] for key in ("status", "total", "processed", "succeeded", "failed", "counts")} == {
        "status": "succeeded",
        "total": 60,
        "processed": 60,
        "succeeded": 60,
        "failed": 0,
        "counts": {"enrolled": 60},
    }
    rows = _results(gtx_writer, body)
    assert rows[0] == ["student_key", "status", "detail"]
    assert rows[1:] == [[key, "enrolled", ""] for key in keys]
    assert ProgramEnrollment.objects.count() == 60
    assert Job.objects.get().requested_by == gtx_writer.user


def test_csv_upload_of_course_enrollments(catalog, gtx_writer):
    enroll(catalog.CYBERSECURITY, ["c1", "c2"])
    body = "student_key,status,course_staff\nc1,active,true\nc2,inactive,\nc3,active,no\n"
    response = gtx_writer.client.post(
        f"{BASE}/programs/{catalog.CYBERSECURITY}/courses/{catalog.SHARED_COURSE}/enrollments/jobs/",
        body,
        content_type="text/csv",
        **gtx_writer.headers,
    )
    assert response.status_code == 202, response.content
    assert _results(gtx_writer, response.json())[1:] == [
        ["c1", "active", ""],
        ["c2", "inactive", ""],
        ["c3", "not-in-program", ""],
    ]
    assert ProgramCourseEnrollment.objects.get(program_enrollment__external_user_key="c1").course_staff is True


def test_csv_file_upload_of_program_enrollments(catalog, gtx_writer):
    upload = SimpleUploadedFile(
        "learners.csv",
        f"student_key,status,curriculum_uuid\nf1,enrolled,{catalog.CYBERSECURITY_CURRICULUM}\n".encode(),
        content_type="text/csv",
    )
    response = gtx_writer.client.post(
        f"{BASE}/programs/{catalog.CYBERSECURITY}/enrollments/jobs/", {"file": upload}, **gtx_writer.headers
    )
    assert response.status_code == 202, response.content
    assert ProgramEnrollment.objects.get().external_user_key == "f1"


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        ('[{"student_key": "a", "status": "enrolled"}]', "application/json", "curriculum_uuid"),
        ('{"student_key": "a"}', "application/json", "JSON list"),
        ("[1, 2]", "application/json", "not objects: item 0, item 1"),
        ("[{", "application/json", "Malformed JSON"),
        ("student_key,status,colour\na,enrolled,red\n", "text/csv", "unknown columns: colour"),
        ("student_key,status\na,enrolled,extra\n", "text/csv", "row 2: more cells than columns"),
        ("student_key,status\n\xff", "text/csv", "UTF-8"),
    ],
)
def test_bad_uploads_get_a_400_and_no_job(catalog, gtx_writer, body, content_type, message):
    data = body.encode("latin-1") if "\xff" in body else body
    response = gtx_writer.client.post(
        f"{BASE}/programs/{catalog.CYBERSECURITY}/enrollments/jobs/",
        data,
        content_type=content_type,
        **gtx_writer.headers,
    )
    assert response.status_code == 400
    assert message in response.json()["developer_message"]
    assert not Job.objects.exists() and not ProgramEnrollment.objects.exists()


def test_a_job_upload_is_validated_as_a_synchronous_write_is(catalog, gtx_writer, monkeypatch):
    """In one pass (no serializer per item) when every item is well formed; the same 400 otherwise."""
    from program_enrollments.rest_api.v1 import serializers as shapes

    course = f"{BASE}/programs/{catalog.CYBERSECURITY}/courses/{catalog.SHARED_COURSE}/enrollments/"
    malformed = [{"student_key": "v1", "status": "active"}, {"student_key": " ", "status": "active", "course_staff": 2}]
    synchronous, job = gtx_writer.put(course, malformed), gtx_writer.put(f"{course}jobs/", malformed)
    assert synchronous.status_code == job.status_code == 400
    assert job.json() == synchronous.json()
    assert not Job.objects.exists()

    def refuse(*args, **kwargs):
        raise AssertionError("a well-formed upload went through the item serializer")

    monkeypatch.setattr(shapes.CourseEnrollmentItemSerializer, "__init__", refuse)
    enroll(catalog.CYBERSECURITY, ["v1", "v2"])
    as_json = gtx_writer.put(f"{course}jobs/", [{"student_key": "v1", "status": "active", "course_staff": True}])
    as_csv = gtx_writer.client.put(
        f"{course}jobs/",
        "student_key,status,course_staff\nv2,inactive,no\n",
        content_type="text/csv",
        **gtx_writer.headers,
    )
    assert (as_json.status_code, as_csv.status_code) == (202, 202), (as_json.content, as_csv.content)
    assert _results(gtx_writer, as_json.json())[1:] == [["v1", "active", ""]]
    assert _results(gtx_writer, as_csv.json())[1:] == [["v2", "inactive", ""]]


def test_idempotency_key_returns_the_same_job(catalog, gtx_writer):
    url = f"{BASE}/programs/{catalog.CYBERSECURITY}/enrollments/jobs/"
    first = gtx_writer.post(url, _items(catalog, ["i1"]), HTTP_IDEMPOTENCY_KEY="batch-7")
    again = gtx_writer.post(url, _items(catalog, ["i1"]), HTTP_IDEMPOTENCY_KEY="batch-7")
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    other = gtx_writer.post(url, _items(catalog, ["i2"]), HTTP_IDEMPOTENCY_KEY="batch-7")
    assert other.status_code == 409 and other.json()["error_code"] == "idempotency_key_reused"
    assert Job.objects.count() == 1
    # The job ran once: a POST replayed would say "conflict".
    assert _results(gtx_writer, first.json())[1:] == [["i1", "enrolled", ""]]


@app_settings(MAX_BATCH_SIZE=25)
def test_transfer_of_a_whole_program_beyond_the_limit_runs_as_a_job(catalog, gtx_writer):
    keys = [f"T{i:02}" for i in range(30)]
    enroll(catalog.CYBERSECURITY, keys)
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, keys)
    body = {"to_program_uuid": str(catalog.OTHER), "source_status": "canceled"}
    assert gtx_writer.post(f"{BASE}/programs/{catalog.CYBERSECURITY}/transfers/", body).status_code == 413

    response = gtx_writer.post(f"{BASE}/programs/{catalog.CYBERSECURITY}/transfers/jobs/", body)

    assert response.status_code == 202, response.content
    status = gtx_writer.get(response["Location"]).json()
    assert (status["kind"], status["status"], status["succeeded"], status["total"]) == ("transfer", "succeeded", 30, 30)
    rows = _results(gtx_writer, response.json())[1:]
    assert sorted(row[0] for row in rows) == keys
    assert {row[1] for row in rows} == {"transferred"} and {row[2] for row in rows} == {catalog.SHARED_COURSE}
    assert set(
        ProgramEnrollment.objects.filter(program_uuid=catalog.CYBERSECURITY).values_list("status", flat=True)
    ) == {"canceled"}


def test_transfer_job_needs_write_access_to_the_target(catalog, gtx_writer):
    response = gtx_writer.post(
        f"{BASE}/programs/{catalog.CYBERSECURITY}/transfers/jobs/", {"to_program_uuid": str(catalog.MIT)}
    )
    assert response.status_code == 403
    bad = gtx_writer.post(
        f"{BASE}/programs/{catalog.CYBERSECURITY}/transfers/jobs/",
        {"to_program_uuid": str(catalog.OTHER), "source_status": "gone"},
    )
    assert bad.status_code == 400 and "source_status" in bad.json()["developer_message"]
    assert not Job.objects.exists()


def test_jobs_follow_the_program_permissions(catalog, gtx_writer, gtx_reader, outsider, anonymous, restricted_gtx):
    url = f"{BASE}/programs/{catalog.CYBERSECURITY}/enrollments/jobs/"
    assert anonymous.post(url, _items(catalog, ["p1"])).status_code == 401
    assert outsider.post(url, _items(catalog, ["p1"])).status_code == 403
    assert gtx_reader.post(url, _items(catalog, ["p1"])).status_code == 403
    body = restricted_gtx.post(url, _items(catalog, ["p1"])).json()
    job_url = f"{BASE}/programs/{catalog.CYBERSECURITY}/jobs/{body['id']}/"

    assert gtx_reader.get(job_url).status_code == 200
    assert gtx_reader.get(job_url + "results").status_code == 200
    assert outsider.get(job_url).status_code == 403
    assert outsider.get(job_url + "results").status_code == 403
    assert anonymous.get(job_url).status_code == 401
    # Through another program's URL, the job does not exist.
    elsewhere = gtx_writer.get(f"{BASE}/programs/{catalog.ANALYTICS}/jobs/{body['id']}/")
    assert elsewhere.status_code == 404 and elsewhere.json()["error_code"] == "job_does_not_exist"
    assert gtx_writer.get(f"{BASE}/programs/{catalog.CYBERSECURITY}/jobs/not-a-uuid/").status_code == 404
    assert (
        gtx_writer.get(
            f"{BASE}/programs/{catalog.CYBERSECURITY}/jobs/{body['id']}/results", HTTP_ACCEPT="text/csv"
        ).status_code
        == 200
    )


def test_unknown_program_or_course_is_a_404(catalog, gtx_writer, staff):
    missing = staff.post(f"{BASE}/programs/00000000-0000-0000-0000-000000000000/enrollments/jobs/", [])
    assert missing.status_code == 404
    course = gtx_writer.post(
        f"{BASE}/programs/{catalog.CYBERSECURITY}/courses/{catalog.LONE_COURSE}/enrollments/jobs/", []
    )
    assert course.status_code == 404 and course.json()["error_code"] == "course_not_in_program"


def _stalled_job(catalog, caller, keys, monkeypatch):
    """A job submitted with the broker's messages captured, one chunk of two committed, then its worker gone."""
    from program_enrollments.api import jobs

    sent = []
    monkeypatch.setattr(jobs, "_enqueue", lambda job_id, **kwargs: sent.append(job_id))
    body = caller.put(f"{BASE}/programs/{catalog.CYBERSECURITY}/enrollments/jobs/", _items(catalog, keys)).json()
    assert [str(job_id) for job_id in sent] == [body["id"]]
    sent.clear()
    with app_settings(WRITE_CHUNK_SIZE=2):
        jobs.run_job(body["id"], max_chunks=1)
    return body, sent


def test_reading_the_status_of_a_job_that_lost_its_worker_sends_it_again(catalog, gtx_writer, monkeypatch):
    """With a broker: a running job without a committed chunk for STALLED_JOB_SECONDS is sent again, once a period."""
    from datetime import timedelta

    from django.utils import timezone

    from program_enrollments.api import jobs

    monkeypatch.setattr(jobs, "_runs_in_process", lambda: False)
    keys = [f"W{i}" for i in range(5)]
    body, sent = _stalled_job(catalog, gtx_writer, keys, monkeypatch)

    def status():
        response = gtx_writer.get(body["url"])
        assert response.status_code == 200
        return response.json()

    assert status()["processed"] == 2 and sent == []  # it committed a chunk a moment ago
    long_ago = timezone.now() - timedelta(seconds=121)
    Job.objects.filter(pk=body["id"]).update(updated=long_ago)
    assert status()["status"] == "running"
    assert [str(job_id) for job_id in sent] == [body["id"]]
    assert Job.objects.get(pk=body["id"]).updated > long_ago
    assert status()["status"] == "running" and len(sent) == 1  # once a period, however often it is read

    with app_settings(STALLED_JOB_SECONDS=3600):
        Job.objects.filter(pk=body["id"]).update(updated=timezone.now() - timedelta(seconds=600))
        status()
        assert len(sent) == 1  # idle for less than the setting
    jobs.run_job(body["id"])  # the delivery that was sent runs it to its end
    Job.objects.filter(pk=body["id"]).update(updated=long_ago)
    assert status()["status"] == "succeeded" and len(sent) == 1  # a finished job is never sent
    assert ProgramEnrollment.objects.filter(external_user_key__in=keys).count() == 5

    queued = gtx_writer.put(f"{BASE}/programs/{catalog.CYBERSECURITY}/enrollments/jobs/", _items(catalog, ["Q1"]))
    sent.clear()
    Job.objects.filter(pk=queued.json()["id"]).update(updated=long_ago)
    assert gtx_writer.get(queued.json()["url"]).json()["status"] == "queued"
    assert sent == []  # its message waits in the queue (resume_stalled_jobs covers a lost one)


def test_without_a_broker_reading_a_stalled_job_runs_nothing_in_the_request(catalog, gtx_writer, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from program_enrollments.api import jobs

    assert jobs._runs_in_process()  # the test settings have no broker
    body, sent = _stalled_job(catalog, gtx_writer, ["N1", "N2", "N3"], monkeypatch)
    Job.objects.filter(pk=body["id"]).update(updated=timezone.now() - timedelta(hours=1))
    response = gtx_writer.get(body["url"])
    assert (response.json()["status"], response.json()["processed"]) == ("running", 2)
    assert sent == []


def test_a_broker_that_does_not_answer_fails_no_submission_and_the_job_is_sent_when_read(
    catalog, gtx_writer, monkeypatch
):
    from datetime import timedelta

    from django.utils import timezone
    from kombu.exceptions import OperationalError

    from program_enrollments import tasks
    from program_enrollments.api import jobs

    monkeypatch.setattr(jobs, "_runs_in_process", lambda: False)
    sent = []

    def broker_down(job_id):
        sent.append("refused")
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.run_job, "delay", broker_down)
    response = gtx_writer.put(
        f"{BASE}/programs/{catalog.CYBERSECURITY}/enrollments/jobs/", _items(catalog, ["D1", "D2"])
    )
    assert response.status_code == 202
    body = response.json()
    assert (body["status"], body["error"]) == ("queued", jobs.JOB_NOT_SENT)

    assert gtx_writer.get(body["url"]).json()["error"] == jobs.JOB_NOT_SENT
    assert sent == ["refused"]  # not tried again within the period
    Job.objects.filter(pk=body["id"]).update(updated=timezone.now() - timedelta(seconds=121))
    status = gtx_writer.get(body["url"])  # the broker still down: tried once, answered as before
    assert status.status_code == 200 and status.json()["error"] == jobs.JOB_NOT_SENT
    assert sent == ["refused", "refused"]
    sent.clear()

    monkeypatch.setattr(tasks.run_job, "delay", sent.append)  # the broker is back
    Job.objects.filter(pk=body["id"]).update(updated=timezone.now() - timedelta(seconds=121))
    assert gtx_writer.get(body["url"]).json()["error"] == ""  # sent: the error is gone
    assert sent == [body["id"]]
    Job.objects.filter(pk=body["id"]).update(updated=timezone.now() - timedelta(seconds=121))
    gtx_writer.get(body["url"])
    assert sent == [body["id"]]  # a queued job whose task was sent waits in the queue: not sent again
    job = jobs.run_job(body["id"])
    assert (job.status, job.processed, job.error) == ("succeeded", 2, "")
