"""The REST views as an Open edX LMS runs them: its JWT middleware, its authentication classes, its URL names.

Both hosts run the LMS's ``JwtAuthCookieMiddleware`` and ``EnsureJWTAuthSettingsMiddleware``
(edx-drf-extensions; the standalone host copies them). The latter appends ``NotJwtRestrictedApplication``
to the permission classes of every JWT view that does not name it; on ours that would refuse every
restricted partner token.
"""

from datetime import timedelta
from secrets import token_hex

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.urls import URLPattern, URLResolver, resolve, reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from edx_rest_framework_extensions.auth.jwt.authentication import JwtAuthentication
from edx_rest_framework_extensions.auth.session.authentication import SessionAuthenticationAllowInactiveUser
from edx_rest_framework_extensions.permissions import NotJwtRestrictedApplication
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from oauth2_provider.models import AccessToken
from rest_framework.authentication import SessionAuthentication
from rest_framework.test import APIClient
from rest_framework_jwt.authentication import JSONWebTokenAuthentication

from program_enrollments import conf
from program_enrollments.models import OrganizationGrant
from program_enrollments.openedx import settings as openedx_settings
from program_enrollments.rest_api.v1 import job_views, learner_views, reset, views
from tests import catalog as c
from tests import hosts
from tests.factories import SupportStaffFactory, UserFactory
from tests.rest_api import lms_urls
from tests.rest_api.conftest import Caller, app_settings

pytestmark = pytest.mark.django_db

BASE = "/api/program_enrollments/v1"
ENDPOINTS = {
    "program": f"{BASE}/programs/{c.CYBERSECURITY}/enrollments/",
    "course": f"{BASE}/programs/{c.CYBERSECURITY}/courses/{c.SHARED_COURSE}/enrollments/",
    "transfer": f"{BASE}/programs/{c.CYBERSECURITY}/transfers/",
    "learner": f"{BASE}/learners/?username=learner-a",
}
WRITES = {
    "program": [{"student_key": "a", "status": "enrolled", "curriculum_uuid": str(c.CYBERSECURITY_CURRICULUM)}],
    "course": [{"student_key": "a", "status": "active"}],
    "transfer": {"to_program_uuid": str(c.OTHER), "student_keys": ["a"], "dry_run": True},
}

# What an Open edX LMS configures (openedx/settings.py), with django-oauth-toolkit's Bearer class
# standing in for the platform's openedx.core.lib.api.authentication.BearerAuthenticationAllowInactiveUser
# (both look the token up in DOT's AccessToken table and admit inactive users).
LMS_LIKE_CLASSES = (
    "edx_rest_framework_extensions.auth.jwt.authentication.JwtAuthentication",
    "oauth2_provider.contrib.rest_framework.OAuth2Authentication",
    "edx_rest_framework_extensions.auth.session.authentication.SessionAuthenticationAllowInactiveUser",
)
ALLOW_INACTIVE_SESSIONS = "django.contrib.auth.backends.AllowAllUsersModelBackend"


def _app_view_classes(patterns=None):
    """Every view class the app's URL module routes to."""
    from program_enrollments.rest_api import urls

    found = set()
    for pattern in urls.urlpatterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            found |= _app_view_classes(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            found.add(pattern.callback.view_class)
    return found


def _calls(caller):
    """Read and write every endpoint once; return the status codes."""
    codes = {}
    for name, url in ENDPOINTS.items():
        if name != "transfer":
            codes[f"GET {name}"] = caller.get(url).status_code
        if name in WRITES:
            method = caller.post if name == "transfer" else caller.put
            codes[f"write {name}"] = method(url, WRITES[name]).status_code
    return codes


def _enroll_learner_a():
    from tests.api.helpers import enroll, enroll_course

    enroll(c.CYBERSECURITY, ["a"])
    enroll_course(c.CYBERSECURITY, c.SHARED_COURSE, ["a"])
    UserFactory(username="learner-a")


class _HeaderCaller(Caller):
    def __init__(self, header):
        super().__init__()
        self.headers = {"HTTP_AUTHORIZATION": header}


class _SessionCaller(Caller):
    def __init__(self, user):
        super().__init__()
        self.client.force_login(user, backend=ALLOW_INACTIVE_SESSIONS)


def _bearer(user):
    token = AccessToken.objects.create(
        user=user, token=token_hex(20), expires=timezone.now() + timedelta(hours=1), scope="read write"
    )
    return _HeaderCaller(f"Bearer {token.token}")


def _restricted(username, **claims):
    return Caller(UserFactory(username=username), is_restricted=True, **claims)


# --- the middleware -------------------------------------------------------------------------------


def test_the_host_runs_the_lms_jwt_middleware():
    middleware = settings.MIDDLEWARE
    cookie = "edx_rest_framework_extensions.auth.jwt.middleware.JwtAuthCookieMiddleware"
    ensure = "edx_rest_framework_extensions.auth.jwt.middleware.EnsureJWTAuthSettingsMiddleware"
    authentication = "django.contrib.auth.middleware.AuthenticationMiddleware"
    assert middleware.index(cookie) < middleware.index(authentication) < middleware.index(ensure)


@pytest.mark.urls("tests.rest_api.lms_urls")
def test_requests_through_the_middleware_leave_every_view_permission_unchanged(catalog, staff, restricted_gtx):
    _enroll_learner_a()
    view_classes = _app_view_classes()
    # The middleware looks at every view that takes JWTs: all of ours but the public schema pages.
    takes_jwt = {
        view
        for view in view_classes
        if any(issubclass(cls, JSONWebTokenAuthentication) for cls in view.authentication_classes)
    }
    assert takes_jwt == {
        views.ProgramEnrollmentsView,
        views.ProgramCourseEnrollmentsView,
        views.ProgramCourseGradesView,
        views.ProgramTransfersView,
        views.LearnerView,
        reset.EnrollmentDataResetView,
        learner_views.ReadOnlyAccessView,
        learner_views.LearnerProgramEnrollmentsView,
        learner_views.UserProgramCourseRunsView,
        learner_views.ProgramCourseRunsOverviewView,
        job_views.ProgramEnrollmentsJobView,
        job_views.ProgramCourseEnrollmentsJobView,
        job_views.ProgramTransferJobView,
        job_views.ProgramJobView,
        job_views.ProgramJobResultsView,
    }
    before = {view: view.permission_classes for view in view_classes}
    control_before = lms_urls.ControlView.permission_classes
    try:
        for caller in (restricted_gtx, staff):
            assert set(_calls(caller).values()) == {200}
            job = caller.put(f"{ENDPOINTS['program']}jobs/", WRITES["program"])
            assert job.status_code == 202, job.content
            assert caller.get(job["Location"]).status_code == 200
            assert caller.get(f"{job['Location']}results").status_code == 200
        assert staff.get(f"{BASE}/schema/").status_code == 200
        assert staff.get(f"{BASE}/docs/").status_code == 200
        assert staff.get("/control/").status_code == 200
        # The middleware is at work: the control view, naming neither class, got it appended.
        assert lms_urls.ControlView.permission_classes == (*control_before, NotJwtRestrictedApplication)
    finally:
        lms_urls.ControlView.permission_classes = control_before
    for view in view_classes:
        assert view.permission_classes is before[view], view
    # Restricted tokens are still judged by our rule after the middleware has seen every view.
    assert set(_calls(restricted_gtx).values()) == {200}


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"scopes": ["program_enrollments:write"], "filters": []}, id="without org filter"),
        pytest.param({"scopes": [], "filters": ["content_org:GTx"]}, id="without scope"),
        pytest.param({"scopes": ["program_enrollments:write"], "filters": ["content_org:MITx"]}, id="another org"),
    ],
)
@pytest.mark.urls("tests.rest_api.lms_urls")
def test_restricted_tokens_outside_their_scope_or_org_get_403_on_every_endpoint(catalog, claims):
    _enroll_learner_a()
    codes = _calls(_restricted("partner-app", **claims))
    learner = codes.pop("GET learner")
    assert set(codes.values()) == {403}, codes
    assert learner == 200  # the learner view answers, showing none of the programs (test_authorization)


# --- the authentication classes ---------------------------------------------------------------------


def test_the_views_read_their_authentication_classes_from_the_setting_at_request_time():
    # The host's classes: in the standalone host its own JWT class (which checks the token's application and
    # user at every request) and sessions, the LMS's in an LMS (openedx/settings.py).
    host_classes = (
        (
            import_string("program_enrollments.standalone.authentication.StandaloneJwtAuthentication"),
            SessionAuthentication,
        )
        if hosts.is_standalone()
        else tuple(import_string(path) for path in openedx_settings.AUTHENTICATION_CLASSES)
    )
    assert views.ProgramEnrollmentsView.authentication_classes == host_classes
    with app_settings(AUTHENTICATION_CLASSES=LMS_LIKE_CLASSES):
        expected = (JwtAuthentication, OAuth2Authentication, SessionAuthenticationAllowInactiveUser)
        for view in (views.ProgramEnrollmentsView, views.LearnerView):
            assert view.authentication_classes == expected
            assert tuple(type(a) for a in view().get_authenticators()) == expected


@app_settings(AUTHENTICATION_CLASSES="rest_framework.authentication.SessionAuthentication")
def test_a_single_string_is_refused():
    with pytest.raises(ImproperlyConfigured, match="list of dotted paths"):
        _ = views.ProgramEnrollmentsView.authentication_classes


@app_settings(AUTHENTICATION_CLASSES=conf.DEFAULTS["AUTHENTICATION_CLASSES"])
def test_bearer_tokens_are_refused_without_a_bearer_class(catalog):
    caller = _bearer(SupportStaffFactory(username="bearer-staff"))
    assert caller.get(ENDPOINTS["program"]).status_code == 401


@app_settings(AUTHENTICATION_CLASSES=LMS_LIKE_CLASSES)
def test_a_configured_bearer_class_is_honoured_and_the_rule_applies(catalog):
    _enroll_learner_a()
    staff = _bearer(SupportStaffFactory(username="bearer-staff"))
    assert set(_calls(staff).values()) == {200}
    reader = UserFactory(username="bearer-reader")
    OrganizationGrant.objects.create(user=reader, organization_key="GTx", access="read")
    reader_codes = _calls(_bearer(reader))
    assert {k: v for k, v in reader_codes.items() if k.startswith("GET")} == {
        "GET program": 200,
        "GET course": 200,
        "GET learner": 200,
    }
    assert {k: v for k, v in reader_codes.items() if k.startswith("write")} == {
        "write program": 403,
        "write course": 403,
        "write transfer": 403,
    }
    assert _bearer(UserFactory(username="bearer-outsider")).get(ENDPOINTS["program"]).status_code == 403
    assert _HeaderCaller("Bearer no-such-token").get(ENDPOINTS["program"]).status_code == 401
    # JWTs still work beside it.
    assert Caller(SupportStaffFactory(username="jwt-staff")).get(ENDPOINTS["program"]).status_code == 200


# --- inactive users -----------------------------------------------------------------------------------


@pytest.mark.urls("tests.rest_api.lms_urls")
@override_settings(AUTHENTICATION_BACKENDS=[ALLOW_INACTIVE_SESSIONS])
@app_settings(AUTHENTICATION_CLASSES=LMS_LIKE_CLASSES)
def test_inactive_users_authenticated_by_the_lms_classes_cannot_act(catalog):
    _enroll_learner_a()
    staff = SupportStaffFactory(username="deactivated-staff")
    application = UserFactory(username="deactivated-app")
    callers = {
        # The LMS's classes authenticate inactive users: session and Bearer by design, and
        # edx-drf-extensions' JwtAuthentication does not look at is_active.
        "session": _SessionCaller(staff),
        "bearer": _bearer(staff),
        "jwt": Caller(staff),
        "restricted jwt": Caller(
            application, is_restricted=True, scopes=["program_enrollments:write"], filters=["content_org:GTx"]
        ),
    }
    for caller in callers.values():
        assert set(_calls(caller).values()) == {200}
    type(staff).objects.filter(pk__in=[staff.pk, application.pk]).update(is_active=False)
    for name, caller in callers.items():
        codes = _calls(caller)
        assert set(codes.values()) == {403}, (name, codes)


# --- URL names ------------------------------------------------------------------------------------------


def test_the_endpoints_have_the_builtin_names_in_namespace_programs_api():
    assert (
        reverse("programs_api:v1:program_enrollments", kwargs={"program_uuid": str(c.CYBERSECURITY)})
        == ENDPOINTS["program"]
    )
    assert (
        reverse(
            "programs_api:v1:program_course_enrollments",
            kwargs={"program_uuid": str(c.CYBERSECURITY), "course_key": c.SHARED_COURSE},
        )
        == ENDPOINTS["course"]
    )
    match = resolve(ENDPOINTS["program"])
    assert (match.namespace, match.app_name, match.url_name) == (
        "programs_api:v1",
        "program_enrollments:v1",
        "program_enrollments",
    )
    assert reverse("programs_api:schema") == f"{BASE}/schema/"
    assert reverse("programs_api:docs") == f"{BASE}/docs/"


@pytest.mark.urls("tests.rest_api.lms_urls")
@pytest.mark.parametrize("prefix", ["/api/program_enrollments", "/elsewhere"])
def test_the_docs_page_loads_the_schema_of_the_mount_it_was_reached_through(client, prefix):
    response = client.get(f"{prefix}/v1/docs/")
    assert response.status_code == 200
    assert f'spec-url="{prefix}/v1/schema/"' in response.content.decode()
    assert APIClient().get(f"{prefix}/v1/schema/").status_code == 200
