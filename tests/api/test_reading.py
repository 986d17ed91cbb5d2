"""Reads of program and program course enrollments."""

import pytest

from program_enrollments import api
from program_enrollments.exceptions import InvalidRequest
from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment
from tests import hosts
from tests.api.helpers import enroll, enroll_course
from tests.factories import SSOIdentityFactory
from tests.settings import override_program_enrollments

pytestmark = pytest.mark.django_db


@pytest.fixture
def learners(catalog):
    SSOIdentityFactory(student_key="R1")
    enroll(catalog.CYBERSECURITY, ["R1", "w1", "w2"])
    enroll(catalog.OTHER, ["w1"], status="pending")
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["R1", "w1"])
    enroll_course(catalog.CYBERSECURITY, catalog.SECOND_SHARED_COURSE, ["w2"], status="inactive")


def test_get_program_enrollment_by_key_ignoring_case(catalog, learners):
    enrollment = api.get_program_enrollment(program_uuid=catalog.CYBERSECURITY, student_key="r1")
    assert enrollment.external_user_key == "R1"
    assert api.get_program_enrollment(program_uuid=catalog.CYBERSECURITY, user=enrollment.user) == enrollment
    with pytest.raises(ProgramEnrollment.DoesNotExist):
        api.get_program_enrollment(program_uuid=catalog.ANALYTICS, student_key="r1")
    with pytest.raises(InvalidRequest):
        api.get_program_enrollment(program_uuid=catalog.CYBERSECURITY)


def test_get_program_course_enrollment(catalog, learners):
    row = api.get_program_course_enrollment(
        program_uuid=catalog.CYBERSECURITY, course_key=catalog.SHARED_COURSE, student_key="W1"
    )
    assert (row.program_enrollment.external_user_key, row.status) == ("w1", "active")
    with pytest.raises(ProgramCourseEnrollment.DoesNotExist):
        api.get_program_course_enrollment(
            program_uuid=catalog.OTHER, course_key=catalog.SHARED_COURSE, student_key="w1"
        )


def test_fetch_filters(catalog, learners):
    keys = lambda queryset: sorted(queryset.values_list("external_user_key", flat=True))  # noqa: E731
    assert keys(api.fetch_program_enrollments(program_uuids=[catalog.CYBERSECURITY])) == ["R1", "w1", "w2"]
    assert keys(api.fetch_program_enrollments(student_keys=["W1"])) == ["w1", "w1"]
    assert keys(api.fetch_program_enrollments(statuses=["pending"])) == ["w1"]
    assert keys(api.fetch_program_enrollments(realized_only=True)) == ["R1"]
    assert keys(api.fetch_program_enrollments(waiting_only=True, program_uuids=[catalog.CYBERSECURITY])) == ["w1", "w2"]
    rows = api.fetch_program_course_enrollments(program_uuids=[catalog.CYBERSECURITY], active_only=True)
    assert sorted(row.program_enrollment.external_user_key for row in rows) == ["R1", "w1"]
    rows = api.fetch_program_course_enrollments(course_keys=[catalog.SECOND_SHARED_COURSE], student_keys=["W2"])
    assert [row.status for row in rows] == ["inactive"]
    with pytest.raises(InvalidRequest):
        list(api.fetch_program_course_enrollments(course_keys=["nope"]))


@override_program_enrollments(WRITE_CHUNK_SIZE=2)
def test_writes_larger_than_a_chunk_are_applied_chunk_by_chunk(catalog):
    keys = [f"c{index}" for index in range(5)]
    assert enroll(catalog.CYBERSECURITY, keys) == {key: "enrolled" for key in keys}
    assert enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, keys) == {key: "active" for key in keys}
    assert ProgramCourseEnrollment.objects.filter(status="active").count() == 5


# --- pages as the REST views read them: a few queries whatever the page size --------------------

PAGE_QUERIES = 5


@pytest.fixture
def thousand(catalog):
    """2200 learners of Cybersecurity in the shared course (every even one realized and graded)."""
    from tests.rest_api import paging_data

    paging_data.generate(2200)
    return catalog


def _page(queryset, size, after=None):
    """A page as the REST views' cursor paging cuts it: ids after the cursor, in id order."""
    if after is not None:
        queryset = queryset.filter(id__gt=after)
    return list(queryset.order_by("id")[: size + 1])


@pytest.mark.parametrize("size", [1, 1000])
def test_a_page_of_program_enrollments_is_one_query(thousand, django_assert_num_queries, size):
    queryset = api.fetch_program_enrollments(program_uuids=[thousand.CYBERSECURITY]).select_related("user")
    # Two pages, one query each (the users come with their rows).
    with django_assert_num_queries(2):
        page = _page(queryset, size)
        second = _page(queryset, size, after=page[-1].id)
        users = [row.user.username if row.user else None for row in page + second]
    assert len(page) == size + 1 and page[0].id < page[-1].id < second[0].id
    assert users[1] == "scale-user-2"


def test_a_page_of_course_enrollments_and_their_staff_roles_is_at_most_five_queries(
    thousand, django_assert_max_num_queries
):
    from tests import hosts

    queryset = api.fetch_program_course_enrollments(
        program_uuids=[thousand.CYBERSECURITY], course_keys=[thousand.SHARED_COURSE]
    )
    staff_user = ProgramEnrollment.objects.get(external_user_key="scale-2").user
    hosts.add_course_role(staff_user, thousand.SHARED_COURSE, "staff")
    counts = {}
    for size in (10, 1000):
        with django_assert_max_num_queries(PAGE_QUERIES) as queries:
            page = _page(queryset, size)
            roles = api.fetch_course_staff_roles(page)
            keys = [row.program_enrollment.external_user_key for row in page]
        counts[size] = len(queries)
        assert len(page) == size + 1 and keys[:2] == ["scale-1", "scale-2"]
        assert roles[page[1].id] is True and roles[page[0].id] is False
    assert counts[10] == counts[1000], counts


@pytest.mark.parametrize("size", [10, 1000])
def test_a_page_of_grades_is_at_most_five_queries(thousand, django_assert_max_num_queries, size):
    from program_enrollments.backends import catalog_backend

    program = catalog_backend().get_program(thousand.CYBERSECURITY)
    with django_assert_max_num_queries(PAGE_QUERIES):
        grades = list(
            api.iter_program_course_grades(
                program_uuid=thousand.CYBERSECURITY,
                course_key=thousand.SHARED_COURSE,
                paginate_queryset_fn=lambda queryset: queryset[:size],
                program=program,
            )
        )
    assert len(grades) == size
    # The generated grades are the standalone host's records; an Open edX LMS grades the
    # generated learners, who have no grade record there, 0.
    assert {grade.grade.percent for grade in grades} == ({0.8} if hosts.is_standalone() else {0.0})


def test_the_learner_view_costs_the_same_for_one_program_or_three(catalog):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import ProgramEnrollmentFactory, UserFactory

    user = UserFactory(username="reader-view")
    ProgramEnrollmentFactory(user=user, program_uuid=catalog.CYBERSECURITY, external_user_key="v-1")
    counts = []
    for program in (catalog.ANALYTICS, catalog.OTHER):
        with CaptureQueriesContext(connection) as queries:
            view = api.fetch_learner_view(username="reader-view")
        counts.append(len(queries))
        ProgramEnrollmentFactory(
            user=user, program_uuid=program, curriculum_uuid=catalog.CURRICULUM_OF[program], external_user_key="v-1"
        )
    with CaptureQueriesContext(connection) as queries:
        view = api.fetch_learner_view(username="reader-view")
    counts.append(len(queries))
    assert len(view["programs"]) == 3
    assert len(set(counts)) == 1, counts
