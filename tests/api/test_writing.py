"""Bulk writes: per-learner statuses, the one-active rule, side effects on course enrollments."""

from unittest import mock
from uuid import UUID

import pytest
from opaque_keys.edx.keys import CourseKey

from program_enrollments import api
from program_enrollments.data import CourseEnrollmentRequest, ProgramEnrollmentRequest
from program_enrollments.exceptions import (
    CourseDoesNotExist,
    CourseNotInProgram,
    InvalidRequest,
    ProgramDoesNotExist,
)
from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment
from tests import hosts
from tests.api.helpers import PATCH, POST, PUT, enroll, enroll_course
from tests.factories import CourseEnrollmentFactory, SSOIdentityFactory, UserFactory

pytestmark = pytest.mark.django_db

CourseEnrollment = hosts.course_enrollment_model()


# --- program enrollments ----------------------------------------------------------------------


def test_post_creates_and_reports_new_status(catalog):
    result = enroll(catalog.CYBERSECURITY, ["a", "b"], status="pending", mode=POST)
    assert result == {"a": "pending", "b": "pending"}
    assert set(ProgramEnrollment.objects.values_list("external_user_key", "status")) == {
        ("a", "pending"),
        ("b", "pending"),
    }


def test_post_for_a_learner_already_in_the_program_is_conflict(catalog):
    enroll(catalog.CYBERSECURITY, ["a"])
    assert enroll(catalog.CYBERSECURITY, ["A", "b"], status="pending", mode=POST) == {"A": "conflict", "b": "pending"}
    assert ProgramEnrollment.objects.get(external_user_key="a").status == "enrolled"


def test_patch_for_a_learner_not_in_the_program_is_not_in_program(catalog):
    enroll(catalog.CYBERSECURITY, ["a"])
    assert enroll(catalog.CYBERSECURITY, ["a", "b"], status="suspended", mode=PATCH) == {
        "a": "suspended",
        "b": "not-in-program",
    }
    assert not ProgramEnrollment.objects.filter(external_user_key="b").exists()


def test_patch_ignores_curriculum(catalog):
    enroll(catalog.CYBERSECURITY, ["a"])
    result = api.write_program_enrollments(
        program_uuid=catalog.CYBERSECURITY,
        requests=[ProgramEnrollmentRequest("a", "ended", curriculum_uuid="not-a-uuid")],
        create=False,
        update=True,
    )
    assert result == {"a": "ended"}


def test_duplicated_keys_are_all_reported_ignoring_case(catalog):
    result = enroll(catalog.CYBERSECURITY, ["dup", "DUP", "ok"])
    assert result == {"dup": "duplicated", "DUP": "duplicated", "ok": "enrolled"}
    assert list(ProgramEnrollment.objects.values_list("external_user_key", flat=True)) == ["ok"]


def test_invalid_status_is_reported_per_learner(catalog):
    result = api.write_program_enrollments(
        program_uuid=catalog.CYBERSECURITY,
        requests=[
            {"student_key": "a", "status": "graduated", "curriculum_uuid": catalog.CYBERSECURITY_CURRICULUM},
            {"student_key": "b", "status": "enrolled", "curriculum_uuid": catalog.CYBERSECURITY_CURRICULUM},
        ],
        **PUT,
    )
    assert result == {"a": "invalid-status", "b": "enrolled"}


def test_put_is_idempotent(catalog):
    first = enroll(catalog.CYBERSECURITY, ["a", "b"])
    history = ProgramEnrollment.history.count()
    assert enroll(catalog.CYBERSECURITY, ["a", "b"]) == first
    assert ProgramEnrollment.objects.count() == 2
    assert ProgramEnrollment.history.count() == history


def test_put_after_a_curriculum_revision_keeps_existing_learners_in_their_curriculum(catalog):
    """Registrar sends the program's active curriculum with every write, as Open edX's built-in app expects."""
    revised = "11111111-2222-3333-4444-555555555555"
    hosts.add_curriculum(catalog.CYBERSECURITY, revised)
    enroll(catalog.CYBERSECURITY, ["a"])
    result = api.write_program_enrollments(
        program_uuid=catalog.CYBERSECURITY,
        requests=[
            {"student_key": "a", "status": "pending", "curriculum_uuid": revised},
            {"student_key": "b", "status": "enrolled", "curriculum_uuid": revised},
        ],
        **PUT,
    )
    assert result == {"a": "pending", "b": "enrolled"}
    curricula = dict(ProgramEnrollment.objects.values_list("external_user_key", "curriculum_uuid"))
    assert curricula == {"a": catalog.CYBERSECURITY_CURRICULUM, "b": UUID(revised)}


def test_put_moves_existing_learners_where_the_setting_asks_for_it(catalog, settings):
    settings.PROGRAM_ENROLLMENTS = {**settings.PROGRAM_ENROLLMENTS, "UPDATE_MOVES_CURRICULUM": True}
    revised = "11111111-2222-3333-4444-555555555555"
    hosts.add_curriculum(catalog.CYBERSECURITY, revised)
    enroll(catalog.CYBERSECURITY, ["a", "b"])
    result = api.write_program_enrollments(
        program_uuid=catalog.CYBERSECURITY,
        requests=[
            {"student_key": "a", "status": "enrolled", "curriculum_uuid": revised},
            {"student_key": "b", "status": "enrolled", "curriculum_uuid": str(catalog.OTHER_CURRICULUM)},
        ],
        **PUT,
    )
    assert result == {"a": "enrolled", "b": "invalid-curriculum"}
    curricula = dict(ProgramEnrollment.objects.values_list("external_user_key", "curriculum_uuid"))
    assert curricula == {"a": UUID(revised), "b": catalog.CYBERSECURITY_CURRICULUM}


def test_a_curriculum_that_is_not_the_programs_is_reported_per_learner(catalog):
    enroll(catalog.CYBERSECURITY, ["a"])
    result = api.write_program_enrollments(
        program_uuid=catalog.CYBERSECURITY,
        requests=[
            {"student_key": "a", "status": "suspended", "curriculum_uuid": str(catalog.OTHER_CURRICULUM)},
            {"student_key": "b", "status": "enrolled", "curriculum_uuid": str(catalog.OTHER_CURRICULUM)},
            {"student_key": "c", "status": "enrolled", "curriculum_uuid": catalog.CYBERSECURITY_CURRICULUM},
        ],
        **PUT,
    )
    # An existing learner's curriculum is not looked at (it is kept); a new one's must be the program's.
    assert result == {"a": "suspended", "b": "invalid-curriculum", "c": "enrolled"}
    assert set(ProgramEnrollment.objects.values_list("external_user_key", flat=True)) == {"a", "c"}


def test_new_learner_with_known_sso_identity_is_linked_at_once(catalog):
    identity = SSOIdentityFactory(student_key="Known-1")
    enroll(catalog.CYBERSECURITY, ["known-1", "unknown"])
    assert ProgramEnrollment.objects.get(external_user_key="known-1").user == identity.user
    assert ProgramEnrollment.objects.get(external_user_key="unknown").user is None


def test_sso_identity_of_another_organization_is_not_used(catalog):
    SSOIdentityFactory(student_key="k", organization_key="MITx")
    enroll(catalog.CYBERSECURITY, ["k"])
    assert ProgramEnrollment.objects.get().user is None


def test_account_already_in_the_program_under_another_key_is_user_already_enrolled(catalog):
    identity = SSOIdentityFactory(student_key="new-key")
    ProgramEnrollment.objects.create(
        user=identity.user,
        external_user_key="old-key",
        program_uuid=catalog.CYBERSECURITY,
        curriculum_uuid=catalog.CYBERSECURITY_CURRICULUM,
        status="enrolled",
    )
    assert enroll(catalog.CYBERSECURITY, ["new-key"]) == {"new-key": "user-already-enrolled"}


def test_two_keys_of_one_account_in_one_request_are_duplicated_without_a_retry(catalog, caplog):
    """Decided set-wise: the database never refuses the chunk, so nothing is retried."""
    user = UserFactory()
    SSOIdentityFactory(student_key="first-key", user=user)
    SSOIdentityFactory(student_key="second-key", user=user)
    caplog.set_level("INFO", logger="program_enrollments.api._batches")
    result = enroll(catalog.CYBERSECURITY, ["first-key", "other", "second-key"])
    assert result == {"first-key": "duplicated", "other": "enrolled", "second-key": "duplicated"}
    assert list(ProgramEnrollment.objects.values_list("external_user_key", flat=True)) == ["other"]
    assert not caplog.records, [record.getMessage() for record in caplog.records]


@pytest.mark.parametrize(
    "requests_, message",
    [
        ([{"student_key": "", "status": "enrolled"}], "student_key"),
        ([{"student_key": "   ", "status": "enrolled"}], "student_key"),
        ([{"student_key": 5, "status": "enrolled"}], "student_key"),
        ([{"student_key": "x" * 256, "status": "enrolled"}], "longer than 255"),
        ([{"student_key": "a", "status": 3, "curriculum_uuid": "8f6bcfd1-48ca-5ba6-ae52-0572a322788d"}], "status"),
        ([{"student_key": "a", "status": "enrolled"}], "curriculum_uuid is required"),
        ([{"student_key": "a", "status": "enrolled", "curriculum_uuid": "nope"}], "UUID"),
    ],
)
def test_malformed_program_requests_raise_and_write_nothing(catalog, requests_, message):
    good = {"student_key": "good", "status": "enrolled", "curriculum_uuid": str(catalog.CYBERSECURITY_CURRICULUM)}
    with pytest.raises(InvalidRequest, match=message):
        api.write_program_enrollments(program_uuid=catalog.CYBERSECURITY, requests=[good, *requests_], **PUT)
    assert not ProgramEnrollment.objects.exists()


def test_unknown_program_raises(catalog):
    with pytest.raises(ProgramDoesNotExist):
        enroll_course("00000000-0000-0000-0000-000000000000", catalog.SHARED_COURSE, ["a"])
    with pytest.raises(InvalidRequest, match="UUID"):
        api.write_program_enrollments(program_uuid="nope", requests=[], **PUT)


def test_write_must_allow_create_or_update(catalog):
    with pytest.raises(InvalidRequest):
        api.write_program_enrollments(program_uuid=catalog.CYBERSECURITY, requests=[], create=False, update=False)


def test_history_records_actor_and_reason(catalog):
    admin = UserFactory(username="support")
    enroll(catalog.CYBERSECURITY, ["a"], actor=admin, reason="partner upload")
    enroll(catalog.CYBERSECURITY, ["a"], status="suspended", actor=admin, reason="fees")
    history = list(
        ProgramEnrollment.history.order_by("history_date").values_list(
            "status", "history_user", "history_change_reason", "history_type"
        )
    )
    assert history == [("enrolled", admin.pk, "partner upload", "+"), ("suspended", admin.pk, "fees", "~")]


# --- program course enrollments ---------------------------------------------------------------


@pytest.fixture
def waiting(catalog):
    """Waiting learners w1..w3 enrolled in Cybersecurity and Other."""
    keys = ["w1", "w2", "w3"]
    enroll(catalog.CYBERSECURITY, keys)
    enroll(catalog.OTHER, keys)
    return keys


@pytest.fixture
def realized(catalog):
    """Realized learners r1..r3 (SSO identities at GTx) enrolled in Cybersecurity and Other."""
    keys = ["r1", "r2", "r3"]
    users = {key: SSOIdentityFactory(student_key=key, user=UserFactory(username=f"user-{key}")).user for key in keys}
    enroll(catalog.CYBERSECURITY, keys)
    enroll(catalog.OTHER, keys)
    return users


def test_activation_enrolls_realized_learner_in_masters_mode(catalog, realized):
    assert enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["r1"]) == {"r1": "active"}
    enrollment = CourseEnrollment.objects.get(user=realized["r1"])
    assert (str(enrollment.course_id), enrollment.mode, enrollment.is_active) == (
        catalog.SHARED_COURSE,
        "masters",
        True,
    )
    row = ProgramCourseEnrollment.objects.get()
    assert row.course_enrollment == enrollment


def test_waiting_learner_has_no_course_enrollment(catalog, waiting):
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["w1"])
    assert ProgramCourseEnrollment.objects.get().course_enrollment is None
    assert not CourseEnrollment.objects.exists()


@pytest.mark.parametrize("learners", ["waiting", "realized"])
def test_second_program_activation_is_conflicted(request, catalog, learners):
    keys = sorted(request.getfixturevalue(learners))
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, keys[:2])
    before = list(ProgramCourseEnrollment.objects.order_by("id").values_list("id", "status", "modified"))
    result = enroll_course(catalog.OTHER, catalog.SHARED_COURSE, [key.upper() for key in keys])
    assert result == {keys[0].upper(): "conflicted", keys[1].upper(): "conflicted", keys[2].upper(): "active"}
    assert list(ProgramCourseEnrollment.objects.order_by("id").values_list("id", "status", "modified"))[:2] == before
    assert ProgramCourseEnrollment.objects.filter(program_enrollment__program_uuid=catalog.OTHER).count() == 1


def test_inactive_write_in_second_program_is_accepted_beside_the_active_one(catalog, realized):
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["r1"])
    assert enroll_course(catalog.OTHER, catalog.SHARED_COURSE, ["r1"], status="inactive") == {"r1": "inactive"}
    # The course enrollment backs program one's active row: it stays active.
    assert CourseEnrollment.objects.get(user=realized["r1"]).is_active
    rows = dict(ProgramCourseEnrollment.objects.values_list("program_enrollment__program_uuid", "status"))
    assert rows == {catalog.CYBERSECURITY: "active", catalog.OTHER: "inactive"}
    assert len(set(ProgramCourseEnrollment.objects.values_list("course_enrollment", flat=True))) == 1


def test_activation_after_the_first_program_lets_go(catalog, realized):
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["r1"])
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["r1"], status="inactive")
    assert not CourseEnrollment.objects.get(user=realized["r1"]).is_active
    assert enroll_course(catalog.OTHER, catalog.SHARED_COURSE, ["r1"]) == {"r1": "active"}
    assert CourseEnrollment.objects.get(user=realized["r1"]).is_active


def test_same_key_in_another_organization_is_not_conflicted(catalog, waiting):
    enroll(catalog.MIT, ["w1"])
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["w1"])
    assert enroll_course(catalog.MIT, catalog.SHARED_COURSE, ["w1"]) == {"w1": "active"}


def test_activation_is_illegal_unless_program_enrollment_is_active(catalog, waiting):
    enroll(catalog.CYBERSECURITY, ["w1"], status="suspended")
    enroll(catalog.CYBERSECURITY, ["w2"], status="pending")
    result = enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["w1", "w2"])
    assert result == {"w1": "illegal-operation", "w2": "active"}
    assert enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["w1"], status="inactive") == {"w1": "inactive"}


def test_course_statuses_of_create_and_update_modes(catalog, waiting):
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["w1"])
    assert enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["w1", "w2", "stranger"], mode=POST) == {
        "w1": "conflict",
        "w2": "active",
        "stranger": "not-in-program",
    }
    assert enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["w1", "w3"], status="inactive", mode=PATCH) == {
        "w1": "inactive",
        "w3": "not-found",
    }
    result = api.write_program_course_enrollments(
        program_uuid=catalog.CYBERSECURITY,
        course_key=catalog.SHARED_COURSE,
        requests=[
            CourseEnrollmentRequest("w3", "enrolled"),
            CourseEnrollmentRequest("w2", "active"),
            CourseEnrollmentRequest("W2", "active"),
        ],
        **PUT,
    )
    assert result == {"w3": "invalid-status", "w2": "duplicated", "W2": "duplicated"}


def test_audit_enrollment_is_upgraded_and_paid_mode_kept(catalog, realized, caplog):
    caplog.set_level("INFO", logger="program_enrollments")
    CourseEnrollmentFactory(user=realized["r1"], mode="audit", is_active=False)
    CourseEnrollmentFactory(user=realized["r2"], mode="verified")
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["r1", "r2"])
    modes = dict(CourseEnrollment.objects.values_list("user__username", "mode"))
    assert modes == {"user-r1": "masters", "user-r2": "verified"}
    assert CourseEnrollment.objects.filter(is_active=True).count() == 2
    assert "Kept mode verified" in caplog.text


def test_resending_the_current_status_repairs_a_drifted_course_enrollment(catalog, realized):
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["r1"])
    CourseEnrollment.objects.update(is_active=False, mode="audit")
    assert enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["r1"]) == {"r1": "active"}
    assert CourseEnrollment.objects.filter(is_active=True, mode="masters").count() == 1


def test_course_staff_is_stored_and_kept_when_not_sent(catalog, waiting):
    api.write_program_course_enrollments(
        program_uuid=catalog.CYBERSECURITY,
        course_key=catalog.SHARED_COURSE,
        requests=[{"student_key": "w1", "status": "active", "course_staff": True}],
        **PUT,
    )
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["w1"], status="inactive")
    assert ProgramCourseEnrollment.objects.get().course_staff is True


def test_course_put_is_idempotent(catalog, realized):
    first = enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, list(realized))
    history = ProgramCourseEnrollment.history.count()
    assert enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, list(realized)) == first
    assert ProgramCourseEnrollment.history.count() == history


def test_unknown_course_and_course_outside_the_program_raise(catalog, waiting):
    with pytest.raises(CourseDoesNotExist):
        enroll_course(catalog.CYBERSECURITY, "course-v1:Nobody+X+Y", ["w1"])
    with pytest.raises(CourseNotInProgram):
        enroll_course(catalog.CYBERSECURITY, catalog.ANALYTICS_COURSE, ["w1"])
    with pytest.raises(CourseNotInProgram):
        enroll_course(catalog.CYBERSECURITY, catalog.LONE_COURSE, ["w1"])
    with pytest.raises(InvalidRequest, match="not a valid course key"):
        enroll_course(catalog.CYBERSECURITY, "not a key", ["w1"])
    with pytest.raises(InvalidRequest, match="course_staff"):
        api.write_program_course_enrollments(
            program_uuid=catalog.CYBERSECURITY,
            course_key=catalog.SHARED_COURSE,
            requests=[{"student_key": "w1", "status": "active", "course_staff": "yes"}],
            **PUT,
        )
    assert not ProgramCourseEnrollment.objects.exists()


def test_course_key_object_is_accepted(catalog, waiting):
    key = CourseKey.from_string(catalog.SHARED_COURSE)
    assert enroll_course(catalog.CYBERSECURITY, key, ["w1"]) == {"w1": "active"}


def test_one_learners_failure_is_internal_error_for_that_learner_only(catalog, realized):
    backend = hosts.lms_backend_class()
    real_enroll = backend.enroll_from
    victim = realized["r2"].pk

    def flaky(self, course_key, user_ids, *, active=True):
        if victim in user_ids:
            raise RuntimeError("LMS enrollment service unavailable")
        return real_enroll(self, course_key, user_ids, active=active)

    # ``enroll_from``: the backend call that enrolls (``enroll``, with the state before it).
    with mock.patch.object(backend, "enroll_from", flaky):
        result = enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["r1", "r2", "r3"])
    assert result == {"r1": "active", "r2": "internal-error", "r3": "active"}
    assert set(ProgramCourseEnrollment.objects.values_list("program_enrollment__external_user_key", flat=True)) == {
        "r1",
        "r3",
    }
    assert CourseEnrollment.objects.count() == 2


def test_course_history_records_every_status_change(catalog, waiting):
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["w1"], reason="upload 1")
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["w1"], status="inactive", reason="upload 2")
    history = list(
        ProgramCourseEnrollment.history.order_by("history_date").values_list("status", "history_change_reason")
    )
    assert history == [("active", "upload 1"), ("inactive", "upload 2")]


# --- inactive writes take back only what a program gave ------------------------------------------


def _course_enrollment(user, course):
    enrollment = CourseEnrollment.objects.get(user=user, course_id=course)
    return enrollment.mode, enrollment.is_active


@pytest.mark.parametrize(
    "before, granted, while_active, after_inactive",
    [
        # Bought independently: the program changes nothing and takes nothing back.
        (("verified", True), "none", ("verified", True), ("verified", True)),
        (("professional", True), "none", ("professional", True), ("professional", True)),
        # Upgraded by the program: the former mode comes back, the learner keeps their own access.
        (("audit", True), "changed", ("masters", True), ("audit", True)),
        # Reactivated by the program: inactive again afterwards, in the former mode.
        (("audit", False), "changed", ("masters", True), ("audit", False)),
        (("verified", False), "changed", ("verified", True), ("verified", False)),
        # Created by the program: deactivated.
        (None, "created", ("masters", True), ("masters", False)),
    ],
)
def test_inactive_takes_back_only_what_the_program_gave(
    catalog, realized, before, granted, while_active, after_inactive
):
    user = realized["r1"]
    if before is not None:
        CourseEnrollmentFactory(user=user, course_id=catalog.SHARED_COURSE, mode=before[0], is_active=before[1])

    assert enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["r1"]) == {"r1": "active"}
    row = ProgramCourseEnrollment.objects.get()
    assert row.access_grant == granted
    if granted == "changed":
        assert (row.prior_mode, row.prior_is_active) == before
    assert _course_enrollment(user, catalog.SHARED_COURSE) == while_active
    # Writing active again changes nothing of what was recorded.
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["r1"])
    assert ProgramCourseEnrollment.objects.get().access_grant == granted

    assert enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["r1"], status="inactive") == {"r1": "inactive"}
    assert _course_enrollment(user, catalog.SHARED_COURSE) == after_inactive
    assert api.audit_program_enrollments().clean


def test_a_new_inactive_row_leaves_the_learners_own_course_enrollment_alone(catalog, realized):
    user = realized["r1"]
    CourseEnrollmentFactory(user=user, course_id=catalog.SHARED_COURSE, mode="verified", is_active=True)
    assert enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["r1"], status="inactive") == {"r1": "inactive"}
    assert _course_enrollment(user, catalog.SHARED_COURSE) == ("verified", True)
    assert ProgramCourseEnrollment.objects.get().access_grant == "none"


def test_a_transfer_moves_what_was_granted_with_the_access(catalog, realized):
    user = realized["r1"]
    CourseEnrollmentFactory(user=user, course_id=catalog.SHARED_COURSE, mode="audit", is_active=True)
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["r1"])
    api.transfer_program_enrollments(
        from_program_uuid=catalog.CYBERSECURITY, to_program_uuid=catalog.OTHER, student_keys=["r1"]
    )
    moved = ProgramCourseEnrollment.objects.get(program_enrollment__program_uuid=catalog.OTHER)
    assert (moved.access_grant, moved.prior_mode, moved.prior_is_active) == ("changed", "audit", True)
    enroll_course(catalog.OTHER, catalog.SHARED_COURSE, ["r1"], status="inactive")
    assert _course_enrollment(user, catalog.SHARED_COURSE) == ("audit", True)


def test_access_a_program_gave_is_taken_back_by_the_program_that_holds_it_after_linking(catalog):
    """Linking makes the earlier-activated row the learner's slot; its program takes the access back later."""
    user = UserFactory(username="u-link")
    enroll(catalog.CYBERSECURITY, ["k-1"])
    enroll(catalog.OTHER, ["k-1"])
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["k-1"])  # waiting: activated first
    api.link_program_enrollments(program_uuid=catalog.OTHER, usernames_by_student_key={"k-1": "u-link"})
    enroll_course(catalog.OTHER, catalog.SHARED_COURSE, ["k-1"])  # creates the masters course enrollment
    api.link_program_enrollments(program_uuid=catalog.CYBERSECURITY, usernames_by_student_key={"k-1": "u-link"})
    holder = ProgramCourseEnrollment.objects.get(status="active")
    assert holder.program_enrollment.program_uuid == catalog.CYBERSECURITY
    assert _course_enrollment(user, catalog.SHARED_COURSE) == ("masters", True)

    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["k-1"], status="inactive")

    assert _course_enrollment(user, catalog.SHARED_COURSE) == ("masters", False)
    assert api.audit_program_enrollments().clean
