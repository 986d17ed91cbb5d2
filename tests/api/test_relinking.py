"""Relinking a student key to a different account: the previous account gives back what the program gave."""

import pytest
from django.core.management import CommandError, call_command

from program_enrollments import api
from program_enrollments.api.audit import AuditKind
from program_enrollments.backends import lms_backend
from program_enrollments.identity import user_ref
from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment
from tests import hosts
from tests.api.helpers import enroll, enroll_course
from tests.factories import CourseEnrollmentFactory, UserFactory

pytestmark = pytest.mark.django_db

CourseEnrollment = hosts.course_enrollment_model()


def link(catalog, mapping, program=None, **kwargs):
    return api.link_program_enrollments(
        program_uuid=program or catalog.CYBERSECURITY, usernames_by_student_key=mapping, **kwargs
    )


def relink(catalog, mapping, program=None, **kwargs):
    return link(catalog, mapping, program, relink=True, **kwargs)


def _state(user, course):
    enrollment = CourseEnrollment.objects.filter(user=user, course_id=course).first()
    return None if enrollment is None else (enrollment.mode, enrollment.is_active)


def _row(course, key="K-1", program=None):
    from tests import catalog

    return ProgramCourseEnrollment.objects.get(
        program_enrollment__program_uuid=program or catalog.CYBERSECURITY,
        program_enrollment__external_user_key=key,
        course_key=course,
    )


@pytest.fixture
def accounts(catalog):
    """``K-1`` linked to ``alice``, active in one course run and inactive in another; ``bob`` has no enrollment."""
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob", email="bob@example.org")
    enroll(catalog.CYBERSECURITY, ["K-1"])
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["K-1"])
    enroll_course(catalog.CYBERSECURITY, catalog.SECOND_SHARED_COURSE, ["K-1"], status="inactive")
    assert link(catalog, {"K-1": "alice"})["K-1"].linked
    return alice, bob


def test_without_relink_an_enrollment_linked_to_another_account_is_refused(catalog, accounts):
    alice, bob = accounts
    before = {row.id: (row.course_enrollment_id, row.access_grant) for row in ProgramCourseEnrollment.objects.all()}

    outcome = link(catalog, {"k-1": "bob"})["k-1"]

    assert outcome.error == (
        "Program enrollment with external_student_key=K-1 is already linked to a different account username=alice"
    )
    assert outcome.previous_username == ""
    assert ProgramEnrollment.objects.get().user == alice
    assert {row.id: (row.course_enrollment_id, row.access_grant) for row in ProgramCourseEnrollment.objects.all()} == (
        before
    )
    assert _state(alice, catalog.SHARED_COURSE) == ("masters", True)
    assert not CourseEnrollment.objects.filter(user=bob).exists()


def test_relink_moves_the_enrollment_and_its_course_access_to_the_new_account(catalog, accounts):
    alice, bob = accounts

    outcome = relink(catalog, {"k-1": "bob"})["k-1"]

    assert outcome.linked and outcome.previous_username == "alice" and outcome.deactivated_courses == ()
    enrollment = ProgramEnrollment.objects.get()
    assert (enrollment.user, enrollment.learner_ref) == (bob, user_ref(bob.pk))
    # The program created alice's course enrollments: she leaves the course, in audit, as the built-in app does.
    assert _state(alice, catalog.SHARED_COURSE) == ("audit", False)
    # The inactive row's course enrollment gave alice nothing to take back.
    assert _state(alice, catalog.SECOND_SHARED_COURSE) == ("masters", False)
    assert _state(bob, catalog.SHARED_COURSE) == ("masters", True)
    assert _state(bob, catalog.SECOND_SHARED_COURSE) == ("masters", False)
    for row in ProgramCourseEnrollment.objects.select_related("course_enrollment"):
        assert row.learner_ref == user_ref(bob.pk)
        assert row.course_enrollment.user_id == bob.pk
    assert _row(catalog.SHARED_COURSE).access_grant == "created"
    assert api.audit_program_enrollments().clean


def test_relink_writes_history_with_reasons(catalog, accounts):
    alice, bob = accounts
    relink(catalog, {"K-1": "bob"})

    enrollment = ProgramEnrollment.objects.get()
    latest = enrollment.history.order_by("-history_date", "-history_id").first()
    assert (latest.user_id, latest.history_change_reason) == (bob.pk, "Relinked from user alice to user bob")
    history = list(
        _row(catalog.SHARED_COURSE)
        .history.order_by("history_date", "history_id")
        .values_list("course_enrollment_id", "history_change_reason")
    )
    alice_enrollment = CourseEnrollment.objects.get(user=alice, course_id=catalog.SHARED_COURSE).id
    bob_enrollment = CourseEnrollment.objects.get(user=bob, course_id=catalog.SHARED_COURSE).id
    assert history[-3:] == [
        (alice_enrollment, "Linked to a user"),
        (None, "Unlinked from user alice to relink"),
        (bob_enrollment, "Linked to a user"),
    ]


def test_relink_records_the_reason_and_author_given(catalog, accounts):
    support = UserFactory(username="support")
    relink(catalog, {"K-1": "bob"}, actor=support, reason="Ticket 42: wrong account")
    latest = ProgramEnrollment.objects.get().history.order_by("-history_date", "-history_id").first()
    assert (latest.history_user, latest.history_change_reason) == (support, "Ticket 42: wrong account")
    row_latest = _row(catalog.SHARED_COURSE).history.order_by("-history_date", "-history_id")[1]
    assert (row_latest.history_user, row_latest.history_change_reason) == (support, "Ticket 42: wrong account")


@pytest.mark.parametrize(
    "before, after",
    [
        # Upgraded from audit by the program: audit again, and she keeps her own access.
        (("audit", True), ("audit", True)),
        # Reactivated and upgraded by the program: inactive audit again.
        (("audit", False), ("audit", False)),
        # Reactivated only (a paid mode is kept): inactive again, in her mode.
        (("verified", False), ("verified", False)),
        # Her own paid enrollment: the program gave nothing, nothing is taken back.
        (("verified", True), ("verified", True)),
    ],
)
def test_relink_gives_the_previous_account_back_what_it_had(catalog, before, after):
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    CourseEnrollmentFactory(user=alice, course_id=catalog.SHARED_COURSE, mode=before[0], is_active=before[1])
    enroll(catalog.CYBERSECURITY, ["K-1"])
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["K-1"])
    link(catalog, {"K-1": "alice"})

    assert relink(catalog, {"K-1": "bob"})["K-1"].previous_username == "alice"

    assert _state(alice, catalog.SHARED_COURSE) == after
    assert _state(bob, catalog.SHARED_COURSE) == ("masters", True)
    assert api.audit_program_enrollments().clean


def test_relink_gives_the_new_account_back_only_its_own_when_it_had_the_course(catalog, accounts):
    """Bob already has his own verified enrollment: he keeps it, and the program records that it gave nothing."""
    alice, bob = accounts
    CourseEnrollmentFactory(user=bob, course_id=catalog.SHARED_COURSE, mode="verified", is_active=True)

    relink(catalog, {"K-1": "bob"})

    assert _state(bob, catalog.SHARED_COURSE) == ("verified", True)
    assert _row(catalog.SHARED_COURSE).access_grant == "none"
    assert _state(alice, catalog.SHARED_COURSE) == ("audit", False)


def test_relink_applies_the_one_active_rule_for_the_new_account(catalog, accounts):
    """Bob is active in the course through another program since before: that program keeps the course."""
    alice, bob = accounts
    enroll(catalog.OTHER, ["bob-key"])
    enroll_course(catalog.OTHER, catalog.SHARED_COURSE, ["bob-key"])
    link(catalog, {"bob-key": "bob"}, program=catalog.OTHER)
    # K-1 was activated first; make the other program's activation older than K-1's.
    history = ProgramCourseEnrollment.history.model.objects
    other = _row(catalog.SHARED_COURSE, key="bob-key", program=catalog.OTHER)
    history.filter(id=other.id).update(history_date=_row(catalog.SHARED_COURSE).created.replace(year=2000))

    outcome = relink(catalog, {"K-1": "bob"})["K-1"]

    assert outcome.linked and outcome.deactivated_courses == (catalog.SHARED_COURSE,)
    assert _row(catalog.SHARED_COURSE).status == "inactive"
    assert _row(catalog.SHARED_COURSE, key="bob-key", program=catalog.OTHER).status == "active"
    assert _state(bob, catalog.SHARED_COURSE) == ("masters", True)
    assert _state(alice, catalog.SHARED_COURSE) == ("audit", False)
    assert api.audit_program_enrollments().clean


def test_relink_keeps_the_earlier_activation_active_and_deactivates_the_new_accounts_later_one(catalog, accounts):
    alice, bob = accounts
    enroll(catalog.OTHER, ["bob-key"])
    enroll_course(catalog.OTHER, catalog.SHARED_COURSE, ["bob-key"])
    link(catalog, {"bob-key": "bob"}, program=catalog.OTHER)

    outcome = relink(catalog, {"K-1": "bob"})["K-1"]

    assert outcome.linked and outcome.deactivated_courses == ()
    assert _row(catalog.SHARED_COURSE).status == "active"
    assert _row(catalog.SHARED_COURSE, key="bob-key", program=catalog.OTHER).status == "inactive"
    assert _state(bob, catalog.SHARED_COURSE) == ("masters", True)
    assert api.audit_program_enrollments().clean


def test_relink_to_an_account_already_in_the_program_is_refused(catalog, accounts):
    alice, bob = accounts
    enroll(catalog.CYBERSECURITY, ["bob-key"])
    link(catalog, {"bob-key": "bob"})

    outcome = relink(catalog, {"K-1": "bob"})["K-1"]

    assert outcome.error == (
        f"User with username=bob is already enrolled in program uuid={catalog.CYBERSECURITY} under another student key"
    )
    assert ProgramEnrollment.objects.get(external_user_key="K-1").user == alice
    assert _state(alice, catalog.SHARED_COURSE) == ("masters", True)


def test_relink_to_the_same_account_is_refused_as_already_linked(catalog, accounts):
    outcome = relink(catalog, {"K-1": "alice"})["K-1"]
    assert outcome.error.endswith("is already linked to target account username=alice")


def test_relink_links_waiting_keys_and_reports_each_key_in_order(catalog, accounts):
    alice, bob = accounts
    carol = UserFactory(username="carol")
    enroll(catalog.CYBERSECURITY, ["W-1"])

    outcomes = relink(catalog, {"W-1": "carol", "K-1": "bob", "X-9": "carol", "W-2": "nobody"})

    assert list(outcomes) == ["W-1", "K-1", "X-9", "W-2"]
    assert outcomes["W-1"].linked and outcomes["W-1"].previous_username == ""
    assert outcomes["K-1"].linked and outcomes["K-1"].previous_username == "alice"
    assert outcomes["X-9"].error.startswith("No program enrollment found")
    assert outcomes["W-2"].error == "No user found with username nobody"
    users = dict(ProgramEnrollment.objects.values_list("external_user_key", "user"))
    assert users == {"W-1": carol.pk, "K-1": bob.pk}


def test_two_keys_relinked_to_one_account_link_only_the_first(catalog, accounts):
    alice, bob = accounts
    carol = UserFactory(username="carol")
    enroll(catalog.CYBERSECURITY, ["K-2"])
    link(catalog, {"K-2": "carol"})

    outcomes = relink(catalog, {"K-1": "bob", "K-2": "bob"})

    assert outcomes["K-1"].linked
    assert "already enrolled in program" in outcomes["K-2"].error
    assert ProgramEnrollment.objects.get(external_user_key="K-2").user == carol


def test_relink_takes_the_course_staff_role_from_the_previous_account(catalog, accounts):
    alice, bob = accounts
    api.write_program_course_enrollments(
        program_uuid=catalog.CYBERSECURITY,
        course_key=catalog.SHARED_COURSE,
        requests=[{"student_key": "K-1", "status": "active", "course_staff": True}],
        create=False,
        update=True,
    )
    backend = lms_backend()
    assert backend.course_staff_user_ids(_row(catalog.SHARED_COURSE).course_key, {alice.pk, bob.pk}) == {alice.pk}

    relink(catalog, {"K-1": "bob"})

    assert backend.course_staff_user_ids(_row(catalog.SHARED_COURSE).course_key, {alice.pk, bob.pk}) == {bob.pk}


def test_a_failing_relink_changes_nothing_for_that_learner(catalog, accounts, monkeypatch):
    alice, bob = accounts
    backend = hosts.lms_backend_class()

    def broken(self, course_key, changes):
        raise RuntimeError("LMS down")

    monkeypatch.setattr(backend, "update_enrollments", broken)
    outcome = relink(catalog, {"K-1": "bob"})["K-1"]

    assert outcome.error == "Could not relink external student key=K-1 to username=bob"
    assert ProgramEnrollment.objects.get().user == alice
    assert _row(catalog.SHARED_COURSE).course_enrollment.user_id == alice.pk
    assert _state(alice, catalog.SHARED_COURSE) == ("masters", True)
    assert api.audit_program_enrollments().clean


def test_the_audit_finds_nothing_after_relinking_back_and_forth(catalog, accounts):
    relink(catalog, {"K-1": "bob"})
    outcome = relink(catalog, {"K-1": "alice"})["K-1"]
    assert outcome.previous_username == "bob"
    report = api.audit_program_enrollments()
    assert report.clean and report.of_kind(AuditKind.UNBACKED_COURSE_ENROLLMENT) == ()


# --- the command ---------------------------------------------------------------------------------


def test_link_command_refuses_a_relink_without_the_flag(catalog, accounts):
    alice, bob = accounts
    with pytest.raises(CommandError, match="1 of 1 enrollments could not be linked"):
        call_command("link_program_enrollments", str(catalog.CYBERSECURITY), "K-1:bob")
    assert ProgramEnrollment.objects.get().user == alice


def test_link_command_relinks_with_the_flag(catalog, accounts, capsys):
    alice, bob = accounts
    call_command("link_program_enrollments", "--relink", str(catalog.CYBERSECURITY), "K-1:bob")
    out = capsys.readouterr().out
    assert "Relinked K-1 from alice to bob" in out and "1 linked, 0 not linked" in out
    assert ProgramEnrollment.objects.get().user == bob
    assert _state(alice, catalog.SHARED_COURSE) == ("audit", False)
    assert api.audit_program_enrollments().clean
