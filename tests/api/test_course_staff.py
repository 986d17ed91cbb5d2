"""``course_staff`` grants and removes the LMS's course staff role; a waiting learner gets it when linked."""

import pytest

from program_enrollments import api
from program_enrollments.backends import lms_backend
from program_enrollments.models import CourseAccessRoleAssignment, ProgramCourseEnrollment
from tests.api.helpers import enroll
from tests.factories import SSOIdentityFactory, UserFactory

pytestmark = pytest.mark.django_db


def write(catalog, keys, course_staff, status="active"):
    return api.write_program_course_enrollments(
        program_uuid=catalog.CYBERSECURITY,
        course_key=catalog.SHARED_COURSE,
        requests=[{"student_key": key, "status": status, "course_staff": course_staff} for key in keys],
        create=True,
        update=True,
    )


def staff_users(catalog, users):
    from opaque_keys.edx.keys import CourseKey

    return lms_backend().course_staff_user_ids(CourseKey.from_string(catalog.SHARED_COURSE), [u.id for u in users])


def reported(catalog):
    rows = api.fetch_program_course_enrollments(program_uuids=[catalog.CYBERSECURITY])
    roles = api.fetch_course_staff_roles(rows)
    return {row.program_enrollment.external_user_key: roles[row.id] for row in rows}


def test_a_realized_learner_gets_and_loses_the_role_at_once(catalog):
    alice, bob = UserFactory(), UserFactory()
    SSOIdentityFactory(student_key="a-1", user=alice)
    SSOIdentityFactory(student_key="b-1", user=bob)
    enroll(catalog.CYBERSECURITY, ["a-1", "b-1"])

    assert write(catalog, ["a-1", "b-1"], True) == {"a-1": "active", "b-1": "active"}
    assert staff_users(catalog, [alice, bob]) == {alice.id, bob.id}
    assert reported(catalog) == {"a-1": True, "b-1": True}

    write(catalog, ["b-1"], False)
    assert staff_users(catalog, [alice, bob]) == {alice.id}
    assert reported(catalog) == {"a-1": True, "b-1": False}

    write(catalog, ["a-1"], None, status="inactive")  # no course_staff: the role is left as it is
    assert staff_users(catalog, [alice]) == {alice.id}
    assert not CourseAccessRoleAssignment.objects.exists()


def test_a_waiting_learners_role_is_kept_pending_and_applied_on_linking(catalog):
    enroll(catalog.CYBERSECURITY, ["w-1", "w-2"])
    write(catalog, ["w-1", "w-2"], True)
    write(catalog, ["w-2"], False)  # withdrawn before the learner arrives
    pending = CourseAccessRoleAssignment.objects.get()
    assert pending.enrollment.program_enrollment.external_user_key == "w-1"
    assert reported(catalog) == {"w-1": True, "w-2": False}

    first, second = UserFactory(), UserFactory()
    SSOIdentityFactory(student_key="W-1", user=first)  # links the waiting learner
    SSOIdentityFactory(student_key="W-2", user=second)

    assert staff_users(catalog, [first, second]) == {first.id}
    assert not CourseAccessRoleAssignment.objects.exists()
    assert reported(catalog) == {"w-1": True, "w-2": False}


def test_reads_report_the_role_the_lms_holds_not_the_request(catalog):
    alice = UserFactory()
    SSOIdentityFactory(student_key="a-1", user=alice)
    enroll(catalog.CYBERSECURITY, ["a-1"])
    write(catalog, ["a-1"], True)
    row = ProgramCourseEnrollment.objects.get()

    from opaque_keys.edx.keys import CourseKey

    lms_backend().set_course_staff(CourseKey.from_string(catalog.SHARED_COURSE), [alice.id], staff=False)

    assert row.course_staff is True  # what the program last asked for, kept in history
    assert reported(catalog) == {"a-1": False}


def test_reading_roles_costs_the_same_for_any_number_of_rows(catalog, django_assert_max_num_queries):
    keys = [f"r-{index}" for index in range(30)]
    for key in keys[:20]:
        SSOIdentityFactory(student_key=key, user=UserFactory())
    enroll(catalog.CYBERSECURITY, keys)
    write(catalog, keys, True)
    rows = list(api.fetch_program_course_enrollments(program_uuids=[catalog.CYBERSECURITY]))
    with django_assert_max_num_queries(2):
        roles = api.fetch_course_staff_roles(rows)
    assert all(roles.values()) and len(roles) == 30
