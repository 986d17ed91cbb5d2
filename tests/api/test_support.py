"""The support lookup: a learner by username, email or student key, with linked accounts and SSO identities."""

import pytest

from program_enrollments import api
from program_enrollments.backends import lms_backend
from program_enrollments.exceptions import InvalidRequest, OrganizationNotReadable
from tests import hosts
from tests.api.helpers import enroll, enroll_course
from tests.factories import SSOIdentityFactory, UserFactory

pytestmark = pytest.mark.django_db


def _uid(organization, key):
    """The uid the host records: ``<provider slug>:<key>`` in Open edX, the key in the standalone host."""
    return f"{organization.lower()}:{key}" if hosts.is_openedx() else key


@pytest.fixture
def wrong_account(catalog):
    """``K-1`` was linked by username to ``alice``; its SSO identity signs in to ``bob``."""
    alice = UserFactory(username="alice", email="alice@example.org")
    bob = UserFactory(username="bob", email="bob@example.org")
    enroll(catalog.CYBERSECURITY, ["K-1"])
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["K-1"])
    api.link_program_enrollments(program_uuid=catalog.CYBERSECURITY, usernames_by_student_key={"K-1": "alice"})
    SSOIdentityFactory(user=bob, organization_key="GTx", student_key="K-1")
    return alice, bob


def test_backend_reads_sso_identities_by_key_in_any_case_and_by_user(catalog, wrong_account):
    alice, bob = wrong_account
    carol = UserFactory(username="carol")
    SSOIdentityFactory(user=carol, organization_key="GTx", student_key="C-1")
    SSOIdentityFactory(user=carol, organization_key="MITx", student_key="C-1")
    backend = lms_backend()

    by_key = backend.get_sso_identities("GTx", student_keys=["k-1"])
    assert [(item.student_key, item.user_id, item.uid) for item in by_key] == [("K-1", bob.pk, _uid("GTx", "K-1"))]
    by_user = backend.get_sso_identities("GTx", user_ids=[carol.pk, alice.pk])
    assert [(item.organization_key, item.student_key, item.user_id) for item in by_user] == [("GTx", "C-1", carol.pk)]
    assert backend.get_sso_identities("GTx") == []
    assert backend.get_sso_identities("NoSuchOrg", student_keys=["K-1"], user_ids=[bob.pk]) == []


def test_lookup_by_student_key_shows_the_linked_account_and_the_sso_identity(catalog, wrong_account):
    alice, bob = wrong_account

    view = api.fetch_support_view(student_key="k-1")

    assert view["username"] == "alice" and view["account"]["email"] == "alice@example.org"
    (program,) = view["programs"]
    assert program["student_key"] == "K-1" and program["enrollment_id"]
    assert program["linked_account"] == {"id": alice.pk, "username": "alice", "email": "alice@example.org"}
    assert program["sso_identities"] == [
        {
            "uid": _uid("GTx", "K-1"),
            "student_key": "K-1",
            "account": {"id": bob.pk, "username": "bob", "email": "bob@example.org"},
        }
    ]
    assert program["sso_mismatch"] is True
    assert program["courses"] == [{"course_key": catalog.SHARED_COURSE, "status": "active", "holds_active_slot": True}]


@pytest.mark.parametrize("user", ["alice", "alice@example.org", "ALICE@example.org"])
def test_lookup_by_username_or_email(catalog, wrong_account, user):
    view = api.fetch_support_view(user=user)
    assert view["account"]["username"] == "alice"
    assert [program["student_key"] for program in view["programs"]] == ["K-1"]
    assert view["programs"][0]["sso_mismatch"] is True


def test_after_relinking_the_sso_identity_and_the_linked_account_agree(catalog, wrong_account):
    api.link_program_enrollments(
        program_uuid=catalog.CYBERSECURITY, usernames_by_student_key={"K-1": "bob"}, relink=True
    )
    view = api.fetch_support_view(student_key="K-1", organization_key="GTx")
    (program,) = view["programs"]
    assert program["linked_account"]["username"] == "bob" and program["sso_mismatch"] is False
    assert view["active_slots"] == {catalog.SHARED_COURSE: str(catalog.CYBERSECURITY)}
    assert api.fetch_support_view(user="alice")["programs"] == []


def test_a_waiting_learner_has_no_account_and_no_identity(catalog):
    enroll(catalog.CYBERSECURITY, ["W-1"])
    view = api.fetch_support_view(student_key="w-1")
    assert view["username"] == "" and view["account"] is None
    (program,) = view["programs"]
    assert program["linked_account"] is None and program["sso_identities"] == [] and not program["sso_mismatch"]


def test_unknown_account_or_key_finds_nothing(catalog):
    assert api.fetch_support_view(user="nobody@example.org") == {
        "username": "",
        "programs": [],
        "active_slots": {},
        "account": None,
    }
    assert api.fetch_support_view(student_key="none")["programs"] == []


def test_refusals(catalog):
    UserFactory(username="one", email="shared@example.org")
    UserFactory(username="two", email="Shared@example.org")
    enroll(catalog.CYBERSECURITY, ["S-1"])
    enroll(catalog.MIT, ["S-1"])
    with pytest.raises(InvalidRequest, match="Several accounts use the email"):
        api.fetch_support_view(user="shared@example.org")
    with pytest.raises(InvalidRequest, match="used by several organizations"):
        api.fetch_support_view(student_key="S-1")
    with pytest.raises(InvalidRequest, match="Give a username or email, or a student key"):
        api.fetch_support_view()
    with pytest.raises(InvalidRequest, match="NUL"):
        api.fetch_support_view(user="a\x00b")
    with pytest.raises(OrganizationNotReadable):
        api.fetch_support_view(student_key="S-1", organization_key="MITx", readable_organizations={"GTx"})
    only_gtx = api.fetch_support_view(student_key="S-1", readable_organizations={"GTx"})
    assert [program["organization_key"] for program in only_gtx["programs"]] == ["GTx"]
