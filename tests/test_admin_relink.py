"""The admin's support lookup (username, email or student key; SSO uid and linked account) and relinking."""

import pytest

from program_enrollments.models import ProgramEnrollment
from tests import catalog as c
from tests import hosts
from tests.api.helpers import enroll, enroll_course
from tests.factories import SSOIdentityFactory, UserFactory

pytestmark = pytest.mark.django_db

LEARNER = "/admin/program_enrollments/programenrollment/learner/"
CourseEnrollment = hosts.course_enrollment_model()


@pytest.fixture
def wrong_account(catalog):
    """``K-1`` was linked by username to ``alice``; its SSO identity signs in to ``bob``."""
    from program_enrollments import api

    UserFactory(username="alice", email="alice@example.org")
    bob = UserFactory(username="bob", email="bob@example.org")
    enroll(c.CYBERSECURITY, ["K-1"])
    enroll_course(c.CYBERSECURITY, c.SHARED_COURSE, ["K-1"])
    api.link_program_enrollments(program_uuid=c.CYBERSECURITY, usernames_by_student_key={"K-1": "alice"})
    SSOIdentityFactory(user=bob, organization_key="GTx", student_key="K-1")
    return ProgramEnrollment.objects.get(external_user_key="K-1")


def _relink_url(enrollment):
    return f"/admin/program_enrollments/programenrollment/{enrollment.pk}/relink/"


@pytest.mark.parametrize("query", [{"username": "alice"}, {"username": "alice@example.org"}, {"student_key": "k-1"}])
def test_learner_page_shows_the_linked_account_the_sso_uid_and_the_relink_link(support, wrong_account, query):
    page = support.get(LEARNER, query)
    assert page.status_code == 200
    assert "Learner alice" in page.text and "alice@example.org" in page.text
    linked = page.text.split('class="linked-account"')[1].split("</p>")[0]
    assert "alice" in linked and _relink_url(wrong_account) in linked and "Relink to another account" in linked
    identities = page.text.split('class="sso-identities"')[1].split("</table>")[0]
    uid = "gtx:K-1" if hosts.is_openedx() else "K-1"
    assert uid in identities and "bob" in identities
    assert 'class="errornote sso-mismatch"' in page.text


def test_view_only_staff_see_the_lookup_but_cannot_relink(viewer, wrong_account):
    page = viewer.get(LEARNER, {"student_key": "K-1"})
    assert page.status_code == 200 and "sso-identities" in page.text
    assert _relink_url(wrong_account) not in page.text
    assert viewer.get(_relink_url(wrong_account)).status_code == 403
    assert viewer.post(_relink_url(wrong_account), {"username": "bob", "reason": "x", "confirm": "on"}).status_code == (
        403
    )
    assert ProgramEnrollment.objects.get().user.username == "alice"


def test_relink_form_moves_the_enrollment_with_history(support, wrong_account):
    form = support.get(_relink_url(wrong_account))
    assert form.status_code == 200 and 'id="relink-form"' in form.text and "alice" in form.text

    done = support.post(
        _relink_url(wrong_account), {"username": "bob", "reason": "Ticket 42", "confirm": "on"}, follow=True
    )

    assert done.status_code == 200 and "K-1 moved from alice to bob." in done.text
    assert "Learner bob" in done.text
    enrollment = ProgramEnrollment.objects.get()
    assert enrollment.user.username == "bob"
    latest = enrollment.history.order_by("-history_date", "-history_id").first()
    assert latest.history_user.username == "support"
    assert latest.history_change_reason == "Relinked in the admin by support: Ticket 42"
    alice = CourseEnrollment.objects.get(user__username="alice", course_id=c.SHARED_COURSE)
    assert (alice.mode, alice.is_active) == ("audit", False)
    assert CourseEnrollment.objects.get(user__username="bob", course_id=c.SHARED_COURSE).is_active
    assert 'class="errornote sso-mismatch"' not in done.text


def test_relink_form_errors_change_nothing(support, wrong_account):
    unconfirmed = support.post(_relink_url(wrong_account), {"username": "bob", "reason": "Ticket 42"})
    assert unconfirmed.status_code == 200 and "This field is required" in unconfirmed.text
    unknown = support.post(_relink_url(wrong_account), {"username": "nobody", "reason": "x", "confirm": "on"})
    assert unknown.status_code == 200 and "No user found with username nobody" in unknown.text
    same = support.post(_relink_url(wrong_account), {"username": "alice", "reason": "x", "confirm": "on"})
    assert "already linked to target account username=alice" in same.text
    assert ProgramEnrollment.objects.get().user.username == "alice"
    assert support.get("/admin/program_enrollments/programenrollment/999999/relink/").status_code == 404


def test_a_waiting_enrollment_is_linked_from_the_same_form(support, catalog):
    UserFactory(username="dora")
    enroll(c.CYBERSECURITY, ["W-1"])
    enrollment = ProgramEnrollment.objects.get()
    page = support.get(LEARNER, {"student_key": "W-1"})
    assert "Link to an account" in page.text and _relink_url(enrollment) in page.text

    done = support.post(
        _relink_url(enrollment), {"username": "dora", "reason": "Ticket 7", "confirm": "on"}, follow=True
    )

    assert "W-1 linked to dora." in done.text
    assert ProgramEnrollment.objects.get().user.username == "dora"
