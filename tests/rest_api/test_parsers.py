"""Request bodies nested too deep for Python's json module are a 400, never a RecursionError (500)."""

import json

import pytest

from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment
from program_enrollments.rest_api.v1.parsers import MAX_JSON_DEPTH
from tests import catalog as c
from tests.rest_api.conftest import app_settings

pytestmark = pytest.mark.django_db

BASE = "/api/program_enrollments/v1"
PROGRAM = f"{BASE}/programs/{c.CYBERSECURITY}/enrollments/"
COURSE = f"{BASE}/programs/{c.CYBERSECURITY}/courses/{c.SHARED_COURSE}/enrollments/"
TRANSFER = f"{BASE}/programs/{c.CYBERSECURITY}/transfers/"

WRITES = [(method, url) for url in (PROGRAM, COURSE) for method in ("POST", "PUT", "PATCH")]
DEEP_LIST = "[" * 1000 + "]" * 1000
DEEP_OBJECT = '{"a":' * 1000 + "1" + "}" * 1000

WRITE_BODIES = {
    "whole-body": DEEP_LIST,
    "whole-body-objects": DEEP_OBJECT,
    "in-an-item": '[{"student_key": ' + DEEP_LIST + ', "status": "enrolled"}]',
    "in-a-later-item": '[{"student_key": "k1", "status": "enrolled"}, {"student_key": "k2", "status": '
    + DEEP_OBJECT
    + "}]",
}
TRANSFER_BODIES = {
    "whole-body": DEEP_LIST,
    "whole-body-objects": DEEP_OBJECT,
    "in-student-keys": '{"to_program_uuid": "' + str(c.OTHER) + '", "student_keys": ' + DEEP_LIST + "}",
    "in-course-keys": '{"to_program_uuid": "' + str(c.OTHER) + '", "course_keys": [' + DEEP_OBJECT + "]}",
}


def _send(caller, method, url, body):
    caller.client.raise_request_exception = False
    return caller.client.generic(method, url, body, content_type="application/json", **caller.headers)


def _assert_depth_refused(response):
    assert response.status_code == 400, response.content
    assert response.json() == {"developer_message": f"Malformed JSON: JSON nested deeper than {MAX_JSON_DEPTH} levels."}


@pytest.mark.parametrize("shape", WRITE_BODIES)
@pytest.mark.parametrize("method, url", WRITES)
def test_deeply_nested_write_bodies_are_400(catalog, staff, method, url, shape):
    _assert_depth_refused(_send(staff, method, url, WRITE_BODIES[shape]))
    assert not ProgramEnrollment.objects.exists()


@pytest.mark.parametrize("shape", TRANSFER_BODIES)
def test_deeply_nested_transfer_bodies_are_400(catalog, staff, shape):
    _assert_depth_refused(_send(staff, "POST", TRANSFER, TRANSFER_BODIES[shape]))
    assert not ProgramCourseEnrollment.objects.exists()


def test_nesting_up_to_the_limit_is_parsed_and_judged_as_usual(catalog, staff):
    # MAX_JSON_DEPTH levels in all: the list, the item and the rest inside the item's status.
    inside = MAX_JSON_DEPTH - 2
    body = '[{"student_key": "k1", "status": ' + "[" * inside + "]" * inside + "}]"
    response = _send(staff, "PUT", PROGRAM, body)
    assert response.status_code == 400
    assert "item 0: status" in response.json()["developer_message"]
    assert "curriculum_uuid" in response.json()["developer_message"]


def test_brackets_inside_strings_do_not_count_as_nesting(catalog, staff):
    key = "[" * 100 + "{" * 100
    body = json.dumps([{"student_key": key, "status": "enrolled", "curriculum_uuid": str(c.CYBERSECURITY_CURRICULUM)}])
    response = _send(staff, "PUT", PROGRAM, body)
    assert (response.status_code, response.json()) == (200, {key: "enrolled"})


@app_settings(MAX_BATCH_SIZE=25)
def test_batch_limit_still_comes_before_item_validation(catalog, staff):
    body = json.dumps([{"student_key": [[["deep but allowed"]]]}] * 26)
    response = _send(staff, "PUT", PROGRAM, body)
    assert response.status_code == 413
    assert response.json()["developer_message"].startswith(
        "26 enrollments were sent; at most 25 are accepted per request."
    )
    assert "jobs/" in response.json()["developer_message"]
