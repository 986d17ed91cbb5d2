"""Reading a program course's grades: every realized learner, a page at a time, errors per learner."""

from unittest import mock

import pytest

from program_enrollments import api
from program_enrollments.exceptions import CourseNotInProgram
from program_enrollments.models import ProgramCourseEnrollment
from tests import hosts
from tests.api.helpers import enroll, enroll_course
from tests.factories import SSOIdentityFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def learners(catalog):
    """r1, r2 realized (r1 graded, passing), w1 waiting; all active in the shared course."""
    users = {key: UserFactory(username=f"user-{key}") for key in ("r1", "r2")}
    for key, user in users.items():
        SSOIdentityFactory(student_key=key, user=user)
    enroll(catalog.CYBERSECURITY, ["r1", "r2", "w1"])
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["r1", "r2", "w1"])
    hosts.set_course_grade(users["r1"], catalog.SHARED_COURSE, percent=0.91, letter_grade="Pass", passed=True)
    return users


def rows(catalog, **kwargs):
    results = api.iter_program_course_grades(
        program_uuid=catalog.CYBERSECURITY, course_key=catalog.SHARED_COURSE, **kwargs
    )
    return [
        (result.student_key, result.error or (result.grade.passed, result.grade.percent, result.grade.letter_grade))
        for result in results
    ]


def test_every_realized_learner_gets_a_grade_and_waiting_ones_none(catalog, learners):
    assert rows(catalog) == [("r1", (True, 0.91, "Pass")), ("r2", (False, 0.0, None))]


def test_inactive_learners_are_graded_too(catalog, learners):
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["r1"], status="inactive")
    assert [key for key, _ in rows(catalog)] == ["r1", "r2"]


def test_a_learner_the_lms_cannot_grade_is_an_error_row(catalog, learners):
    backend = hosts.lms_backend_class()
    real = backend.get_course_grades

    def failing(self, course_key, user_ids):
        grades = real(self, course_key, user_ids)
        grades[learners["r2"].id] = "Timeout while calculating grade"
        return grades

    with mock.patch.object(backend, "get_course_grades", failing):
        assert rows(catalog) == [("r1", (True, 0.91, "Pass")), ("r2", "Timeout while calculating grade")]


def test_a_page_costs_the_same_number_of_queries_whatever_its_size(catalog, learners):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    more = {f"m{index}": UserFactory() for index in range(8)}
    hosts.add_sso_identities("GTx", more)
    enroll(catalog.CYBERSECURITY, list(more))
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, list(more))
    counts = {}
    for size in (1, 10):
        with CaptureQueriesContext(connection) as queries:
            page = rows(catalog, paginate_queryset_fn=lambda queryset, size=size: list(queryset[:size]))
        assert len(page) == size
        counts[size] = len(queries)
    assert counts[1] == counts[10], counts


def test_a_course_outside_the_program_raises(catalog, learners):
    with pytest.raises(CourseNotInProgram):
        list(api.iter_program_course_grades(program_uuid=catalog.ANALYTICS, course_key=catalog.SHARED_COURSE))
    assert ProgramCourseEnrollment.objects.count() == 3
