"""The REST API inside the LMS: its middleware, its JWTs, its Bearer tokens and its sessions.

The LMS's ``EnsureJWTAuthSettingsMiddleware`` runs on every request of the harness LMS, with
the LMS's ``JWT_AUTH`` and ``EDX_DRF_EXTENSIONS`` (no claim copied onto users), and the API's
authentication classes are the ones the plugin settings choose there.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from edx_rest_framework_extensions.auth.jwt.tests.utils import (
    generate_jwt,
    generate_jwt_token,
    generate_latest_version_payload,
)
from edx_rest_framework_extensions.permissions import NotJwtRestrictedApplication
from rest_framework.test import APIClient

lms = pytest.importorskip(
    "tests.openedx.platform_data",
    reason="needs the LMS with the package installed (the taken-over run)",
    exc_type=ImportError,
)

# Only once the app is known to be installed (the LMS before the takeover has the built-in one).
from program_enrollments import api  # noqa: E402
from program_enrollments.rest_api.v1 import views  # noqa: E402

pytestmark = pytest.mark.django_db

COURSE = "course-v1:GTx+CS101+2026"


@pytest.fixture
def programs():
    gtx = lms.program(COURSE)
    mitx = lms.program("course-v1:MITx+6.00+2026", organization_key="MITx")
    api.write_program_enrollments(
        program_uuid=gtx["uuid"],
        requests=[{"student_key": "GT-1", "status": "enrolled", "curriculum_uuid": lms.curriculum_uuid(gtx)}],
        create=True,
        update=False,
    )
    return gtx, mitx


def _enrollments(program):
    return reverse("programs_api:v1:program_enrollments", args=[program["uuid"]])


def _jwt(user, **claims):
    return {"HTTP_AUTHORIZATION": f"JWT {generate_jwt(user, **claims)}"}


def test_the_plugin_settings_gave_the_api_the_lms_authentication():
    from django.conf import settings

    assert settings.PROGRAM_ENROLLMENTS["AUTHENTICATION_CLASSES"] == [
        "edx_rest_framework_extensions.auth.jwt.authentication.JwtAuthentication",
        "openedx.core.lib.api.authentication.BearerAuthenticationAllowInactiveUser",
        "edx_rest_framework_extensions.auth.session.authentication.SessionAuthenticationAllowInactiveUser",
    ]


def test_restricted_partner_tokens_pass_the_lms_middleware_with_scope_and_organization(programs):
    gtx, mitx = programs
    registrar = lms.user("registrar-worker")
    before = views.ProgramEnrollmentsView.permission_classes
    client = APIClient()
    claims = {"is_restricted": True, "scopes": ["program_enrollments:read"], "filters": ["content_org:GTx"]}

    response = client.get(_enrollments(gtx), **_jwt(registrar, **claims))
    assert response.status_code == 200
    assert [row["student_key"] for row in response.json()["results"]] == ["GT-1"]
    assert client.get(_enrollments(mitx), **_jwt(registrar, **claims)).status_code == 403
    assert client.get(_enrollments(gtx), **_jwt(registrar, **{**claims, "scopes": []})).status_code == 403
    assert client.get(_enrollments(gtx), **_jwt(registrar, **{**claims, "filters": []})).status_code == 403
    write = client.post(
        _enrollments(gtx),
        [{"student_key": "GT-2", "status": "enrolled", "curriculum_uuid": lms.curriculum_uuid(gtx)}],
        format="json",
        **_jwt(registrar, **claims),
    )
    assert write.status_code == 403  # a read scope does not write
    # The middleware left the view's permissions as they were: no NotJwtRestrictedApplication appended.
    assert views.ProgramEnrollmentsView.permission_classes is before
    assert not any(
        isinstance(permission, type) and issubclass(permission, NotJwtRestrictedApplication)
        for permission in views.ProgramEnrollmentsView.permission_classes
    )


def test_jwt_claims_never_make_staff_in_the_lms(programs):
    gtx, _mitx = programs
    learner = lms.user("not-staff")
    payload = {**generate_latest_version_payload(learner), "administrator": True}
    response = APIClient().get(_enrollments(gtx), HTTP_AUTHORIZATION=f"JWT {generate_jwt_token(payload)}")
    assert response.status_code == 403
    learner.refresh_from_db()
    assert not learner.is_staff


def test_lms_bearer_tokens_are_accepted_and_revoked_tokens_stop_working(programs):
    from oauth2_provider.models import AccessToken, Application

    gtx, _mitx = programs
    from tests.factories import grant_enrollment_permissions

    # Global access comes from the enrollment models' change permission, not the staff flag.
    staff = grant_enrollment_permissions(lms.user("support-staff", is_staff=True))
    application = Application.objects.create(
        name="support script",
        user=staff,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
    )
    token = AccessToken.objects.create(
        user=staff, application=application, token="lms-bearer-token", expires=timezone.now() + timedelta(hours=1)
    )
    client = APIClient()
    response = client.get(_enrollments(gtx), HTTP_AUTHORIZATION="Bearer lms-bearer-token")
    assert response.status_code == 200
    token.delete()
    assert client.get(_enrollments(gtx), HTTP_AUTHORIZATION="Bearer lms-bearer-token").status_code == 401


def test_an_inactive_lms_user_is_refused_whatever_authenticates_them(programs):
    gtx, _mitx = programs
    staff = lms.user("former-staff", is_staff=True, is_active=False)
    client = APIClient()
    client.force_login(staff)
    assert client.get(_enrollments(gtx)).status_code in (401, 403)
    assert client.get(_enrollments(gtx), **_jwt(staff)).status_code in (401, 403)
