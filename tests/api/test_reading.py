"""Reads of program and program course enrollments."""

import pytest

from program_enrollments import api
from program_enrollments.exceptions import InvalidRequest
from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment
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
