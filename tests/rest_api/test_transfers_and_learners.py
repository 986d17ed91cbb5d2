"""The transfer endpoint and the learner view."""

import pytest

from program_enrollments.models import ProgramCourseEnrollment
from tests import catalog as c
from tests.api.helpers import enroll, enroll_course
from tests.factories import SSOIdentityFactory, UserFactory
from tests.rest_api.conftest import app_settings

pytestmark = pytest.mark.django_db

BASE = "/api/program_enrollments/v1"
TRANSFER = f"{BASE}/programs/{c.CYBERSECURITY}/transfers/"


@pytest.fixture
def learners(catalog):
    SSOIdentityFactory(student_key="r1", user=UserFactory(username="alice"))
    enroll(c.CYBERSECURITY, ["r1", "w1", "idle"])
    enroll_course(c.CYBERSECURITY, c.SHARED_COURSE, ["r1", "w1"])


def test_transfer_moves_learners_and_reports_each(learners, staff):
    body = {"to_program_uuid": str(c.OTHER), "student_keys": ["r1", "w1", "idle"], "source_status": "canceled"}
    response = staff.post(TRANSFER, body)
    assert response.status_code == 207
    assert response.json() == {"r1": "transferred", "w1": "transferred", "idle": "nothing-to-transfer"}
    active = ProgramCourseEnrollment.objects.filter(status="active")
    assert {row.program_enrollment.program_uuid for row in active} == {c.OTHER}
    again = staff.post(TRANSFER, {**body, "student_keys": ["r1", "w1"]})
    assert (again.status_code, again.json()) == (200, {"r1": "already-transferred", "w1": "already-transferred"})


def test_dry_run_transfer_of_every_learner(learners, staff):
    response = staff.post(TRANSFER, {"to_program_uuid": str(c.OTHER), "dry_run": True})
    assert response.json() == {"r1": "would-transfer", "w1": "would-transfer", "idle": "nothing-to-transfer"}
    assert not ProgramCourseEnrollment.objects.filter(program_enrollment__program_uuid=c.OTHER).exists()


@pytest.mark.parametrize(
    "body, code, fragment",
    [
        ([], 400, "JSON object"),
        ({"student_keys": ["a"]}, 400, "to_program_uuid"),
        ({"to_program_uuid": "nope"}, 400, "to_program_uuid"),
        ({"to_program_uuid": str(c.OTHER), "student_keys": "r1"}, 400, "student_keys"),
        ({"to_program_uuid": str(c.OTHER), "dry_run": "yes"}, 400, "dry_run"),
        ({"to_program_uuid": str(c.OTHER), "source_status": "gone"}, 400, "source_status"),
        ({"to_program_uuid": str(c.CYBERSECURITY)}, 400, "must differ"),
        ({"to_program_uuid": str(c.OTHER), "course_keys": ["junk"]}, 400, "not a valid course key"),
        ({"to_program_uuid": "00000000-0000-0000-0000-000000000000"}, 404, "does not exist"),
    ],
)
def test_bad_transfer_requests(learners, staff, body, code, fragment):
    response = staff.post(TRANSFER, body)
    assert response.status_code == code
    assert fragment in response.json()["developer_message"]
    assert not ProgramCourseEnrollment.objects.filter(program_enrollment__program_uuid=c.OTHER).exists()


def test_empty_transfer_is_204(learners, staff):
    assert staff.post(TRANSFER, {"to_program_uuid": str(c.OTHER), "student_keys": []}).status_code == 204


@app_settings(MAX_BATCH_SIZE=25)
def test_transfer_of_every_learner_of_a_program_over_the_limit_is_413(catalog, staff):
    enroll(c.CYBERSECURITY, [f"k{i}" for i in range(26)])
    enroll_course(c.CYBERSECURITY, c.SHARED_COURSE, ["k0", "k1"])
    for dry_run in (True, False):
        response = staff.post(TRANSFER, {"to_program_uuid": str(c.OTHER), "dry_run": dry_run})
        assert response.status_code == 413
        message = response.json()["developer_message"]
        assert "26" in message and "25" in message and "transfer_program_enrollments" in message
        assert "transfers/jobs/" in message
    assert not ProgramCourseEnrollment.objects.filter(program_enrollment__program_uuid=c.OTHER).exists()
    # The same learners in batches of the limit are accepted.
    response = staff.post(TRANSFER, {"to_program_uuid": str(c.OTHER), "student_keys": [f"k{i}" for i in range(25)]})
    assert response.status_code == 207 and response.json()["k0"] == "transferred"


@app_settings(MAX_BATCH_SIZE=25)
def test_transfer_of_every_learner_within_the_limit_is_accepted(catalog, staff):
    enroll(c.CYBERSECURITY, [f"k{i}" for i in range(25)])
    enroll_course(c.CYBERSECURITY, c.SHARED_COURSE, ["k0"])
    response = staff.post(TRANSFER, {"to_program_uuid": str(c.OTHER)})
    assert response.status_code == 207 and response.json()["k0"] == "transferred" and len(response.json()) == 25


@app_settings(MAX_BATCH_SIZE=25)
@pytest.mark.parametrize("field, noun", [("student_keys", "learners"), ("course_keys", "course runs")])
def test_transfer_lists_over_the_limit_are_413_before_item_validation(learners, staff, field, noun):
    # Items that would each be a 400 (not strings): the length is decided first.
    response = staff.post(TRANSFER, {"to_program_uuid": str(c.OTHER), field: [{"bogus": True}] * 26})
    assert response.status_code == 413
    assert response.json()["developer_message"] == (
        f"26 {noun} were sent in {field}; at most 25 are accepted per request."
    )
    within = staff.post(TRANSFER, {"to_program_uuid": str(c.OTHER), field: [c.SHARED_COURSE] * 25, "dry_run": True})
    assert within.status_code != 413


def test_learner_view_by_username_and_by_key(learners, staff):
    enroll(c.OTHER, ["r1"])
    enroll_course(c.OTHER, c.SHARED_COURSE, ["r1"])  # conflicted: program one holds the slot
    by_username = staff.get(f"{BASE}/learners/", {"username": "alice"}).json()
    by_key = staff.get(f"{BASE}/learners/", {"organization": "GTx", "student_key": "R1"}).json()
    assert by_username == by_key
    assert by_username["username"] == "alice"
    assert by_username["active_slots"] == {c.SHARED_COURSE: str(c.CYBERSECURITY)}
    programs = {program["program_uuid"]: program for program in by_username["programs"]}
    assert set(programs) == {str(c.CYBERSECURITY), str(c.OTHER)}
    assert programs[str(c.CYBERSECURITY)]["courses"] == [
        {"course_key": c.SHARED_COURSE, "status": "active", "holds_active_slot": True}
    ]
    assert programs[str(c.OTHER)]["courses"] == []


def test_learner_view_of_a_waiting_learner(learners, staff):
    view = staff.get(f"{BASE}/learners/", {"organization": "GTx", "student_key": "W1"}).json()
    assert view["username"] == ""
    assert [program["student_key"] for program in view["programs"]] == ["w1"]


def test_learner_view_needs_a_learner(learners, staff):
    for params in ({}, {"organization": "GTx"}, {"username": "alice", "organization": "GTx", "student_key": "r1"}):
        response = staff.get(f"{BASE}/learners/", params)
        assert response.status_code == 400 and "username" in response.json()["developer_message"]


def test_learner_view_refuses_nul_characters(learners, staff):
    response = staff.get(f"{BASE}/learners/", {"username": "a\x00b"})
    assert response.status_code == 400 and "NUL" in response.json()["developer_message"]


def test_cursor_with_a_non_numeric_position_is_404(learners, staff):
    import base64

    cursor = base64.b64encode(b"p=abc").decode()
    response = staff.get(f"{BASE}/programs/{c.CYBERSECURITY}/enrollments/", {"cursor": cursor})
    assert response.status_code == 404
