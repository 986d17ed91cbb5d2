"""``GET programs/{uuid}/courses/{course}/grades/``: the built-in contract, as registrar's grade reports read it."""

from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import catalog as c
from tests import hosts
from tests.api.helpers import enroll, enroll_course
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BASE = "/api/program_enrollments/v1"


def grades_url(program=c.CYBERSECURITY, course=c.SHARED_COURSE):
    return f"{BASE}/programs/{program}/courses/{course}/grades/"


def learners(count, prefix="g"):
    users = {f"{prefix}{index:03d}": UserFactory(username=f"{prefix}-user-{index}") for index in range(count)}
    hosts.add_sso_identities("GTx", users)
    enroll(c.CYBERSECURITY, list(users))
    enroll_course(c.CYBERSECURITY, c.SHARED_COURSE, list(users))
    return users


def test_registrar_pages_through_every_grade(catalog, staff):
    users = learners(5)
    for index, user in enumerate(users.values()):
        passed = index >= 3
        hosts.set_course_grade(
            user, c.SHARED_COURSE, percent=index / 10, letter_grade="Pass" if passed else "", passed=passed
        )
    enroll(c.CYBERSECURITY, ["waiting-1"])  # no account: not graded
    enroll_course(c.CYBERSECURITY, c.SHARED_COURSE, ["waiting-1"])

    seen, url = [], grades_url() + "?page_size=2"
    while url:
        response = staff.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) == {"next", "previous", "results"}
        seen += body["results"]
        url = body["next"]
    assert seen[0] == {"student_key": "g000", "passed": False, "percent": 0.0, "letter_grade": None}
    assert seen[4] == {"student_key": "g004", "passed": True, "percent": 0.4, "letter_grade": "Pass"}
    assert [row["student_key"] for row in seen] == list(users)


def test_errors_make_a_207_and_only_errors_a_422(catalog, staff):
    users = learners(2)
    backend = hosts.lms_backend_class()
    real = backend.get_course_grades
    failing = {users["g001"].id}

    def grades(self, course_key, user_ids):
        found = real(self, course_key, user_ids)
        found.update({user_id: "Timeout while calculating grade" for user_id in failing & set(user_ids)})
        return found

    with mock.patch.object(backend, "get_course_grades", grades):
        response = staff.get(grades_url())
        assert response.status_code == 207
        assert response.json()["results"][1] == {"student_key": "g001", "error": "Timeout while calculating grade"}
        failing.add(users["g000"].id)
        response = staff.get(grades_url())
        assert response.status_code == 422
        assert all("error" in row for row in response.json()["results"])


def test_no_learner_to_grade_is_a_204(catalog, staff):
    enroll(c.CYBERSECURITY, ["waiting-1"])
    enroll_course(c.CYBERSECURITY, c.SHARED_COURSE, ["waiting-1"])
    response = staff.get(grades_url())
    assert response.status_code == 204 and response.content == b""


@pytest.mark.parametrize(
    "url, code",
    [
        (grades_url(program="00000000-0000-0000-0000-000000000000"), "program_does_not_exist"),
        (grades_url(course="course-v1:Nobody+X+Y"), "course_does_not_exist"),
        (grades_url(course=c.ANALYTICS_COURSE), "course_not_in_program"),
    ],
)
def test_unknown_program_or_course_is_404(catalog, staff, url, code):
    response = staff.get(url)
    assert response.status_code == 404 and response.json()["error_code"] == code


def test_readers_of_the_organization_only(catalog, staff, gtx_reader, outsider, anonymous):
    learners(1)
    assert gtx_reader.get(grades_url()).status_code == 200
    assert outsider.get(grades_url()).status_code == 403
    assert anonymous.get(grades_url()).status_code == 401


def test_a_page_of_grades_costs_the_same_queries_whatever_its_size(catalog, staff):
    learners(30)
    counts = {}
    for size in (1, 30):
        with CaptureQueriesContext(connection) as queries:
            response = staff.get(grades_url(), {"page_size": size})
        assert response.status_code == 200 and len(response.json()["results"]) == size
        counts[size] = len(queries)
    assert counts[1] == counts[30], counts
