"""Housekeeping: expiring waiting enrollments and resetting programs delete set-wise and keep history."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from opaque_keys.edx.keys import CourseKey

from program_enrollments import api
from program_enrollments.api import housekeeping
from program_enrollments.api.housekeeping import EXPIRY_REASON, RESET_REASON, DeletedCounts
from program_enrollments.exceptions import InvalidRequest
from program_enrollments.models import CourseAccessRoleAssignment, ProgramCourseEnrollment, ProgramEnrollment
from tests import hosts
from tests.api.helpers import enroll, enroll_course
from tests.factories import CourseEnrollmentFactory, SSOIdentityFactory, UserFactory

pytestmark = pytest.mark.django_db

CourseEnrollment = hosts.course_enrollment_model()


def _age(keys, days):
    """Make the program enrollments of ``keys`` look unmodified for ``days`` days (QuerySet.update keeps the value)."""
    ProgramEnrollment.objects.filter(external_user_key__in=keys).update(modified=timezone.now() - timedelta(days=days))


def _keys(queryset=None):
    queryset = ProgramEnrollment.objects.all() if queryset is None else queryset
    return sorted(queryset.values_list("external_user_key", flat=True))


def _staff(catalog, program, course, keys):
    return api.write_program_course_enrollments(
        program_uuid=program,
        course_key=course,
        requests=[{"student_key": key, "status": "active", "course_staff": True} for key in keys],
        create=True,
        update=True,
    )


@pytest.fixture
def waiting_and_realized(catalog):
    """Cybersecurity: waiting w-old (70 days, active + staff role), w-new (10 days); realized r-old (70 days)."""
    user = UserFactory(username="realized-old")
    SSOIdentityFactory(student_key="r-old", user=user)
    enroll(catalog.CYBERSECURITY, ["w-old", "w-new", "r-old"])
    _staff(catalog, catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["w-old", "w-new", "r-old"])
    enroll_course(catalog.CYBERSECURITY, catalog.SECOND_SHARED_COURSE, ["w-old"], status="inactive")
    _age(["w-old", "r-old"], 70)
    _age(["w-new"], 10)
    return user


# --- expiry ---------------------------------------------------------------------------------------


def test_expiry_deletes_only_waiting_enrollments_past_the_age(catalog, waiting_and_realized):
    counts = api.expire_waiting_program_enrollments(expiration_days=60)

    assert counts == DeletedCounts(
        program_enrollments=1, program_course_enrollments=2, course_access_role_assignments=1
    )
    assert _keys() == ["r-old", "w-new"]
    assert not ProgramCourseEnrollment.objects.filter(program_enrollment__external_user_key="w-old").exists()
    assert list(
        CourseAccessRoleAssignment.objects.values_list("enrollment__program_enrollment__external_user_key", flat=True)
    ) == ["w-new"]


def test_expiry_keeps_history_and_records_the_deletion_with_a_reason(catalog, waiting_and_realized):
    enrollment = ProgramEnrollment.objects.get(external_user_key="w-old")
    rows = list(ProgramCourseEnrollment.objects.filter(program_enrollment=enrollment).values_list("id", flat=True))
    before = ProgramEnrollment.history.filter(id=enrollment.id).count()

    api.expire_waiting_program_enrollments(expiration_days=60, actor=waiting_and_realized)

    history = list(ProgramEnrollment.history.filter(id=enrollment.id).order_by("history_id"))
    assert len(history) == before + 1
    deletion = history[-1]
    assert deletion.history_type == "-"
    assert deletion.history_change_reason == EXPIRY_REASON.format(days=60)
    assert deletion.history_user_id == waiting_and_realized.id
    assert (deletion.external_user_key, deletion.status) == ("w-old", "enrolled")
    for row_id in rows:
        last = ProgramCourseEnrollment.history.filter(id=row_id).order_by("-history_id").first()
        assert (last.history_type, last.history_change_reason) == ("-", EXPIRY_REASON.format(days=60))
        assert ProgramCourseEnrollment.history.filter(id=row_id).count() >= 2  # the write, then the deletion


def test_expiry_with_a_larger_age_deletes_nothing_and_writes_no_history(catalog, waiting_and_realized):
    history = ProgramEnrollment.history.count(), ProgramCourseEnrollment.history.count()

    assert api.expire_waiting_program_enrollments(expiration_days=90) == DeletedCounts()
    assert _keys() == ["r-old", "w-new", "w-old"]
    assert (ProgramEnrollment.history.count(), ProgramCourseEnrollment.history.count()) == history


def test_expiry_default_is_sixty_days(catalog):
    enroll(catalog.CYBERSECURITY, ["fifty-nine", "sixty-one"])
    _age(["fifty-nine"], 59)
    _age(["sixty-one"], 61)

    assert api.expire_waiting_program_enrollments().program_enrollments == 1
    assert _keys() == ["fifty-nine"]


def test_expiry_of_zero_days_deletes_every_waiting_enrollment(catalog, waiting_and_realized):
    api.expire_waiting_program_enrollments(expiration_days=0)
    assert _keys() == ["r-old"]


@pytest.mark.parametrize("days", [-1, "60", 1.5, True, None])
def test_expiry_refuses_bad_ages_and_changes_nothing(catalog, waiting_and_realized, days):
    with pytest.raises(InvalidRequest, match="expiration_days"):
        api.expire_waiting_program_enrollments(expiration_days=days)
    assert _keys() == ["r-old", "w-new", "w-old"]


@pytest.mark.parametrize("chunk_size", [0, -5, "10", True])
def test_bad_chunk_size_is_refused(catalog, chunk_size):
    with pytest.raises(InvalidRequest, match="chunk_size"):
        api.expire_waiting_program_enrollments(chunk_size=chunk_size)


def test_expiry_runs_in_chunks_with_a_fixed_number_of_queries(catalog):
    def queries_for(count):
        keys = [f"bulk-{count}-{index}" for index in range(count)]
        enroll(catalog.ANALYTICS, keys)
        enroll_course(catalog.ANALYTICS, catalog.ANALYTICS_COURSE, keys)
        _age(keys, 100)
        with CaptureQueriesContext(connection) as captured:
            counts = api.expire_waiting_program_enrollments(chunk_size=50)
        assert (counts.program_enrollments, counts.program_course_enrollments) == (count, count)
        return len(captured)

    one, fifty = queries_for(1), queries_for(50)
    assert one == fifty  # one chunk whatever its size
    assert queries_for(120) <= 3 * fifty  # three chunks
    assert not ProgramEnrollment.objects.exists()


def test_learner_linked_between_selection_and_lock_is_kept(catalog):
    enroll(catalog.CYBERSECURITY, ["late"])
    _age(["late"], 100)
    user = UserFactory()
    selected = list(ProgramEnrollment.objects.values_list("id", flat=True))
    SSOIdentityFactory(student_key="late", user=user)  # links the learner
    assert ProgramEnrollment.objects.get().user_id == user.id
    cutoff = timezone.now() - timedelta(days=60)
    counts = housekeeping._delete_chunk(
        selected, Q(user__isnull=True, modified__lte=cutoff), actor=None, reason="test", take_back=False
    )
    assert counts == DeletedCounts()
    assert _keys() == ["late"]


def test_only_role_assignments_point_at_the_deleted_rows():
    """The raw deletes rely on this: a new model pointing at either table must be handled in housekeeping."""

    def pointing_at(model):
        return sorted(
            relation.related_model._meta.label
            for relation in model._meta.related_objects
            if not relation.related_model._meta.label.endswith(("Historical" + model.__name__,))
        )

    assert pointing_at(ProgramEnrollment) == ["program_enrollments.ProgramCourseEnrollment"]
    assert pointing_at(ProgramCourseEnrollment) == ["program_enrollments.CourseAccessRoleAssignment"]


# --- reset ----------------------------------------------------------------------------------------


@pytest.fixture
def two_programs(catalog):
    """Realized learner r in Cybersecurity (active, masters CE the program created) and Other (inactive); waiting w."""
    user = UserFactory(username="reset-learner")
    SSOIdentityFactory(student_key="r", user=user)
    enroll(catalog.CYBERSECURITY, ["r", "w"])
    enroll(catalog.OTHER, ["r", "w"])
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["r", "w"])
    enroll_course(catalog.OTHER, catalog.SHARED_COURSE, ["r", "w"], status="inactive")
    _staff(catalog, catalog.OTHER, catalog.SECOND_SHARED_COURSE, ["w"])
    return user


def test_reset_deletes_only_the_given_programs(catalog, two_programs):
    counts = api.reset_program_enrollment_data(program_uuids=[catalog.OTHER])

    assert counts == DeletedCounts(
        program_enrollments=2, program_course_enrollments=3, course_access_role_assignments=1
    )
    assert not ProgramEnrollment.objects.filter(program_uuid=catalog.OTHER).exists()
    assert _keys(ProgramEnrollment.objects.filter(program_uuid=catalog.CYBERSECURITY)) == ["r", "w"]
    # Cybersecurity's course access is untouched.
    assert CourseEnrollment.objects.get(user=two_programs).is_active


def test_reset_takes_back_the_course_access_the_program_gave(catalog, two_programs):
    own = CourseEnrollmentFactory(user=two_programs, course_id=catalog.LONE_COURSE, mode="verified")

    counts = api.reset_program_enrollment_data(program_uuids=[str(catalog.CYBERSECURITY)])

    assert counts.course_accesses_taken_back == 1
    created = CourseEnrollment.objects.get(user=two_programs, course_id=CourseKey.from_string(catalog.SHARED_COURSE))
    assert not created.is_active  # the program created it: deactivated, never deleted
    own.refresh_from_db()
    assert own.is_active  # the learner's own enrollment is not the program's business
    assert not ProgramEnrollment.objects.filter(program_uuid=catalog.CYBERSECURITY).exists()


def test_reset_keeps_history_with_a_reason(catalog, two_programs):
    ids = list(ProgramEnrollment.objects.filter(program_uuid=catalog.OTHER).values_list("id", flat=True))

    api.reset_program_enrollment_data(program_uuids=[catalog.OTHER], actor=two_programs)

    for enrollment_id in ids:
        last = ProgramEnrollment.history.filter(id=enrollment_id).order_by("-history_id").first()
        assert (last.history_type, last.history_change_reason, last.history_user_id) == (
            "-",
            RESET_REASON,
            two_programs.id,
        )
    assert ProgramCourseEnrollment.history.filter(history_type="-", history_change_reason=RESET_REASON).count() == 3


def test_count_says_what_a_reset_would_delete_and_deletes_nothing(catalog, two_programs):
    expected = DeletedCounts(
        program_enrollments=4,
        program_course_enrollments=5,
        course_access_role_assignments=1,
        course_accesses_taken_back=1,
    )
    assert api.count_program_enrollment_data(program_uuids=[catalog.OTHER, catalog.CYBERSECURITY]) == expected
    assert ProgramEnrollment.objects.count() == 4
    assert api.reset_program_enrollment_data(program_uuids=[catalog.OTHER, catalog.CYBERSECURITY]) == expected
    assert not ProgramEnrollment.objects.exists()


@pytest.mark.parametrize("uuids", [[], ["not-a-uuid"], ["509c2e6c-f4e2-5b32-bc77-5137159b0719", "nope"]])
def test_reset_refuses_bad_program_uuids_and_changes_nothing(catalog, two_programs, uuids):
    with pytest.raises(InvalidRequest):
        api.reset_program_enrollment_data(program_uuids=uuids)
    assert ProgramEnrollment.objects.count() == 4


def test_programs_of_organization_are_the_enrolled_programs_it_authors(catalog, two_programs):
    enroll(catalog.MIT, ["m"])
    assert api.programs_of_organization("GTx") == sorted([catalog.CYBERSECURITY, catalog.OTHER], key=str)
    assert api.programs_of_organization("MITx") == [catalog.MIT]
    assert api.programs_of_organization("Nobody") == []
    with pytest.raises(InvalidRequest):
        api.programs_of_organization(" ")
