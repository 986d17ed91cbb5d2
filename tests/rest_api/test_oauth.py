"""The standalone host issues Open edX-style JWTs from /oauth2/access_token for registered applications."""

import base64

import jwt
import pytest
from django.conf import settings
from edx_rest_api_client.client import OAuthAPIClient
from oauth2_provider.models import Application

from program_enrollments.models import ProgramEnrollment
from tests import catalog as c
from tests import hosts
from tests.factories import UserFactory
from tests.rest_api import endpoint_calls as calls
from tests.rest_api.conftest import Caller

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


def _delete_application(application):
    application.delete()


def _disable_application(application):
    application.access.enabled = False
    application.access.save()


def _delete_service_user(application):
    application.user.delete()


def _deactivate_service_user(application):
    application.user.is_active = False
    application.user.save()


def _empty_access_field(field):
    def empty(application):
        setattr(application.access, field, "")
        application.access.save()

    return empty


REVOCATIONS = {
    "application deleted": (_delete_application, 401),
    "application disabled": (_disable_application, 401),
    "service user deleted": (_delete_service_user, 401),
    "service user deactivated": (_deactivate_service_user, 401),
    "organizations emptied": (_empty_access_field("organizations"), 403),
    "scopes emptied": (_empty_access_field("scopes"), 403),
}


@pytest.mark.parametrize("revocation", REVOCATIONS)
def test_a_revoked_token_is_refused_by_every_endpoint_and_writes_nothing(client, catalog, fast_hasher, revocation):
    revoke, code = REVOCATIONS[revocation]
    calls.seed()
    application = _application(scopes="program_enrollments:read program_enrollments:write")
    caller = Caller()
    caller.headers = _jwt_caller(client, application)
    assert calls.call(caller, "GET program").status_code == 200
    revoke(application)
    assert calls.codes(caller, calls.calls()) == {name: (code, False) for name in calls.calls()}


def test_a_scope_taken_away_applies_to_tokens_already_issued(client, catalog):
    application = _application(scopes="program_enrollments:read program_enrollments:write")
    headers = _jwt_caller(client, application)
    application.access.scopes = "program_enrollments:read"
    application.access.save()
    assert client.get(PROGRAM, **headers).status_code == 200
    assert client.put(PROGRAM, [], content_type="application/json", **headers).status_code == 403


# --- the token endpoint under attack: throttled failures, one cost per attempt, 4xx for any input ----


@pytest.fixture(autouse=True)
def _fresh_failure_counters():
    """The failure counters live in the cache, which outlives a test's database rollback."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def fast_hasher(settings):
    """A cheap client-secret hasher, for tests that make many attempts (the real one costs most of a second each)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def limits(settings):
    def set_limits(per_client="10/5m", per_address="30/5m"):
        settings.TOKEN_ENDPOINT_THROTTLE = {"FAILURES_PER_CLIENT": per_client, "FAILURES_PER_ADDRESS": per_address}

    return set_limits


def _attempt(client, client_id, secret="wrong", address="127.0.0.1", **extra):
    data = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret, "token_type": "jwt"}
    return client.post("/oauth2/access_token", data, REMOTE_ADDR=address, **extra)


def _assert_throttled(response):
    assert response.status_code == 429
    assert response.json()["error"] == "slow_down"
    assert 0 < int(response["Retry-After"]) <= 300


def test_failures_lock_their_client_id_out_even_with_the_right_secret(client, catalog, fast_hasher, limits):
    limits(per_client="3/5m", per_address="100/5m")
    registrar, other = _application(), _application("other")
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):  # from anywhere: the id is what is guessed at
        assert _attempt(client, registrar.client_id, address=address).status_code == 401
    _assert_throttled(_attempt(client, registrar.client_id, SECRET))
    _assert_throttled(_token(client, registrar, token_type="bearer"))
    basic = base64.b64encode(f"{registrar.client_id}:{SECRET}".encode()).decode()
    _assert_throttled(
        client.post("/oauth2/access_token", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}")
    )
    assert _token(client, other).status_code == 200  # another client, from the same address


def test_unknown_and_known_client_ids_are_locked_out_alike(client, catalog, fast_hasher, limits):
    limits(per_client="2/5m", per_address="100/5m")
    _application()
    answers = {}
    for client_id in ("registrar-id", "nobody-id"):
        codes = [_attempt(client, client_id).status_code for _ in range(3)]
        throttled = _attempt(client, client_id)
        answers[client_id] = (codes, throttled.status_code, throttled.json())
    assert answers["registrar-id"][:2] == answers["nobody-id"][:2] == ([401, 401, 429], 429)
    assert answers["registrar-id"][2]["error"] == answers["nobody-id"][2]["error"] == "slow_down"


def test_failures_from_one_address_hold_back_every_client_from_it_only(client, catalog, fast_hasher, limits):
    limits(per_client="100/5m", per_address="3/5m")
    registrar = _application()
    for guess in ("a", "b", "c"):
        assert _attempt(client, f"guess-{guess}", address="192.0.2.7").status_code == 401
    _assert_throttled(_attempt(client, registrar.client_id, SECRET, address="192.0.2.7"))
    assert _attempt(client, registrar.client_id, SECRET, address="192.0.2.8").status_code == 200


def test_successes_are_never_counted(client, catalog, fast_hasher, limits):
    limits(per_client="2/5m", per_address="2/5m")
    registrar = _application()
    assert all(_token(client, registrar).status_code == 200 for _ in range(5))
    assert _attempt(client, registrar.client_id).status_code == 401
    assert _token(client, registrar).status_code == 200


def test_a_lockout_ends_with_its_window(client, catalog, fast_hasher, limits, monkeypatch):
    import time

    limits(per_client="1/5m", per_address="1/5m")
    registrar = _application()
    assert _attempt(client, registrar.client_id).status_code == 401
    _assert_throttled(_token(client, registrar))
    later = time.time() + 301
    monkeypatch.setattr(time, "time", lambda: later)
    assert _token(client, registrar).status_code == 200


def test_a_limit_set_to_none_is_off(client, catalog, fast_hasher, limits):
    limits(per_client=None, per_address=None)
    registrar = _application()
    assert {_attempt(client, registrar.client_id).status_code for _ in range(12)} == {401}
    assert _token(client, registrar).status_code == 200


@pytest.fixture
def verifications(monkeypatch):
    """Every verification by the client-secret hasher: the CPU a wrong secret costs."""
    from django.contrib.auth.hashers import get_hasher
    from oauth2_provider.settings import oauth2_settings

    hasher_class = type(get_hasher(oauth2_settings.CLIENT_SECRET_HASHER))
    calls = []
    original = hasher_class.verify

    def verify(self, password, encoded):
        calls.append(encoded.split("$", 1)[0])
        return original(self, password, encoded)

    monkeypatch.setattr(hasher_class, "verify", verify)
    return calls


def _basic(client_id, secret):
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


# How a client id is given, for a known and an unknown one: the same work, one hasher verification.
ATTEMPTS = {
    "body": lambda client, client_id: _attempt(client, client_id),
    "body without secret": lambda client, client_id: client.post(
        "/oauth2/access_token", {"grant_type": "client_credentials", "client_id": client_id}
    ),
    "basic": lambda client, client_id: client.post(
        "/oauth2/access_token", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=_basic(client_id, "wrong")
    ),
}


@pytest.mark.parametrize("how", ATTEMPTS)
def test_unknown_and_known_client_ids_cost_one_verification_each(client, catalog, verifications, how):
    _application()
    costs = {}
    for client_id in ("registrar-id", "nobody-id", "nobody-\x00-id", "x" * 1000):
        verifications.clear()
        response = ATTEMPTS[how](client, client_id)
        assert (response.status_code, response.json()["error"]) == (401, "invalid_client")
        costs[client_id[:20]] = list(verifications)
    assert all(cost == costs["registrar-id"] for cost in costs.values()), costs
    assert len(costs["registrar-id"]) == 1


def test_a_secret_stored_in_clear_costs_a_verification_too(client, catalog, verifications):
    registrar = _application()
    Application.objects.filter(pk=registrar.pk).update(client_secret=SECRET, hash_client_secret=False)
    assert _attempt(client, registrar.client_id).status_code == 401
    assert len(verifications) == 1
    verifications.clear()
    assert _token(client, registrar).status_code == 200
    assert len(verifications) == 1


def test_a_throttled_attempt_costs_no_verification(client, catalog, verifications, limits):
    limits(per_client="1/5m")
    registrar = _application()
    assert _attempt(client, registrar.client_id).status_code == 401
    verifications.clear()
    _assert_throttled(_attempt(client, registrar.client_id))
    assert verifications == []


def _form(**fields):
    return {"grant_type": "client_credentials", "client_id": "registrar-id", "client_secret": SECRET, **fields}


_NOT_UTF8 = b"grant_type=client_credentials&client_id=\xff\xfe&client_secret=%ff%fe"
# name -> (form fields, raw body, content type, Authorization header)
MALFORMED = {
    "client_id with NUL": (_form(client_id="registrar-\x00id"), None, None, None),
    "client_secret with NUL": (_form(client_secret=SECRET + "\x00"), None, None, None),
    "grant_type with NUL": (_form(grant_type="client_credentials\x00"), None, None, None),
    "scope with NUL": (_form(scope="program_enrollments:read\x00"), None, None, None),
    "token_type with NUL": (_form(client_secret="wrong", token_type="jwt\x00"), None, None, None),
    "very long client_id": (_form(client_id="r" * 200_000), None, None, None),
    "very long client_secret": (_form(client_secret="s" * 200_000), None, None, None),
    "very long scope": (_form(client_secret="wrong", scope="program_enrollments:read " * 10_000), None, None, None),
    "no client_id": ({"grant_type": "client_credentials", "client_secret": SECRET}, None, None, None),
    "no client_secret": ({"grant_type": "client_credentials", "client_id": "registrar-id"}, None, None, None),
    "no grant_type": ({"client_id": "registrar-id", "client_secret": SECRET}, None, None, None),
    "empty body": ({}, None, None, None),
    "another grant": (_form(grant_type="password", username="a", password="b"), None, None, None),
    "device-code grant without device_code": (
        _form(grant_type="urn:ietf:params:oauth:grant-type:device_code"),
        None,
        None,
        None,
    ),
    "duplicated client_id": (None, b"grant_type=client_credentials&client_id=a&client_id=b", None, None),
    "not UTF-8": (None, _NOT_UTF8, "application/x-www-form-urlencoded", None),
    "not UTF-8, declared latin-1": (None, _NOT_UTF8, "application/x-www-form-urlencoded; charset=latin-1", None),
    "unknown charset": (
        None,
        b"grant_type=client_credentials",
        "application/x-www-form-urlencoded; charset=nope",
        None,
    ),
    "raw NUL bytes": (None, b"\x00\xff\x00", "application/x-www-form-urlencoded", None),
    "broken multipart": (None, b"--x\r\nnot a part", "multipart/form-data; boundary=x", None),
    "multipart without boundary": (None, b"--x\r\n", "multipart/form-data", None),
    "JSON body": (None, b'{"grant_type": "client_credentials"}', "application/json", None),
    "body over the upload limit": (_form(client_secret="s" * 3_000_000), None, None, None),
    "too many fields": (None, b"&".join(b"f%d=1" % i for i in range(1100)), "application/x-www-form-urlencoded", None),
    "Basic, not base64": (_form(client_id=None), None, None, "Basic !!!"),
    "Basic, not ASCII": (_form(client_id=None), None, None, "Basic \u00e9\u00e9\u00e9"),
    "Basic, not UTF-8": (_form(client_id=None), None, None, "Basic " + base64.b64encode(b"\xff\xfe:x").decode()),
    "Basic, NUL in client id": (_form(client_id=None), None, None, _basic("registrar-\x00id", SECRET)),
    "Basic, no colon": (_form(client_id=None), None, None, "Basic " + base64.b64encode(b"registrar-id").decode()),
    "Basic, empty": (_form(client_id=None), None, None, "Basic "),
    "Basic, very long": (_form(client_id=None), None, None, "Basic " + "QUFB" * 50_000),
    "Basic, percent garbage": (_form(client_id=None), None, None, _basic("%ff%00%", "%zz")),
    "another scheme": (_form(client_secret="wrong"), None, None, "Bearer x"),
}


@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_credentials_are_a_json_4xx_never_a_500(client, catalog, fast_hasher, name):
    from oauth2_provider.models import AccessToken

    _application()
    fields, raw, content_type, authorization = MALFORMED[name]
    extra = {"HTTP_AUTHORIZATION": authorization} if authorization is not None else {}
    if raw is None:
        fields = {key: value for key, value in fields.items() if value is not None}
        response = client.post("/oauth2/access_token", fields, **extra)
    else:
        response = client.generic("POST", "/oauth2/access_token", raw, content_type=content_type, **extra)
    assert 400 <= response.status_code < 500, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"] in {"invalid_client", "invalid_request", "unsupported_grant_type", "invalid_scope"}
    assert not AccessToken.objects.exists()


def test_behind_a_proxy_each_client_address_has_its_own_counter(client, catalog, fast_hasher, limits, settings):
    settings.RATELIMIT_IP_META_KEY = "program_enrollments.standalone.oauth.throttling.address_behind_proxy"
    limits(per_client="100/5m", per_address="1/5m")
    registrar = _application()
    proxy = {"address": "10.0.0.1"}
    assert _attempt(client, "guess", HTTP_X_FORWARDED_FOR="1.2.3.4, 192.0.2.1", **proxy).status_code == 401
    _assert_throttled(_attempt(client, registrar.client_id, SECRET, HTTP_X_FORWARDED_FOR="192.0.2.1", **proxy))
    # The entries before the proxy's are the client's own say: they change nothing.
    _assert_throttled(_attempt(client, registrar.client_id, SECRET, HTTP_X_FORWARDED_FOR="9.9.9.9, 192.0.2.1", **proxy))
    assert _attempt(client, registrar.client_id, SECRET, HTTP_X_FORWARDED_FOR="192.0.2.2", **proxy).status_code == 200
    # Without a usable header, the connection's address.
    assert _attempt(client, "guess", HTTP_X_FORWARDED_FOR="not an address", **proxy).status_code == 401
    _assert_throttled(_attempt(client, registrar.client_id, SECRET, **proxy))
