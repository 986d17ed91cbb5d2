"""API paths answer the same with or without their trailing slash, and unknown ones with a JSON 404.

Hosts run Django's ``CommonMiddleware`` with ``APPEND_SLASH`` on (the Open edX LMS does): a path
that resolves nowhere without its slash would be redirected, a write's body dropped (debug off:
a 301 the client replays as a GET) or refused with an HTML 500 (debug on). Each case runs with
debug on and off, and never meets a redirect.
"""

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from program_enrollments.models import ProgramEnrollment
from tests import catalog as c
from tests.api.helpers import enroll, enroll_course
from tests.factories import ProgramEnrollmentFactory, UserFactory
from tests.rest_api.conftest import Caller, app_settings

pytestmark = pytest.mark.django_db

BASE = "/api/program_enrollments/v1"
PROGRAM = f"{BASE}/programs/{c.CYBERSECURITY}/enrollments"
COURSE = f"{BASE}/programs/{c.CYBERSECURITY}/courses/{c.SHARED_COURSE}/enrollments"


@pytest.fixture(params=[True, False], ids=["debug", "no-debug"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


def send(caller, method, url, body=None):
    response = getattr(caller, method)(url, body)
    assert not 300 <= response.status_code < 400, f"{method.upper()} {url} was redirected to {response.get('Location')}"
    assert response.status_code == 204 or response["Content-Type"].startswith("application/json"), response.content
    return response


@pytest.mark.parametrize("method", ["post", "put"])
def test_program_writes_without_the_slash_are_written(catalog, staff, debug, method):
    body = [{"student_key": "NC-0001", "status": "enrolled", "curriculum_uuid": str(c.CYBERSECURITY_CURRICULUM)}]
    response = send(staff, method, PROGRAM, body)
    assert response.status_code == 200 and response.json() == {"NC-0001": "enrolled"}
    assert ProgramEnrollment.objects.filter(external_user_key="NC-0001", status="enrolled").exists()


def test_program_patch_and_get_without_the_slash(catalog, staff, debug):
    enroll(c.CYBERSECURITY, ["NC-0001"])
    response = send(staff, "patch", PROGRAM, [{"student_key": "NC-0001", "status": "suspended"}])
    assert response.status_code == 200 and response.json() == {"NC-0001": "suspended"}
    listed = send(staff, "get", PROGRAM)
    assert listed.status_code == 200
    assert listed.json()["results"] == send(staff, "get", f"{PROGRAM}/").json()["results"]
    assert listed.json()["results"][0]["status"] == "suspended"


@pytest.mark.parametrize("method", ["post", "put", "patch"])
def test_course_writes_without_the_slash(catalog, staff, debug, method):
    enroll(c.CYBERSECURITY, ["NC-0001"])
    if method == "patch":
        enroll_course(c.CYBERSECURITY, c.SHARED_COURSE, ["NC-0001"], status="inactive")
    response = send(staff, method, COURSE, [{"student_key": "NC-0001", "status": "active"}])
    assert response.status_code == 200 and response.json() == {"NC-0001": "active"}
    assert send(staff, "get", COURSE).json()["results"][0]["status"] == "active"


def test_other_endpoints_without_the_slash(catalog, staff, debug):
    enroll(c.CYBERSECURITY, ["NC-0001"])
    enroll_course(c.CYBERSECURITY, c.SHARED_COURSE, ["NC-0001"])
    grades = f"{BASE}/programs/{c.CYBERSECURITY}/courses/{c.SHARED_COURSE}/grades"
    assert send(staff, "get", grades).status_code == send(staff, "get", f"{grades}/").status_code == 204
    transfer = {"to_program_uuid": str(c.OTHER), "student_keys": ["NC-0001"], "dry_run": True}
    moved = send(staff, "post", f"{BASE}/programs/{c.CYBERSECURITY}/transfers", transfer)
    assert moved.status_code == 200 and moved.json() == {"NC-0001": "would-transfer"}
    learner = send(staff, "get", f"{BASE}/learners?organization=GTx&student_key=NC-0001")
    assert learner.status_code == 200 and learner.json()["programs"][0]["student_key"] == "NC-0001"


def test_integration_reset_with_a_slash_too(catalog, staff, debug):
    enroll(c.CYBERSECURITY, ["NC-0001"])
    with override_settings(ENABLE_ENROLLMENT_RESET=True):
        response = send(staff, "post", f"{BASE}/integration-reset/", {"organization": "GTx"})
    assert response.status_code == 200 and response.json() == "success"
    assert not ProgramEnrollment.objects.exists()


def test_learner_endpoints_both_ways(catalog, debug):
    user = UserFactory(username="learner")
    ProgramEnrollmentFactory(user=user, external_user_key="k-1", program_uuid=c.CYBERSECURITY, status="enrolled")
    learner = Caller(user)
    for path in ("programs/enrollments", "programs/readonly_access", f"programs/{c.CYBERSECURITY}/overview"):
        assert send(learner, "get", f"{BASE}/{path}").json() == send(learner, "get", f"{BASE}/{path}/").json()
    courses = f"{BASE}/users/learner/programs/{c.CYBERSECURITY}/courses"
    assert send(learner, "get", courses).json() == send(learner, "get", f"{courses}/").json()


def test_schema_and_documentation_page_both_ways(client, debug):
    assert client.get(f"{BASE}/schema").status_code == client.get(f"{BASE}/schema/").status_code == 200
    assert client.get(f"{BASE}/docs").status_code == client.get(f"{BASE}/docs/").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        f"{BASE}/nothing-here",
        f"{BASE}/nothing-here/",
        f"{BASE}/programs/{c.CYBERSECURITY}/enrollment",
        "/api/program_enrollments/v2/programs/",
        "/api/program_enrollments/",
    ],
)
@pytest.mark.parametrize("method", ["get", "post", "put"])
def test_unknown_paths_under_the_api_are_a_json_404(catalog, staff, debug, path, method):
    response = send(staff, method, path, [])
    assert response.status_code == 404
    body = response.json()
    assert body["error_code"] == "endpoint_not_found"
    assert path in body["developer_message"] and f"{BASE}/schema/" in body["developer_message"]


def test_unknown_paths_answer_without_a_csrf_check(catalog, debug):
    # A script's POST to a mistyped path learns the path is wrong, not that a CSRF token is missing.
    response = Client(enforce_csrf_checks=True).post(
        f"{BASE}/programs/{c.CYBERSECURITY}/enrollment", "[]", "application/json"
    )
    assert response.status_code == 404 and response.json()["error_code"] == "endpoint_not_found"


def test_a_method_an_endpoint_lacks_is_a_json_405(catalog, staff, debug):
    for url in (PROGRAM, f"{PROGRAM}/"):
        response = send(staff, "delete", url)
        assert response.status_code == 405 and "detail" in response.json()


def test_a_body_too_large_without_the_slash_is_still_413(catalog, staff, debug):
    body = [{"student_key": f"k-{i}", "status": "enrolled"} for i in range(3)]
    with app_settings(MAX_BATCH_SIZE=2):
        assert send(staff, "patch", PROGRAM, body).status_code == 413


def test_reversed_urls_keep_the_documented_slashes():
    program = {"program_uuid": str(c.CYBERSECURITY)}
    assert reverse("programs_api:v1:program_enrollments", kwargs=program) == f"{PROGRAM}/"
    assert reverse("programs_api:v1:learner") == f"{BASE}/learners/"
    assert reverse("programs_api:v1:reset_enrollment_data") == f"{BASE}/integration-reset"
    assert reverse("programs_api:schema") == f"{BASE}/schema/"
