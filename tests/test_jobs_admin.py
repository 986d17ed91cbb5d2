"""The admin's transfer action runs large selections as a job; the job's page shows its progress and results."""

import csv
import io

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from program_enrollments.models import Job, ProgramCourseEnrollment, ProgramEnrollment
from tests import catalog as c
from tests.api.helpers import enroll, enroll_course
from tests.factories import UserFactory
from tests.settings import override_program_enrollments

pytestmark = pytest.mark.django_db

PE_ADMIN = "/admin/program_enrollments/programenrollment/"
JOB_ADMIN = "/admin/program_enrollments/job/"
KEYS = [f"A-{index:02}" for index in range(30)]


@pytest.fixture(autouse=True)
def _run_jobs_at_commit(monkeypatch):
    """A submission's job runs when the submission commits (the test's transaction never does)."""
    from program_enrollments.api import jobs

    monkeypatch.setattr(jobs.transaction, "on_commit", lambda callback, using=None, robust=False: callback())


@pytest.fixture
def learners(catalog):
    enroll(c.CYBERSECURITY, KEYS)
    enroll_course(c.CYBERSECURITY, c.SHARED_COURSE, KEYS)


def _transfer(client, keys, **fields):
    selected = list(ProgramEnrollment.objects.filter(external_user_key__in=keys).values_list("pk", flat=True))
    body = {"action": "transfer_to_another_program", "_selected_action": selected, "apply": "1", **fields}
    return client.post(PE_ADMIN, body)


@override_program_enrollments(MAX_BATCH_SIZE=25)
def test_transfer_of_more_learners_than_the_limit_runs_as_a_job(learners, support):
    response = _transfer(support, KEYS, to_program_uuid=str(c.OTHER), source_status="canceled")

    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{JOB_ADMIN}{job.pk}/change/"
    assert (job.kind, job.status, job.processed, job.succeeded) == ("transfer", "succeeded", 30, 30)
    assert job.requested_by.username == "support"
    page = support.get(response["Location"])
    assert page.status_code == 200
    assert "runs as a background job" in page.text and "30 of 30" in page.text and "30 transferred" in page.text
    results = support.get(f"{JOB_ADMIN}{job.pk}/results/")
    rows = list(csv.reader(io.StringIO(b"".join(results.streaming_content).decode())))
    assert rows[0] == ["student_key", "status", "detail"]
    assert sorted(row[0] for row in rows[1:]) == KEYS and {row[1] for row in rows[1:]} == {"transferred"}
    active = ProgramCourseEnrollment.objects.filter(status="active")
    assert active.count() == 30 and {row.program_enrollment.program_uuid for row in active} == {c.OTHER}


@override_program_enrollments(MAX_BATCH_SIZE=25)
def test_a_selection_within_the_limit_is_transferred_at_once(learners, support):
    response = _transfer(support, KEYS[:25], to_program_uuid=str(c.OTHER))
    assert response.status_code == 200 and response.text.count(">transferred<") == 25
    assert not Job.objects.exists()


@override_program_enrollments(MAX_BATCH_SIZE=25)
def test_job_pages_are_read_only_and_for_enrollment_viewers(learners, support):
    _transfer(support, KEYS, to_program_uuid=str(c.OTHER), dry_run="on")
    job = Job.objects.get()
    viewer, client = Client(), Client()
    viewing = UserFactory(username="viewer", is_staff=True)
    viewing.user_permissions.set(Permission.objects.filter(codename="view_programenrollment"))
    viewer.force_login(viewing)
    assert job.succeeded == 30 and not ProgramCourseEnrollment.objects.filter(program_enrollment__program_uuid=c.OTHER)

    page = viewer.get(f"{JOB_ADMIN}{job.pk}/change/")
    assert page.status_code == 200 and "30 would-transfer" in page.text and 'name="_save"' not in page.text
    assert viewer.get(f"{JOB_ADMIN}{job.pk}/results/").status_code == 200
    assert viewer.post(f"{JOB_ADMIN}{job.pk}/delete/").status_code == 403
    assert viewer.get(f"{JOB_ADMIN}add/").status_code == 403

    client.force_login(UserFactory(username="no-rights", is_staff=True))
    assert client.get(f"{JOB_ADMIN}{job.pk}/change/").status_code == 403
    assert client.get(f"{JOB_ADMIN}{job.pk}/results/").status_code == 404
