"""``POST integration-reset``: the built-in app's sandbox endpoint, behind ENABLE_ENROLLMENT_RESET."""

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from program_enrollments.api.housekeeping import RESET_REASON
from program_enrollments.models import OrganizationGrant, ProgramEnrollment
from tests import catalog as c
from tests import hosts
from tests.api.helpers import enroll, enroll_course
from tests.factories import SSOIdentityFactory, UserFactory
from tests.rest_api.conftest import Caller

pytestmark = pytest.mark.django_db

BASE = "/api/program_enrollments/v1"
RESET = f"{BASE}/integration-reset"

CourseEnrollment = hosts.course_enrollment_model()

enabled = override_settings(ENABLE_ENROLLMENT_RESET=True)


@pytest.fixture
def enrollments(catalog):
    """GTx: realized r (active in the shared course through Cybersecurity), waiting w in two programs; MITx: m."""
    SSOIdentityFactory(student_key="r", user=UserFactory(username="reset-r"))
    enroll(c.CYBERSECURITY, ["r", "w"])
    enroll(c.OTHER, ["w"])
    enroll_course(c.CYBERSECURITY, c.SHARED_COURSE, ["r", "w"])
    enroll(c.MIT, ["m"])


def _programs():
    return sorted({str(uuid) for uuid in ProgramEnrollment.objects.values_list("program_uuid", flat=True)})


def test_path_and_name_are_the_built_in_apps():
    assert reverse("programs_api:v1:reset_enrollment_data") == RESET  # no trailing slash


@enabled
def test_staff_reset_wipes_the_organizations_programs_only(enrollments, staff):
    response = staff.post(RESET, {"organization": "GTx"})

    assert (response.status_code, response.json()) == (200, "success")
    assert _programs() == [str(c.MIT)]
    # The course access the program created is taken back (deactivated, not deleted).
    assert not CourseEnrollment.objects.get(user__username="reset-r").is_active
    deleted = ProgramEnrollment.history.filter(history_type="-", history_change_reason=RESET_REASON)
    assert deleted.count() == 3
    assert {row.history_user_id for row in deleted} == {staff.user.id}


def test_off_by_default_answers_501_and_deletes_nothing(enrollments, staff):
    response = staff.post(RESET, {"organization": "GTx"})

    assert (response.status_code, response.json()) == (501, "reset not enabled on this environment")
    assert len(_programs()) == 3


def test_features_dict_flag_turns_it_on(enrollments, staff):
    features = {**(getattr(settings, "FEATURES", None) or {}), "ENABLE_ENROLLMENT_RESET": True}
    with override_settings(FEATURES=features):
        response = staff.post(RESET, {"organization": "MITx"})
    assert (response.status_code, response.json()) == (200, "success")
    assert str(c.MIT) not in _programs()


@enabled
@pytest.mark.parametrize("body", [{}, {"organization": ""}, {"organization": ["GTx"]}, ["GTx"]])
def test_missing_organization_is_400(enrollments, staff, body):
    response = staff.post(RESET, body)

    assert (response.status_code, response.json()) == (400, "missing required body content 'organization'")
    assert len(_programs()) == 3


@enabled
def test_organization_without_enrollments_is_a_success_that_deletes_nothing(enrollments, staff):
    response = staff.post(RESET, {"organization": "NoSuchOrg"})

    assert (response.status_code, response.json()) == (200, "success")
    assert len(_programs()) == 3


@enabled
def test_organization_writer_may_reset_its_own_organization_only(enrollments, gtx_writer):
    refused = gtx_writer.post(RESET, {"organization": "MITx"})
    assert refused.status_code == 403
    assert str(c.MIT) in _programs()

    response = gtx_writer.post(RESET, {"organization": "GTx"})
    assert (response.status_code, response.json()) == (200, "success")
    assert _programs() == [str(c.MIT)]


@enabled
def test_restricted_application_needs_write_scope_and_the_organizations_filter(enrollments, restricted_gtx):
    assert restricted_gtx.post(RESET, {"organization": "MITx"}).status_code == 403
    assert restricted_gtx.post(RESET, {"organization": "GTx"}).status_code == 200
    assert _programs() == [str(c.MIT)]


@pytest.mark.parametrize("flag", [True, False])
def test_callers_without_write_access_are_refused_before_the_flag(enrollments, gtx_reader, outsider, flag):
    read_only_app = Caller(
        UserFactory(username="reader-app"),
        is_restricted=True,
        scopes=["program_enrollments:read"],
        filters=["content_org:GTx"],
    )
    with override_settings(ENABLE_ENROLLMENT_RESET=flag):
        for caller in (gtx_reader, outsider, read_only_app):
            assert caller.post(RESET, {"organization": "GTx"}).status_code == 403
    assert len(_programs()) == 3


@enabled
def test_anonymous_is_401(enrollments, anonymous):
    assert anonymous.post(RESET, {"organization": "GTx"}).status_code == 401
    assert len(_programs()) == 3


@enabled
def test_a_grant_revoked_stops_the_reset_at_once(enrollments, gtx_writer):
    OrganizationGrant.objects.filter(user=gtx_writer.user).update(access=OrganizationGrant.Access.READ)
    assert gtx_writer.post(RESET, {"organization": "GTx"}).status_code == 403
    assert len(_programs()) == 3


@enabled
@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_only_post_is_served(enrollments, staff, method):
    assert getattr(staff, method)(RESET).status_code == 405


@enabled
def test_a_trailing_slash_reaches_the_same_endpoint(enrollments, staff):
    # Every API path answers the same with or without its trailing slash (docs/rest_api.rst).
    response = staff.post(f"{RESET}/", {"organization": "GTx"})
    assert response.status_code == 200 and response.json() == "success"
    assert _programs() == [str(c.MIT)]
