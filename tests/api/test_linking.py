"""Linking waiting enrollments to users re-applies the one-active rule."""

import pytest
from django.core.management import CommandError, call_command

from program_enrollments import api
from program_enrollments.identity import user_ref
from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment
from tests import hosts
from tests.api.helpers import enroll, enroll_course
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CourseEnrollment = hosts.course_enrollment_model()


def link(catalog, mapping, program=None):
    return api.link_program_enrollments(program_uuid=program or catalog.CYBERSECURITY, usernames_by_student_key=mapping)


def test_linking_realizes_the_learner_and_enrolls_waiting_courses(catalog):
    user = UserFactory(username="alice")
    enroll(catalog.CYBERSECURITY, ["K-1"])
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["K-1"])
    enroll_course(catalog.CYBERSECURITY, catalog.SECOND_SHARED_COURSE, ["K-1"], status="inactive")
    outcome = link(catalog, {"k-1": "alice"})["k-1"]
    assert outcome.linked and outcome.deactivated_courses == ()
    enrollment = ProgramEnrollment.objects.get()
    assert (enrollment.user, enrollment.learner_ref) == (user, user_ref(user.pk))
    courses = {str(ce.course_id): (ce.mode, ce.is_active) for ce in CourseEnrollment.objects.all()}
    assert courses == {catalog.SHARED_COURSE: ("masters", True), catalog.SECOND_SHARED_COURSE: ("masters", False)}
    for row in ProgramCourseEnrollment.objects.all():
        assert row.learner_ref == user_ref(user.pk)
        assert row.course_enrollment.course_id == row.course_key


def test_linking_errors_match_open_edx(catalog):
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    enroll(catalog.CYBERSECURITY, ["a", "b"])
    link(catalog, {"a": "alice"})
    outcomes = link(catalog, {"a": "alice", "b": "nobody", "c": "bob", "A": "bob"})
    assert outcomes["a"].error == (
        "Program enrollment with external_student_key=a is already linked to target account username=alice"
    )
    assert outcomes["b"].error == "No user found with username nobody"
    assert outcomes["c"].error == (
        f"No program enrollment found for program uuid={catalog.CYBERSECURITY} and external student key=c"
    )
    assert outcomes["A"].error == (
        "Program enrollment with external_student_key=a is already linked to a different account username=alice"
    )
    assert ProgramEnrollment.objects.get(external_user_key="b").user is None
    assert not ProgramEnrollment.objects.filter(user=bob).exists()
    assert alice


def test_user_already_in_the_program_is_not_linked_twice(catalog):
    UserFactory(username="alice")
    enroll(catalog.CYBERSECURITY, ["a", "b"])
    link(catalog, {"a": "alice"})
    assert "already enrolled in program" in link(catalog, {"b": "alice"})["b"].error


def test_linking_keeps_the_earlier_activated_enrollment_active(catalog):
    """Waiting in program one (activated first), realized in program two (activated later)."""
    user = UserFactory(username="alice")
    enroll(catalog.CYBERSECURITY, ["waiting-key"])
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["waiting-key"])
    ProgramEnrollment.objects.create(
        user=user,
        external_user_key="account-key",
        program_uuid=catalog.OTHER,
        curriculum_uuid=catalog.OTHER_CURRICULUM,
        status="enrolled",
    )
    enroll_course(catalog.OTHER, catalog.SHARED_COURSE, ["account-key"])
    assert ProgramCourseEnrollment.objects.filter(status="active").count() == 2  # two identities until linked

    outcome = link(catalog, {"waiting-key": "alice"})["waiting-key"]

    assert outcome.linked
    rows = {row.program_enrollment.program_uuid: row for row in ProgramCourseEnrollment.objects.all()}
    assert rows[catalog.CYBERSECURITY].status == "active"
    assert rows[catalog.OTHER].status == "inactive"
    assert rows[catalog.CYBERSECURITY].course_enrollment_id == rows[catalog.OTHER].course_enrollment_id
    assert CourseEnrollment.objects.get(user=user).is_active
    reasons = list(rows[catalog.OTHER].history.values_list("history_change_reason", flat=True))
    assert any("Deactivated on linking" in (reason or "") for reason in reasons)


def test_linking_reports_the_deactivated_courses_of_the_linked_enrollment(catalog):
    """Realized and active first in program two; the waiting one in program one came later and yields."""
    user = UserFactory(username="alice")
    ProgramEnrollment.objects.create(
        user=user,
        external_user_key="account-key",
        program_uuid=catalog.OTHER,
        curriculum_uuid=catalog.OTHER_CURRICULUM,
        status="enrolled",
    )
    enroll_course(catalog.OTHER, catalog.SHARED_COURSE, ["account-key"])
    enroll(catalog.CYBERSECURITY, ["waiting-key"])
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["waiting-key"])

    outcome = link(catalog, {"waiting-key": "alice"})["waiting-key"]

    assert outcome.deactivated_courses == (catalog.SHARED_COURSE,)
    active = ProgramCourseEnrollment.objects.get(status="active")
    assert active.program_enrollment.program_uuid == catalog.OTHER
    history = list(
        ProgramCourseEnrollment.history.filter(program_enrollment__program_uuid=catalog.CYBERSECURITY)
        .order_by("history_date", "history_id")
        .values_list("status", "history_change_reason")
    )
    assert history[-2][0] == "inactive" and history[-2][1].startswith("Deactivated on linking")
    assert history[-1] == ("inactive", "Linked to a user")


def test_creating_an_sso_identity_links_waiting_enrollments_in_every_program(catalog):
    user = UserFactory(username="alice")
    enroll(catalog.CYBERSECURITY, ["sso-1"])
    enroll(catalog.ANALYTICS, ["SSO-1"])
    enroll(catalog.MIT, ["sso-1"])  # another organization: another learner
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["sso-1"])
    hosts.add_sso_identity(user, "GTx", "Sso-1")
    linked = set(ProgramEnrollment.objects.filter(user=user).values_list("program_uuid", flat=True))
    assert linked == {catalog.CYBERSECURITY, catalog.ANALYTICS}
    assert ProgramEnrollment.objects.get(program_uuid=catalog.MIT).user is None
    assert CourseEnrollment.objects.get(user=user).is_active


def test_link_command_links_and_reports(catalog, capsys):
    UserFactory(username="alice")
    enroll(catalog.CYBERSECURITY, ["a"])
    call_command("link_program_enrollments", str(catalog.CYBERSECURITY), "a:alice")
    assert "Linked a to alice" in capsys.readouterr().out
    assert ProgramEnrollment.objects.get().user.username == "alice"


@pytest.mark.parametrize(
    "args, message",
    [
        (["not-a-uuid", "a:alice"], "supplied program_uuid 'not-a-uuid' is not a valid UUID"),
        (["509c2e6c-f4e2-5b32-bc77-5137159b0719", "a-alice"], "incorrectly formatted argument 'a-alice'"),
        (["509c2e6c-f4e2-5b32-bc77-5137159b0719", "a:"], "incorrectly formatted argument 'a:'"),
        (["509c2e6c-f4e2-5b32-bc77-5137159b0719", "a:b:c"], "must be in form <external user key>:<lms username>"),
        (["509c2e6c-f4e2-5b32-bc77-5137159b0719", "a:x", "a:y"], "external user key a provided multiple times"),
        (["509c2e6c-f4e2-5b32-bc77-5137159b0719", "a:nobody"], "1 of 1 enrollments could not be linked"),
    ],
)
def test_link_command_rejects_bad_arguments(catalog, args, message):
    enroll(catalog.CYBERSECURITY, ["a"])
    with pytest.raises(CommandError, match=message.replace("(", r"\(")):
        call_command("link_program_enrollments", *args)
    assert ProgramEnrollment.objects.get().user is None
