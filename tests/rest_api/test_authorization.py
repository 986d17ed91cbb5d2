"""The authorization matrix on every endpoint: who gets 200, 401 and 403."""

import time

import pytest
from edx_rest_framework_extensions.auth.jwt.tests.utils import generate_jwt_token, generate_latest_version_payload

from tests import catalog as c
from tests.factories import SupportStaffFactory, UserFactory, grant_enrollment_permissions
from tests.rest_api import endpoint_calls as calls
from tests.rest_api.conftest import Caller

pytestmark = pytest.mark.django_db

BASE = "/api/program_enrollments/v1"
ENDPOINTS = {
    "program": f"{BASE}/programs/{c.CYBERSECURITY}/enrollments/",
    "course": f"{BASE}/programs/{c.CYBERSECURITY}/courses/{c.SHARED_COURSE}/enrollments/",
    "transfer": f"{BASE}/programs/{c.CYBERSECURITY}/transfers/",
}
WRITES = {
    "program": [{"student_key": "a", "status": "enrolled", "curriculum_uuid": str(c.CYBERSECURITY_CURRICULUM)}],
    "course": [{"student_key": "a", "status": "active"}],
    "transfer": {"to_program_uuid": str(c.OTHER), "student_keys": ["a"], "dry_run": True},
}


class _RawJwtCaller(Caller):
    def __init__(self, token):
        super().__init__()
        self.headers = {"HTTP_AUTHORIZATION": f"JWT {token}"}


@pytest.fixture
def callers(staff, gtx_writer, gtx_reader, outsider, anonymous, restricted_gtx):
    user = UserFactory(username="jwt-user", is_staff=True)
    expired = generate_latest_version_payload(user)
    expired["exp"] = int(time.time()) - 3600
    expired["iat"] = expired["exp"] - 60
    return {
        "staff": staff,
        "gtx writer": gtx_writer,
        "gtx reader": gtx_reader,
        "restricted gtx": restricted_gtx,
        "restricted gtx read-only": Caller(
            UserFactory(username="reader-app"),
            is_restricted=True,
            scopes=["program_enrollments:read"],
            filters=["content_org:GTx"],
        ),
        "restricted mitx": Caller(
            UserFactory(username="mitx-app"),
            is_restricted=True,
            scopes=["program_enrollments:write"],
            filters=["content_org:MITx"],
        ),
        "restricted without scope": Caller(
            UserFactory(username="noscope-app"),
            is_restricted=True,
            scopes=[],
            filters=["content_org:GTx"],
        ),
        "restricted without org filter": Caller(
            UserFactory(username="noorg-app"),
            is_restricted=True,
            scopes=["program_enrollments:read", "program_enrollments:write"],
            filters=[],
        ),
        "restricted with a user filter only": Caller(
            UserFactory(username="userfilter-app"),
            is_restricted=True,
            scopes=["program_enrollments:read", "program_enrollments:write"],
            filters=["user:me"],
        ),
        "restricted with another scope": Caller(
            UserFactory(username="grades-app"),
            is_restricted=True,
            scopes=["grades:read"],
            filters=["content_org:GTx"],
        ),
        # A restricted token's user is never judged as a user: its staff flag is ignored.
        "restricted token of a staff user, mitx": Caller(
            SupportStaffFactory(username="staff-app"),
            is_restricted=True,
            scopes=["program_enrollments:write"],
            filters=["content_org:MITx"],
        ),
        "unrestricted token of a non-staff user": Caller(
            UserFactory(username="plain-app"),
            is_restricted=False,
            scopes=["program_enrollments:write"],
            filters=["content_org:GTx"],
        ),
        "outsider": outsider,
        "anonymous": anonymous,
        "expired token": _RawJwtCaller(generate_jwt_token(expired)),
        "forged token": _RawJwtCaller(generate_jwt_token(generate_latest_version_payload(user), signing_key="nope")),
    }


# caller -> (read code, write code)
EXPECTED = {
    "staff": (200, 200),
    "gtx writer": (200, 200),
    "gtx reader": (200, 403),
    "restricted gtx": (200, 200),
    "restricted gtx read-only": (200, 403),
    "restricted mitx": (403, 403),
    "restricted without scope": (403, 403),
    "restricted without org filter": (403, 403),
    "restricted with a user filter only": (403, 403),
    "restricted with another scope": (403, 403),
    "restricted token of a staff user, mitx": (403, 403),
    "unrestricted token of a non-staff user": (403, 403),
    "outsider": (403, 403),
    "anonymous": (401, 401),
    "expired token": (401, 401),
    "forged token": (401, 401),
}


def _expected(read_code, write_code):
    """call name -> (status code, database changed) for a caller with these read and write codes."""
    expected = {name: (read_code, False) for name in calls.READS}
    expected.update({name: (write_code, write_code == 200) for name in calls.WRITES})
    return expected


@pytest.mark.parametrize("caller_name", list(EXPECTED))
def test_authorization_matrix(catalog, callers, caller_name):
    """Every endpoint family and method; a refused write writes nothing, an allowed one writes."""
    calls.seed()
    assert calls.codes(callers[caller_name], calls.calls()) == _expected(*EXPECTED[caller_name])


@pytest.mark.parametrize("caller_name", ["gtx writer", "gtx reader", "restricted gtx", "restricted gtx read-only"])
def test_a_partner_gets_nothing_of_another_organization_s_program(catalog, callers, caller_name):
    calls.seed(c.MIT)
    results = {}
    for name in calls.calls(c.MIT):
        before = calls.snapshot()
        response = calls.call(callers[caller_name], name, c.MIT)
        results[name] = (response.status_code, calls.snapshot() != before)
        assert '"a"' not in response.content.decode() and "MicroMasters" not in response.content.decode()
    assert results == _expected(403, 403)


@pytest.mark.parametrize("caller_name", ["outsider", "gtx reader", "restricted mitx"])
def test_unknown_program_is_403_for_non_staff_and_404_for_staff(catalog, callers, caller_name):
    url = f"{BASE}/programs/00000000-0000-0000-0000-000000000000/enrollments/"
    assert callers[caller_name].get(url).status_code == 403
    assert callers["staff"].get(url).status_code == 404


def test_transfer_needs_write_access_to_the_target_too(catalog, callers):
    from program_enrollments.models import OrganizationGrant

    user = UserFactory(username="gtx-only")
    OrganizationGrant.objects.create(user=user, organization_key="GTx", access="write")
    body = {"to_program_uuid": str(c.MIT), "student_keys": ["a"], "dry_run": True}
    assert Caller(user).post(ENDPOINTS["transfer"], body).status_code == 403
    assert callers["staff"].post(ENDPOINTS["transfer"], body).status_code in (200, 207, 422)


@pytest.mark.parametrize(
    "caller_name, sees",
    [
        ("staff", {str(c.CYBERSECURITY), str(c.MIT)}),
        ("gtx reader", {str(c.CYBERSECURITY)}),
        ("restricted mitx", {str(c.MIT)}),
        ("restricted gtx read-only", {str(c.CYBERSECURITY)}),
        ("restricted without org filter", set()),
        ("restricted without scope", set()),
        ("restricted token of a staff user, mitx", {str(c.MIT)}),
        ("outsider", set()),
    ],
)
def test_learner_view_shows_only_readable_organizations(catalog, callers, caller_name, sees):
    from tests.api.helpers import enroll, enroll_course
    from tests.factories import SSOIdentityFactory

    identity = SSOIdentityFactory(student_key="L-1", user=UserFactory(username="learner-l1"))
    enroll(c.CYBERSECURITY, ["L-1"])
    enroll_course(c.CYBERSECURITY, c.SHARED_COURSE, ["L-1"])
    from program_enrollments.models import ProgramEnrollment

    ProgramEnrollment.objects.create(
        user=identity.user,
        external_user_key="mit-1",
        program_uuid=c.MIT,
        curriculum_uuid=c.MIT_CURRICULUM,
        status="enrolled",
    )
    response = callers[caller_name].get(f"{BASE}/learners/", {"username": "learner-l1"})
    assert response.status_code == 200
    assert {program["program_uuid"] for program in response.json()["programs"]} == sees
    assert callers["anonymous"].get(f"{BASE}/learners/", {"username": "learner-l1"}).status_code == 401


def test_administrator_claim_never_raises_staff_status(catalog):
    """A token issued while its user was staff (administrator: true), replayed after a demotion."""
    calls.seed()
    user = SupportStaffFactory(username="demoted")
    token = generate_jwt_token({**generate_latest_version_payload(user), "administrator": True})
    caller = _RawJwtCaller(token)
    assert calls.call(caller, "GET program").status_code == 200  # by the database's permissions
    user.is_staff = False
    user.save()
    user.user_permissions.clear()
    for _ in range(2):  # a second request would see a flag the first one copied
        assert calls.codes(caller, calls.calls()) == _expected(403, 403)
    user.refresh_from_db()
    assert not user.is_staff and not user.is_superuser


@pytest.fixture
def learner_of_two_organizations(catalog):
    """``learner-two``: GTx key ``G-2`` (SSO), MITx key ``M-2`` (SSO), enrolled in a program of each."""
    from tests.api.helpers import enroll
    from tests.factories import SSOIdentityFactory

    user = UserFactory(username="learner-two")
    SSOIdentityFactory(user=user, organization_key="GTx", student_key="G-2")
    SSOIdentityFactory(user=user, organization_key="MITx", student_key="M-2")
    enroll(c.CYBERSECURITY, ["G-2"])
    enroll(c.MIT, ["M-2"])
    return user


@pytest.mark.parametrize(
    "caller_name", ["gtx writer", "gtx reader", "restricted gtx", "restricted gtx read-only", "outsider"]
)
def test_learner_view_refuses_another_organizations_keys_whether_or_not_they_exist(
    learner_of_two_organizations, callers, caller_name
):
    caller = callers[caller_name]
    known = caller.get(f"{BASE}/learners/", {"organization": "MITx", "student_key": "M-2"})
    unknown = caller.get(f"{BASE}/learners/", {"organization": "MITx", "student_key": "nobody"})
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())
    assert known.status_code == 403
    assert "learner-two" not in known.content.decode() and "M-2" not in known.content.decode()


def test_learner_view_by_own_key_shows_nothing_of_other_organizations(learner_of_two_organizations, callers):
    body = callers["restricted gtx"].get(f"{BASE}/learners/", {"organization": "GTx", "student_key": "G-2"}).json()
    assert [program["program_uuid"] for program in body["programs"]] == [str(c.CYBERSECURITY)]
    assert str(c.MIT) not in body["active_slots"].values()
    assert "M-2" not in str(body)
    other = callers["restricted mitx"].get(f"{BASE}/learners/", {"organization": "GTx", "student_key": "G-2"})
    assert other.status_code == 403


# --- least privilege: model permissions, not the staff flag ----------------------------------------


def _codes(caller):
    """(GET program, GET course, PUT program, PUT course, dry-run transfer) status codes."""
    return (
        caller.get(ENDPOINTS["program"]).status_code,
        caller.get(ENDPOINTS["course"]).status_code,
        caller.put(ENDPOINTS["program"], WRITES["program"]).status_code,
        caller.put(ENDPOINTS["course"], WRITES["course"]).status_code,
        caller.post(ENDPOINTS["transfer"], WRITES["transfer"]).status_code,
    )


@pytest.mark.parametrize(
    "make_user, read_code, write_code",
    [
        (lambda: UserFactory(username="bare-staff", is_staff=True), 403, 403),
        (
            lambda: grant_enrollment_permissions(UserFactory(username="view-staff", is_staff=True), write=False),
            200,
            403,
        ),
        (lambda: SupportStaffFactory(username="change-staff"), 200, 200),
        (lambda: UserFactory(username="root", is_staff=True, is_superuser=True), 200, 200),
    ],
    ids=["staff without permissions", "view-only staff", "staff with change", "superuser"],
)
def test_staff_act_by_their_model_permissions_as_in_the_admin(catalog, make_user, read_code, write_code):
    calls.seed()
    assert calls.codes(Caller(make_user()), calls.calls()) == _expected(read_code, write_code)


def test_view_only_staff_read_every_organization_in_the_learner_view(catalog):
    from tests.api.helpers import enroll

    enroll(c.MIT, ["m-1"])
    viewer = Caller(grant_enrollment_permissions(UserFactory(username="viewer", is_staff=True), write=False))
    bare = Caller(UserFactory(username="bare", is_staff=True))
    params = {"organization": "MITx", "student_key": "m-1"}
    assert [p["student_key"] for p in viewer.get(f"{BASE}/learners/", params).json()["programs"]] == ["m-1"]
    assert bare.get(f"{BASE}/learners/", params).status_code == 403


def test_unrestricted_token_is_held_to_its_program_enrollments_scopes(catalog):
    from tests.api.helpers import enroll, enroll_course

    enroll(c.CYBERSECURITY, ["a"])
    enroll_course(c.CYBERSECURITY, c.SHARED_COURSE, ["a"])
    user = SupportStaffFactory(username="scoped")
    read_only = Caller(user, is_restricted=False, scopes=["program_enrollments:read"])
    assert _codes(read_only) == (200, 200, 403, 403, 403)
    # Scopes that are not the API's (an LMS sign-in JWT's) leave the user's own rights.
    signed_in = Caller(user, is_restricted=False, scopes=["email", "profile"])
    assert _codes(signed_in) == (200, 200, 200, 200, 200)
    assert _codes(Caller(user, is_restricted=False, scopes=["program_enrollments:write"]))[2] == 200
