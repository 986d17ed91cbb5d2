"""The standalone host issues Open edX-style JWTs from /oauth2/access_token for registered applications."""

import jwt
import pytest
from django.conf import settings
from edx_rest_api_client.client import OAuthAPIClient
from oauth2_provider.models import Application

from program_enrollments.models import ProgramEnrollment
from tests import catalog as c
from tests import hosts
from tests.factories import UserFactory

pytestmark = pytest.mark.skipif(
    not hosts.is_standalone(),
    reason="the standalone host's own OAuth2 token endpoint (program_enrollments.standalone.oauth); "
    "in an Open edX LMS, the LMS issues the tokens",
)

SECRET = "client-secret-for-tests"
PROGRAM = f"/api/program_enrollments/v1/programs/{c.CYBERSECURITY}/enrollments/"
MIT_PROGRAM = f"/api/program_enrollments/v1/programs/{c.MIT}/enrollments/"


def _application(name="registrar", *, restricted=True, scopes="program_enrollments:write", organizations="GTx"):
    from program_enrollments.standalone.oauth.models import ApplicationAccess

    application = Application.objects.create(
        name=name,
        client_id=f"{name}-id",
        client_secret=SECRET,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        user=UserFactory(username=f"{name}-service"),
    )
    ApplicationAccess.objects.create(
        application=application, is_restricted=restricted, scopes=scopes, organizations=organizations
    )
    return application


def _token(client, application, secret=SECRET, token_type="jwt"):
    return client.post(
        "/oauth2/access_token",
        {
            "grant_type": "client_credentials",
            "client_id": application.client_id,
            "client_secret": secret,
            "token_type": token_type,
        },
    )


def _decode(token):
    issuer = settings.JWT_AUTH["JWT_ISSUERS"][0]
    return jwt.decode(token, issuer["SECRET_KEY"], algorithms=["HS256"], audience=issuer["AUDIENCE"])


@pytest.mark.django_db
def test_client_credentials_give_a_restricted_jwt(client, catalog):
    response = _token(client, _application())
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "JWT" and body["expires_in"] > 0
    claims = _decode(body["access_token"])
    assert claims["is_restricted"] is True
    assert claims["scopes"] == ["program_enrollments:write"]
    assert claims["filters"] == ["content_org:GTx"]
    assert claims["preferred_username"] == "registrar-service"
    assert claims["iss"] == settings.JWT_AUTH["JWT_ISSUERS"][0]["ISSUER"]


@pytest.mark.django_db
def test_the_jwt_opens_its_organizations_programs_only(client, catalog):
    token = _token(client, _application()).json()["access_token"]
    headers = {"HTTP_AUTHORIZATION": f"JWT {token}"}
    body = [{"student_key": "a", "status": "enrolled", "curriculum_uuid": str(c.CYBERSECURITY_CURRICULUM)}]
    assert client.put(PROGRAM, body, content_type="application/json", **headers).status_code == 200
    mit_body = [{"student_key": "a", "status": "enrolled", "curriculum_uuid": str(c.MIT_CURRICULUM)}]
    assert client.put(MIT_PROGRAM, mit_body, content_type="application/json", **headers).status_code == 403
    assert ProgramEnrollment.objects.count() == 1


@pytest.mark.django_db
def test_read_scope_cannot_write(client, catalog):
    token = _token(client, _application(scopes="program_enrollments:read")).json()["access_token"]
    headers = {"HTTP_AUTHORIZATION": f"JWT {token}"}
    assert client.get(PROGRAM, **headers).status_code == 200
    assert client.put(PROGRAM, [], content_type="application/json", **headers).status_code == 403


@pytest.mark.django_db
def test_wrong_secret_is_refused(client, catalog):
    response = _token(client, _application(), secret="wrong")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


@pytest.mark.django_db
def test_bearer_tokens_are_still_plain_oauth2(client, catalog):
    response = _token(client, _application(), token_type="bearer")
    assert response.status_code == 200 and response.json()["token_type"] == "Bearer"


@pytest.mark.django_db(transaction=True)
def test_edx_rest_api_client_works_unchanged(live_server, catalog):
    """A partner script built on edx-rest-api-client's OAuthAPIClient, against a real server."""
    application = _application("partner-script")
    api_client = OAuthAPIClient(live_server.url, application.client_id, SECRET)
    url = f"{live_server.url}{PROGRAM}"
    body = [
        {"student_key": f"s{i}", "status": "enrolled", "curriculum_uuid": str(c.CYBERSECURITY_CURRICULUM)}
        for i in range(3)
    ]
    response = api_client.put(url, json=body, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json() == {"s0": "enrolled", "s1": "enrolled", "s2": "enrolled"}
    assert response.request.headers["Authorization"].startswith("JWT ")
    page = api_client.get(url, timeout=30).json()
    assert sorted(row["student_key"] for row in page["results"]) == ["s0", "s1", "s2"]


# --- revocation: every request judges the application and user as they are now -----------------------


def _jwt_caller(client, application):
    token = _token(client, application).json()["access_token"]
    return {"HTTP_AUTHORIZATION": f"JWT {token}"}


def test_a_deleted_application_s_tokens_stop_working(client, catalog):
    application = _application()
    headers = _jwt_caller(client, application)
    assert client.get(PROGRAM, **headers).status_code == 200
    application.delete()
    assert client.get(PROGRAM, **headers).status_code == 401


def test_a_disabled_application_s_tokens_stop_working_and_it_gets_no_new_ones(client, catalog):
    application = _application()
    headers = _jwt_caller(client, application)
    application.access.enabled = False
    application.access.save()
    assert client.get(PROGRAM, **headers).status_code == 401
    response = _token(client, application)
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_a_deleted_service_user_is_not_recreated_by_its_token(client, catalog):
    from django.contrib.auth import get_user_model

    application = _application()
    headers = _jwt_caller(client, application)
    application.user.delete()
    assert client.get(PROGRAM, **headers).status_code == 401
    assert not get_user_model().objects.filter(username="registrar-service").exists()


def test_an_inactive_service_user_is_refused_and_gets_no_new_tokens(client, catalog):
    application = _application()
    headers = _jwt_caller(client, application)
    application.user.is_active = False
    application.user.save()
    assert client.get(PROGRAM, **headers).status_code == 401
    for token_type in ("jwt", "bearer"):
        assert _token(client, application, token_type=token_type).status_code == 401


@pytest.mark.parametrize("field, value", [("organizations", ""), ("scopes", ""), ("organizations", "MITx")])
def test_emptied_organizations_or_scopes_apply_to_tokens_already_issued(client, catalog, field, value):
    application = _application()
    headers = _jwt_caller(client, application)
    setattr(application.access, field, value)
    application.access.save()
    assert client.get(PROGRAM, **headers).status_code == 403
    assert (
        client.get("/api/program_enrollments/v1/learners/", {"username": "nobody"}, **headers).json()["programs"] == []
    )


def test_a_scope_taken_away_applies_to_tokens_already_issued(client, catalog):
    application = _application(scopes="program_enrollments:read program_enrollments:write")
    headers = _jwt_caller(client, application)
    application.access.scopes = "program_enrollments:read"
    application.access.save()
    assert client.get(PROGRAM, **headers).status_code == 200
    assert client.put(PROGRAM, [], content_type="application/json", **headers).status_code == 403
