"""The learner pages' endpoints inside the LMS: the platform functions they read, URL names, LMS sign-ins.

The host-independent behaviour is tested in ``tests/rest_api/test_learner_endpoints.py`` (which runs here
too); this module checks what only the LMS has: the certificates API, resume URLs, bulk email and due
dates reaching the response through ``OpenEdxLMSBackend.get_course_run_overviews``, the built-in URL names,
and the LMS session and JWT middleware.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from edx_rest_framework_extensions.auth.jwt.tests.utils import generate_jwt
from rest_framework.test import APIClient

lms = pytest.importorskip(
    "tests.openedx.platform_data",
    reason="needs the LMS with the package installed (the taken-over run)",
    exc_type=ImportError,
)

from tests.factories import ProgramEnrollmentFactory  # noqa: E402

pytestmark = pytest.mark.django_db

COURSE = "course-v1:GTx+LP101+2026"
NOW = timezone.now()


@pytest.fixture
def setup():
    from common.djangoapps.student.models import CourseEnrollment
    from openedx.core.djangoapps.content.course_overviews.models import CourseOverview
    from openedx_harness.catalog import cache_programs

    program = lms.program(COURSE, type="MicroMasters", title="MicroMasters in Learning")
    cache_programs([program])  # the per-type lists too
    CourseOverview.objects.filter(id=lms.course(COURSE)).update(
        start=NOW - timedelta(days=100), end=NOW + timedelta(days=100), self_paced=True
    )
    learner = lms.user("portal-learner")
    ProgramEnrollmentFactory(
        user=learner, program_uuid=program["uuid"], curriculum_uuid=lms.curriculum_uuid(program), status="enrolled"
    )
    CourseEnrollment.objects.create(user=learner, course_id=lms.course(COURSE), mode="masters", is_active=True)
    client = APIClient()
    client.force_login(learner)
    return program, learner, client


def test_the_built_in_url_names_reverse_to_the_built_in_paths(setup):
    program, learner, _client = setup
    base = "/api/program_enrollments/v1/"
    assert reverse("programs_api:v1:learner_program_enrollments") == f"{base}programs/enrollments/"
    assert reverse("programs_api:v1:user_program_readonly_access") == f"{base}programs/readonly_access/"
    assert (
        reverse("programs_api:v1:program_course_enrollments_overview", kwargs={"program_uuid": program["uuid"]})
        == f"{base}programs/{program['uuid']}/overview/"
    )
    assert (
        reverse(
            "programs_api:v1:user_program_course_enrollments",
            kwargs={"username": learner.username, "program_uuid": program["uuid"]},
        )
        == f"{base}users/portal-learner/programs/{program['uuid']}/courses"
    )


def test_platform_certificates_resume_urls_emails_and_due_dates_reach_the_page(setup, monkeypatch):
    from common.djangoapps.student import helpers
    from lms.djangoapps.bulk_email import api as bulk_email
    from lms.djangoapps.certificates import api as certificates
    from lms.djangoapps.course_api import api as course_api

    program, learner, client = setup
    monkeypatch.setattr(
        certificates,
        "get_certificates_for_user_by_course_keys",
        lambda user, keys: {
            key: {"is_passing": True, "created": NOW - timedelta(days=40), "download_url": "/certificates/abc"}
            for key in keys
        },
    )
    monkeypatch.setattr(
        helpers,
        "get_resume_urls_for_enrollments",
        lambda user, enrollments: {e.course_id: f"/courses/{e.course_id}/jump_to/block" for e in enrollments},
    )
    monkeypatch.setattr(bulk_email, "get_emails_enabled", lambda user, key: False)

    def due_dates(request, key, user):
        return [{"name": "Quiz 1", "url": request.build_absolute_uri("/jump/q1"), "date": NOW + timedelta(days=3)}]

    monkeypatch.setattr(course_api, "get_due_dates", due_dates)
    url = reverse(
        "programs_api:v1:user_program_course_enrollments",
        kwargs={"username": learner.username, "program_uuid": program["uuid"]},
    )
    run = client.get(url).json()["results"][0]
    # Self-paced with a passing certificate over 30 days old: completed, so no due dates.
    assert run["course_run_status"] == "completed"
    assert run["due_dates"] == []
    assert run["certificate_download_url"] == "http://testserver/certificates/abc"
    assert run["resume_course_run_url"] == f"http://testserver/courses/{COURSE}/jump_to/block"
    assert run["emails_enabled"] is False
    assert run["micromasters_title"] == "MicroMasters in Learning"
    assert run["course_run_url"] == f"http://testserver/course/{COURSE}/home"

    monkeypatch.setattr(certificates, "get_certificates_for_user_by_course_keys", lambda user, keys: {})
    run = client.get(url).json()["results"][0]
    assert run["course_run_status"] == "in_progress"
    assert run["due_dates"][0]["name"] == "Quiz 1"
    assert run["due_dates"][0]["url"] == "http://testserver/jump/q1"
    assert "certificate_download_url" not in run


def test_an_lms_session_and_an_lms_jwt_open_the_pages(setup):
    from program_enrollments.rest_api.v1 import learner_views

    before = learner_views.ProgramCourseRunsOverviewView.permission_classes
    program, learner, client = setup
    overview = reverse("programs_api:v1:program_course_enrollments_overview", kwargs={"program_uuid": program["uuid"]})
    assert [run["course_run_id"] for run in client.get(overview).json()["course_runs"]] == [COURSE]
    jwt = APIClient()
    jwt.credentials(HTTP_AUTHORIZATION=f"JWT {generate_jwt(learner)}")
    assert jwt.get(overview).status_code == 200
    restricted = APIClient()
    restricted.credentials(
        HTTP_AUTHORIZATION=f"JWT {generate_jwt(learner, is_restricted=True, scopes=['program_enrollments:read'])}"
    )
    assert restricted.get(overview).status_code == 403
    # The LMS's EnsureJWTAuthSettingsMiddleware left the classes as they were (they name the refusal).
    assert learner_views.ProgramCourseRunsOverviewView.permission_classes is before


def test_global_staff_list_the_sites_programs_of_the_type(setup):
    program, _learner, _client = setup
    staff = APIClient()
    staff.force_login(lms.user("global-staff", is_staff=True))
    listed = staff.get(reverse("programs_api:v1:user_program_readonly_access"), {"type": "micromasters"}).json()
    assert {"uuid": program["uuid"], "slug": "omscs"} in listed
