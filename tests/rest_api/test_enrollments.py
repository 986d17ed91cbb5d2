"""The Open edX contract of the v1 enrollment endpoints: statuses, codes, paging, errors."""

import json

import pytest

from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment
from tests import catalog as c
from tests.rest_api.conftest import app_settings

pytestmark = pytest.mark.django_db

BASE = "/api/program_enrollments/v1"
PROGRAM = f"{BASE}/programs/{c.CYBERSECURITY}/enrollments/"
OTHER_PROGRAM = f"{BASE}/programs/{c.OTHER}/enrollments/"


def course_url(program=c.CYBERSECURITY, course=c.SHARED_COURSE):
    return f"{BASE}/programs/{program}/courses/{course}/enrollments/"


def items(keys, status="enrolled", curriculum=c.CYBERSECURITY_CURRICULUM):
    return [{"student_key": key, "status": status, "curriculum_uuid": str(curriculum)} for key in keys]


def course_items(keys, status="active"):
    return [{"student_key": key, "status": status} for key in keys]


def test_post_put_patch_program_enrollments(catalog, staff):
    response = staff.post(PROGRAM, items(["a", "b"]))
    assert (response.status_code, response.json()) == (200, {"a": "enrolled", "b": "enrolled"})
    response = staff.post(PROGRAM, items(["a", "c"], status="pending"))
    assert (response.status_code, response.json()) == (207, {"a": "conflict", "c": "pending"})
    response = staff.patch(PROGRAM, [{"student_key": "zz", "status": "ended"}])
    assert (response.status_code, response.json()) == (422, {"zz": "not-in-program"})
    response = staff.put(PROGRAM, items(["A", "d"], status="suspended"))
    assert (response.status_code, response.json()) == (200, {"A": "suspended", "d": "suspended"})
    assert ProgramEnrollment.objects.count() == 4


def test_empty_list_is_204(catalog, staff):
    assert staff.post(PROGRAM, []).status_code == 204
    assert staff.put(course_url(), []).status_code == 204


def test_duplicates_and_invalid_status_are_per_learner(catalog, staff):
    response = staff.put(PROGRAM, items(["x", "X"]) + items(["y"], status="graduated") + items(["z"]))
    assert response.status_code == 207
    assert response.json() == {"x": "duplicated", "X": "duplicated", "y": "invalid-status", "z": "enrolled"}


def test_course_enrollments_and_the_cross_program_rule(catalog, staff):
    staff.put(PROGRAM, items(["a", "b"]))
    staff.put(OTHER_PROGRAM, items(["a", "b"], curriculum=c.OTHER_CURRICULUM))
    response = staff.put(course_url(), course_items(["a"]))
    assert (response.status_code, response.json()) == (200, {"a": "active"})
    response = staff.put(course_url(c.OTHER), course_items(["a", "b"]))
    assert (response.status_code, response.json()) == (207, {"a": "conflicted", "b": "active"})
    response = staff.patch(course_url(c.OTHER), course_items(["a"], status="inactive"))
    assert (response.status_code, response.json()) == (422, {"a": "not-found"})
    response = staff.post(course_url(), course_items(["a", "nobody"]))
    assert (response.status_code, response.json()) == (422, {"a": "conflict", "nobody": "not-in-program"})


def test_reads_are_paginated_by_cursor_with_absolute_links(catalog, staff):
    staff.put(PROGRAM, items([f"k{i}" for i in range(5)]))
    staff.put(course_url(), course_items([f"k{i}" for i in range(5)]))
    seen, url = [], PROGRAM + "?page_size=2"
    while url:
        page = staff.get(url).json()
        assert set(page) == {"next", "previous", "results"}
        seen += page["results"]
        url = page["next"]
        assert url is None or url.startswith("http://testserver/api/program_enrollments/v1/")
    assert [row["student_key"] for row in seen] == [f"k{i}" for i in range(5)]
    assert seen[0] == {
        "student_key": "k0",
        "status": "enrolled",
        "account_exists": False,
        "curriculum_uuid": str(c.CYBERSECURITY_CURRICULUM),
        "username": "",
        "email": "",
    }
    rows = staff.get(course_url()).json()["results"]
    assert rows[0] == {
        "student_key": "k0",
        "status": "active",
        "account_exists": False,
        "curriculum_uuid": str(c.CYBERSECURITY_CURRICULUM),
        "course_staff": False,
    }


@pytest.mark.parametrize(
    "url, code",
    [
        (f"{BASE}/programs/00000000-0000-0000-0000-000000000000/enrollments/", "program_does_not_exist"),
        (f"{BASE}/programs/not-a-uuid/enrollments/", "program_does_not_exist"),
        (course_url(course="course-v1:Nobody+X+Y"), "course_does_not_exist"),
        (course_url(course="not-a-course-key"), "course_does_not_exist"),
        (course_url(course=c.ANALYTICS_COURSE), "course_not_in_program"),
    ],
)
def test_unknown_things_are_404_with_error_code(catalog, staff, url, code):
    for method in ("get", "put"):
        response = getattr(staff, method)(url, [] if method == "put" else None)
        assert response.status_code == 404
        assert response.json()["error_code"] == code and response.json()["developer_message"]


@app_settings(MAX_BATCH_SIZE=25)
def test_batch_over_the_limit_is_413_before_item_validation(catalog, staff):
    response = staff.put(PROGRAM, [{"bogus": True}] * 26)
    assert response.status_code == 413
    assert "26" in response.json()["developer_message"] and "25" in response.json()["developer_message"]
    assert staff.put(PROGRAM, items([f"k{i}" for i in range(25)])).status_code == 200


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({"student_key": "a"}, "JSON list"),
        ("just text", "JSON list"),
        ([1, {"student_key": "a", "status": "enrolled"}], "item 0"),
        ([{"status": "enrolled", "curriculum_uuid": str(c.CYBERSECURITY_CURRICULUM)}], "item 0: student_key"),
        (
            [{"student_key": "", "status": "enrolled", "curriculum_uuid": str(c.CYBERSECURITY_CURRICULUM)}],
            "item 0: student_key",
        ),
        (
            [{"student_key": "  ", "status": "enrolled", "curriculum_uuid": str(c.CYBERSECURITY_CURRICULUM)}],
            "item 0: student_key",
        ),
        (
            [{"student_key": 7, "status": "enrolled", "curriculum_uuid": str(c.CYBERSECURITY_CURRICULUM)}],
            "item 0: student_key",
        ),
        (
            [{"student_key": "k" * 256, "status": "enrolled", "curriculum_uuid": str(c.CYBERSECURITY_CURRICULUM)}],
            "item 0: student_key",
        ),
        ([{"student_key": "a", "status": None, "curriculum_uuid": str(c.CYBERSECURITY_CURRICULUM)}], "item 0: status"),
        ([{"student_key": "a", "status": "enrolled"}], "item 0: curriculum_uuid"),
        ([{"student_key": "a", "status": "enrolled", "curriculum_uuid": "nope"}], "item 0: curriculum_uuid"),
    ],
)
def test_malformed_program_bodies_are_400_and_change_nothing(catalog, staff, body, fragment):
    response = staff.put(PROGRAM, body)
    assert response.status_code == 400
    assert fragment in response.json()["developer_message"]
    assert not ProgramEnrollment.objects.exists()


@pytest.mark.parametrize(
    "body, fragment",
    [
        ([{"student_key": "a", "status": "active", "course_staff": "yes"}], "item 0: course_staff"),
        ([{"student_key": "a", "status": 1}], "item 0: status"),
        ([{"student_key": "a", "status": "active"}, {"student_key": ["a"], "status": "active"}], "item 1: student_key"),
    ],
)
def test_malformed_course_bodies_are_400(catalog, staff, body, fragment):
    staff.put(PROGRAM, items(["a"]))
    response = staff.put(course_url(), body)
    assert response.status_code == 400 and fragment in response.json()["developer_message"]
    assert not ProgramCourseEnrollment.objects.exists()


def test_malformed_json_is_400(catalog, staff):
    response = staff.client.put(PROGRAM, "[{", content_type="application/json", **staff.headers)
    assert response.status_code == 400 and "Malformed JSON" in response.json()["developer_message"]


def test_unknown_extra_fields_are_ignored_and_patch_ignores_curriculum(catalog, staff):
    body = [{"student_key": "a", "status": "enrolled", "curriculum_uuid": str(c.CYBERSECURITY_CURRICULUM), "x": 1}]
    assert staff.put(PROGRAM, body).json() == {"a": "enrolled"}
    response = staff.patch(PROGRAM, [{"student_key": "a", "status": "pending", "curriculum_uuid": "junk?"}])
    assert response.status_code in (200, 400)
    response = staff.patch(PROGRAM, [{"student_key": "a", "status": "pending"}])
    assert response.json() == {"a": "pending"}


def test_oversized_body_is_413(catalog, staff, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps(items([f"k{i}" for i in range(50)]))
    response = staff.client.put(PROGRAM, body, content_type="application/json", **staff.headers)
    assert response.status_code == 413


@pytest.mark.parametrize("url", [PROGRAM, course_url()])
def test_invisible_characters_in_a_key_are_400_naming_the_item(catalog, staff, url):
    body = items(["fine", "zero\u200bwidth"]) if url == PROGRAM else course_items(["fine", "zero\u200bwidth"])
    response = staff.put(url, body)
    assert response.status_code == 400, response.content
    message = response.json()["developer_message"]
    assert "item 1: student_key: must not contain" in message and "U+200B ZERO WIDTH SPACE" in message, message
    assert not ProgramEnrollment.objects.exists() and not ProgramCourseEnrollment.objects.exists()


def test_a_key_too_long_once_folded_is_400(catalog, staff):
    response = staff.put(PROGRAM, items(["ß" * 128]))
    assert response.status_code == 400 and "once case-folded" in response.json()["developer_message"]
    assert not ProgramEnrollment.objects.exists()


def test_a_lost_database_is_a_json_503_to_retry(catalog, staff):
    from unittest import mock

    from django.db import OperationalError

    with mock.patch(
        "program_enrollments.api.write_program_enrollments",
        side_effect=OperationalError("server closed the connection"),
    ):
        response = staff.put(PROGRAM, items(["a"]))
    assert response.status_code == 503, response.content
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "5"
    assert response.json()["error_code"] == "database_unavailable"


def test_authentication_that_fails_because_the_database_is_gone_is_503_not_401(catalog, staff):
    from unittest import mock

    from django.db import OperationalError

    with mock.patch(
        "django.contrib.auth.models.UserManager.get_or_create",
        side_effect=OperationalError("server closed the connection unexpectedly"),
    ):
        response = staff.get(PROGRAM)
    # edx-drf-extensions answers "User retrieval failed" (AuthenticationFailed) with the database error as cause.
    assert response.status_code == 503, response.content
    assert response.json()["error_code"] == "database_unavailable"


def test_course_staff_in_a_read_is_the_role_the_lms_holds(catalog, staff):
    from opaque_keys.edx.keys import CourseKey

    from program_enrollments.backends import lms_backend
    from tests.factories import SSOIdentityFactory, UserFactory

    learner = UserFactory()
    SSOIdentityFactory(student_key="s-1", user=learner)
    staff.put(PROGRAM, items(["s-1", "w-1"]))
    response = staff.put(
        course_url(),
        [{"student_key": "s-1", "status": "active", "course_staff": True}, {"student_key": "w-1", "status": "active"}],
    )
    assert response.status_code == 200
    rows = {row["student_key"]: row["course_staff"] for row in staff.get(course_url()).json()["results"]}
    assert rows == {"s-1": True, "w-1": False}
    lms_backend().set_course_staff(CourseKey.from_string(c.SHARED_COURSE), [learner.id], staff=False)
    rows = {row["student_key"]: row["course_staff"] for row in staff.get(course_url()).json()["results"]}
    assert rows == {"s-1": False, "w-1": False}


def test_a_curriculum_of_another_program_is_reported_per_learner(catalog, staff):
    response = staff.post(PROGRAM, items(["good"]) + items(["bad"], curriculum=c.OTHER_CURRICULUM))
    assert (response.status_code, response.json()) == (207, {"good": "enrolled", "bad": "invalid-curriculum"})
