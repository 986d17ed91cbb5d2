"""The harness LMS behaves like the Open edX platform where program_enrollments touches it.

Plugin discovery and start-up run in fresh processes (settings are process-wide); the rest runs in
this process, the LMS before our package is installed (``OPENEDX_HOST_WITHOUT_PLUGINS`` defaults to
``program_enrollments_plugin`` in ``tests/openedx/pytest.ini``).
"""

import hashlib
import importlib.metadata
import json
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone
from opaque_keys.edx.keys import CourseKey

COURSE = CourseKey.from_string("course-v1:GTx+CS6035+2020_Spring")
OTHER_COURSE = CourseKey.from_string("course-v1:GTx+CS6250+2020_Spring")
CYBERSECURITY = "509c2e6c-f4e2-5b32-bc77-5137159b0719"
ANALYTICS = "28385600-2327-5a6a-af0e-fd1f9e3790db"
OTHER = "38bf8bae-2aba-5ad8-9e83-12beb8b72442"

BUILTIN_APP_CONFIG = "lms.djangoapps.program_enrollments.apps:ProgramEnrollmentsConfig"
OUR_APP_CONFIG = "program_enrollments.apps:ProgramEnrollmentsConfig"

# Prints, as JSON, who holds the label program_enrollments and the top-level URL patterns.
DESCRIBE_LMS = """
import json
import django
django.setup()
from django.apps import apps
from django.conf import settings
from django.urls import get_resolver
print(json.dumps({
    "holder": apps.get_app_config("program_enrollments").name,
    "installed": [app for app in settings.INSTALLED_APPS if "program_enrollments" in app],
    "namespaces": sorted(name for name in get_resolver().namespace_dict),
}))
"""


@pytest.fixture
def stock_lms():
    """Skips unless the built-in app holds the label (the default of tests/openedx/pytest.ini)."""
    from django.apps import apps

    if apps.get_app_config("program_enrollments").name != "lms.djangoapps.program_enrollments":
        pytest.skip(
            "needs the LMS before our package is installed (OPENEDX_HOST_WITHOUT_PLUGINS=program_enrollments_plugin)"
        )


def _description(result):
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("learner", email="learner@example.com", password="pw")


@pytest.fixture
def course(db):
    from openedx.core.djangoapps.content.course_overviews.models import CourseOverview

    return CourseOverview.objects.create(id=COURSE, org="GTx", display_name="Network Security")


@pytest.fixture
def signals_sent():
    """Records the student app's enrollment signals as ``(signal name, kwargs)``."""
    from common.djangoapps.student.signals import ENROLL_STATUS_CHANGE, ENROLLMENT_TRACK_UPDATED, UNENROLL_DONE

    sent = []
    receivers = {}
    for name, signal in [
        ("ENROLL_STATUS_CHANGE", ENROLL_STATUS_CHANGE),
        ("ENROLLMENT_TRACK_UPDATED", ENROLLMENT_TRACK_UPDATED),
        ("UNENROLL_DONE", UNENROLL_DONE),
    ]:

        def receiver(sender, _name=name, **kwargs):
            kwargs.pop("signal")
            sent.append((_name, kwargs))

        receivers[name] = (signal, receiver)
        signal.connect(receiver, weak=False)
    yield sent
    for signal, receiver in receivers.values():
        signal.disconnect(receiver)


# --- plugin discovery and start-up -------------------------------------------------------------------


def test_platform_metadata_declares_the_builtin_entry_point():
    import lms

    if (Path(lms.__file__).parent / "djangoapps" / "program_enrollments" / "TAKEOVER.txt").exists():
        pytest.skip("the platform tree on sys.path was taken over: its built-in entry point is gone")
    declared = [
        (entry_point.name, entry_point.value, entry_point.dist.name)
        for entry_point in importlib.metadata.entry_points(group="lms.djangoapp")
        if entry_point.dist.name == "openedx-platform"
    ]
    assert declared == [("program_enrollments", BUILTIN_APP_CONFIG, "openedx-platform")]
    assert not [
        ep for ep in importlib.metadata.entry_points(group="cms.djangoapp") if ep.dist.name == "openedx-platform"
    ]


def test_our_distribution_declares_its_own_entry_point_name():
    distribution = importlib.metadata.distribution("program-enrollments")
    declared = {(ep.group, ep.name, ep.value) for ep in distribution.entry_points if ep.group.endswith(".djangoapp")}
    assert declared == {
        ("lms.djangoapp", "program_enrollments_plugin", OUR_APP_CONFIG),
        ("cms.djangoapp", "program_enrollments_plugin", OUR_APP_CONFIG),
    }


def test_edx_django_utils_discovers_the_builtin_app_through_the_entry_point(stock_lms):
    from edx_django_utils.plugins import get_plugin_apps
    from openedx.core.djangoapps.plugins.constants import ProjectType

    assert "lms.djangoapps.program_enrollments.apps.ProgramEnrollmentsConfig" in get_plugin_apps(ProjectType.LMS)
    assert "lms.djangoapps.program_enrollments.apps.ProgramEnrollmentsConfig" in settings.INSTALLED_APPS
    assert "lms.djangoapps.program_enrollments" not in settings.INSTALLED_APPS  # not listed by name in the LMS


def test_builtin_app_holds_the_label_and_is_mounted_under_programs_api(stock_lms):
    from django.apps import apps
    from django.urls import reverse

    assert apps.get_app_config("program_enrollments").name == "lms.djangoapps.program_enrollments"
    path = reverse("programs_api:v1:program_enrollments", kwargs={"program_uuid": CYBERSECURITY})
    assert path == f"/api/program_enrollments/v1/programs/{CYBERSECURITY}/enrollments/"


def test_lms_refuses_to_start_with_the_builtin_app_and_ours(run_harness, platform_copy):
    result = run_harness("import django; django.setup()", platform_root=platform_copy)

    assert result.returncode != 0
    assert "ImproperlyConfigured: Application labels aren't unique, duplicates: program_enrollments" in result.stderr


def test_knob_simulates_the_lms_before_our_package_is_installed(run_harness):
    described = _description(run_harness(DESCRIBE_LMS, without_plugins="program_enrollments_plugin"))

    assert described["holder"] == "lms.djangoapps.program_enrollments"
    assert described["installed"] == ["lms.djangoapps.program_enrollments.apps.ProgramEnrollmentsConfig"]
    assert "programs_api" in described["namespaces"]


def test_knob_simulates_the_builtin_entry_point_removed(run_harness):
    described = _description(run_harness(DESCRIBE_LMS, without_plugins="program_enrollments"))

    assert described["holder"] == "program_enrollments"
    assert described["installed"] == ["program_enrollments.apps.ProgramEnrollmentsConfig"]


def test_cms_lists_the_builtin_app_itself(run_harness):
    described = _description(
        run_harness(DESCRIBE_LMS, settings="cms.envs.test", without_plugins="program_enrollments_plugin")
    )

    assert described["holder"] == "lms.djangoapps.program_enrollments"
    assert described["installed"] == ["lms.djangoapps.program_enrollments"]
    assert "programs_api" not in described["namespaces"]  # the built-in app mounts URLs in the LMS only


def test_cms_refuses_to_start_with_our_app_unless_its_settings_drop_the_builtin(run_harness):
    # Removing the built-in entry point is not enough in the CMS: it names the app in INSTALLED_APPS.
    result = run_harness(DESCRIBE_LMS, settings="cms.envs.test", without_plugins="program_enrollments")

    assert result.returncode != 0
    assert "Application labels aren't unique, duplicates: program_enrollments" in result.stderr


def test_manage_py_runs_the_harness_lms(tmp_path):
    import os
    import subprocess
    import sys

    from tests.openedx.conftest import HOST_DIR

    environ = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "PYTHONPATH"}}
    environ.update(OPENEDX_HOST_VAR_DIR=str(tmp_path), XDG_CACHE_HOME=str(tmp_path / "cache"))
    environ["OPENEDX_HOST_WITHOUT_PLUGINS"] = "program_enrollments_plugin"
    result = subprocess.run(
        [sys.executable, str(HOST_DIR / "manage.py"), "lms", "check"],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_knob_reads_a_comma_separated_list_of_entry_point_names():
    from openedx_harness.plugins import ENVIRONMENT_VARIABLE, excluded_plugin_names

    assert excluded_plugin_names({}) == set()
    assert excluded_plugin_names({ENVIRONMENT_VARIABLE: ""}) == set()
    assert excluded_plugin_names({ENVIRONMENT_VARIABLE: " a, b ,,"}) == {"a", "b"}


def test_stand_in_migrations_match_their_models(db):
    # As `make lint` checks the app's own migrations: a stand-in model change needs its migration.
    call_command(
        "makemigrations",
        "student",
        "course_overviews",
        "course_modes",
        "third_party_auth",
        "grades",
        check=True,
        dry_run=True,
        verbosity=0,
    )


# --- settings copied from the platform -------------------------------------------------------------------


def test_settings_that_change_behaviour_are_the_platforms():
    assert settings.DATABASES["default"]["ATOMIC_REQUESTS"] is True
    assert settings.DEFAULT_AUTO_FIELD == "django.db.models.AutoField"
    assert settings.SIMPLE_HISTORY_DATE_INDEX is False
    assert settings.EDX_DRF_EXTENSIONS["JWT_PAYLOAD_USER_ATTRIBUTE_MAPPING"] == {}
    assert settings.JWT_AUTH["JWT_ISSUERS"][0]["ISSUER"] == settings.JWT_AUTH["JWT_ISSUER"]
    assert settings.JWT_AUTH["JWT_PAYLOAD_GET_USERNAME_HANDLER"]({"username": "ann"}) == "ann"
    assert settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"] == (
        "openedx.core.djangolib.default_auth_classes.DefaultJwtAuthentication",
        "openedx.core.djangolib.default_auth_classes.DefaultSessionAuthentication",
    )
    order = [
        "edx_rest_framework_extensions.auth.jwt.middleware.JwtAuthCookieMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "edx_rest_framework_extensions.middleware.RequestCustomAttributesMiddleware",
        "edx_rest_framework_extensions.auth.jwt.middleware.EnsureJWTAuthSettingsMiddleware",
        "simple_history.middleware.HistoryRequestMiddleware",
    ]
    assert [name for name in settings.MIDDLEWARE if name in order] == order


# --- CourseEnrollment -------------------------------------------------------------------------------


def test_enroll_creates_an_active_enrollment_and_signals(user, course, signals_sent):
    from common.djangoapps.student.models import CourseEnrollment

    enrollment = CourseEnrollment.enroll(user, COURSE, mode="masters")

    enrollment.refresh_from_db()
    assert (enrollment.mode, enrollment.is_active, enrollment.course_id) == ("masters", True, COURSE)
    assert CourseEnrollment.is_enrolled(user, COURSE)
    assert CourseEnrollment.enrollment_mode_for_user(user, COURSE) == ("masters", True)
    assert [name for name, _ in signals_sent] == ["ENROLLMENT_TRACK_UPDATED", "ENROLL_STATUS_CHANGE"]
    track_updated, status_change = (kwargs for _, kwargs in signals_sent)
    assert track_updated == {"user": user, "course_key": COURSE, "mode": "masters", "countdown": 30}
    assert status_change == {
        "event": "enroll",
        "user": user,
        "mode": "masters",
        "course_id": COURSE,
        "cost": None,
        "currency": None,
    }


def test_enroll_without_mode_uses_the_course_default(user, course):
    from common.djangoapps.student.models import CourseEnrollment

    assert CourseEnrollment.enroll(user, COURSE).mode == "audit"


def test_update_enrollment_saves_and_signals_only_on_change(user, course, signals_sent):
    from common.djangoapps.student.models import CourseEnrollment

    enrollment = CourseEnrollment.enroll(user, COURSE, mode="masters")
    history = enrollment.history.count()
    signals_sent.clear()

    enrollment.update_enrollment(mode="masters", is_active=True)

    assert enrollment.history.count() == history
    assert signals_sent == []


def test_deactivate_sends_unenroll_signals(user, course, signals_sent):
    from common.djangoapps.student.models import CourseEnrollment

    enrollment = CourseEnrollment.enroll(user, COURSE, mode="masters")
    signals_sent.clear()

    enrollment.update_enrollment(is_active=False, skip_refund=True)

    assert not CourseEnrollment.is_enrolled(user, COURSE)
    assert CourseEnrollment.enrollment_mode_for_user(user, COURSE) == ("masters", False)
    assert [name for name, _ in signals_sent] == ["UNENROLL_DONE", "ENROLL_STATUS_CHANGE"]
    assert signals_sent[0][1] == {"course_enrollment": enrollment, "skip_refund": True}
    assert signals_sent[1][1]["event"] == "unenroll"


def test_change_mode_and_activate(user, course, signals_sent):
    from common.djangoapps.student.models import CourseEnrollment

    enrollment = CourseEnrollment.enroll(user, COURSE, mode="audit")
    enrollment.deactivate()
    signals_sent.clear()

    enrollment.change_mode("masters")
    enrollment.activate()

    assert CourseEnrollment.enrollment_mode_for_user(user, COURSE) == ("masters", True)
    assert [name for name, _ in signals_sent] == ["ENROLLMENT_TRACK_UPDATED"]
    assert [record.history_type for record in enrollment.history.order_by("history_date")] == ["+", "~", "~", "~", "~"]


def test_enroll_reactivates_an_existing_enrollment(user, course):
    from common.djangoapps.student.models import CourseEnrollment

    first = CourseEnrollment.enroll(user, COURSE, mode="audit")
    first.deactivate()

    again = CourseEnrollment.enroll(user, COURSE, mode="masters")

    assert again.id == first.id
    assert CourseEnrollment.objects.filter(user=user).count() == 1
    assert CourseEnrollment.enrollment_mode_for_user(user, COURSE) == ("masters", True)


def test_enroll_checks_the_course_only_when_asked(user, db):
    from common.djangoapps.student.models import CourseEnrollment, NonExistentCourseError

    with pytest.raises(NonExistentCourseError):
        CourseEnrollment.enroll(user, OTHER_COURSE, mode="masters", check_access=True)
    assert CourseEnrollment.get_enrollment(user, OTHER_COURSE) is None

    enrollment = CourseEnrollment.enroll(user, OTHER_COURSE, mode="masters")
    assert CourseEnrollment.get_enrollment(user, OTHER_COURSE) == enrollment


def test_enroll_with_check_access_refuses_an_active_learner(user, course):
    from common.djangoapps.student.models import AlreadyEnrolledError, CourseEnrollment

    CourseEnrollment.enroll(user, COURSE, mode="masters")

    with pytest.raises(AlreadyEnrolledError):
        CourseEnrollment.enroll(user, COURSE, mode="masters", check_access=True)


def test_enrollment_mode_for_user_without_enrollment(user, course):
    from common.djangoapps.student.models import CourseEnrollment

    assert CourseEnrollment.enrollment_mode_for_user(user, COURSE) == (None, None)
    assert CourseEnrollment.is_enrolled(user, COURSE) is False


def test_course_enrollment_table_and_columns_are_the_platforms(db):
    from common.djangoapps.student.models import CourseEnrollment
    from django.db import connection

    assert CourseEnrollment._meta.db_table == "student_courseenrollment"
    assert CourseEnrollment.history.model._meta.db_table == "student_courseenrollment_history"
    with connection.cursor() as cursor:
        columns = {
            column.name for column in connection.introspection.get_table_description(cursor, "student_courseenrollment")
        }
    assert columns == {"id", "user_id", "course_id", "created", "is_active", "mode"}


# --- course modes and overviews -------------------------------------------------------------------------


def test_course_modes_default_to_audit_and_follow_rows(course):
    from common.djangoapps.course_modes.models import CourseMode

    assert set(CourseMode.modes_for_course_dict(COURSE)) == {"audit"}
    CourseMode.objects.create(course=course, mode_slug="masters", mode_display_name="Master's")

    modes = CourseMode.modes_for_course_dict(COURSE)
    assert set(modes) == {"masters"}
    assert not CourseMode.contains_audit_mode(modes)
    assert CourseMode.contains_audit_mode(CourseMode.modes_for_course_dict(OTHER_COURSE))


def test_course_exists_reads_the_overview_table(course):
    from openedx.core.djangoapps.content.course_overviews.models import CourseOverview

    assert CourseOverview.course_exists(COURSE)
    assert not CourseOverview.course_exists(OTHER_COURSE)
    with pytest.raises(CourseOverview.DoesNotExist):
        CourseOverview.get_from_id(OTHER_COURSE)


# --- catalog cache -------------------------------------------------------------------------------------


def test_get_programs_reads_the_cache(program_cache):
    from openedx.core.djangoapps.catalog.utils import get_programs

    assert sorted(program_cache) == sorted([CYBERSECURITY, ANALYTICS, OTHER])
    program = get_programs(uuid=CYBERSECURITY)
    assert program["authoring_organizations"][0]["key"] == "GTx"
    assert program["curricula"][0]["uuid"] == "8f6bcfd1-48ca-5ba6-ae52-0572a322788d"
    assert get_programs(uuid=UUID(CYBERSECURITY)) == program
    assert sorted(p["uuid"] for p in get_programs(course=str(COURSE))) == sorted([CYBERSECURITY, OTHER])
    assert sorted(p["uuid"] for p in get_programs(organization="GTx")) == sorted(program_cache)
    assert get_programs(organization="MITx") == []


def test_get_programs_on_a_cold_cache(db):
    from openedx.core.djangoapps.catalog.utils import get_programs

    assert get_programs(uuid=CYBERSECURITY) is None
    assert get_programs(course=str(COURSE)) == []


def test_get_programs_takes_exactly_one_argument():
    from openedx.core.djangoapps.catalog.utils import get_programs

    with pytest.raises(TypeError):
        get_programs()
    with pytest.raises(TypeError):
        get_programs(uuid=CYBERSECURITY, course=str(COURSE))


def test_course_run_keys_for_program(program_cache):
    from openedx.core.djangoapps.catalog.utils import (
        course_run_keys_for_program,
        get_programs,
        is_course_run_in_program,
    )

    program = get_programs(uuid=CYBERSECURITY)
    assert str(COURSE) in course_run_keys_for_program(program)
    assert is_course_run_in_program(COURSE, program)
    assert not is_course_run_in_program("course-v1:GTx+ISYE6501+2020_Spring", program)


def test_cache_programs_command_fills_the_cache(db):
    from openedx.core.djangoapps.catalog.utils import get_programs

    from tests.openedx.conftest import DEMO_CATALOG

    call_command("cache_programs", "--file", str(DEMO_CATALOG))

    assert get_programs(uuid=ANALYTICS)["title"] == "Online Master of Science in Analytics"


# --- SAML provider configurations and UserSocialAuth -----------------------------------------------------


@pytest.fixture
def organization(db):
    from organizations.models import Organization

    return Organization.objects.create(name="Georgia Tech", short_name="GTx")


def test_saml_provider_configs_current_set_per_slug(organization):
    from common.djangoapps.third_party_auth.models import SAMLProviderConfig

    SAMLProviderConfig.objects.create(slug="gatech", organization=organization, enabled=True, entity_id="https://a")
    newest = SAMLProviderConfig.objects.create(
        slug="gatech", organization=organization, enabled=False, entity_id="https://a"
    )
    second = SAMLProviderConfig.objects.create(slug="gatech-2", organization=organization, enabled=True)

    current = organization.samlproviderconfig_set.current_set()
    assert sorted(config.id for config in current) == sorted([newest.id, second.id])
    assert list(current.filter(enabled=True)) == [second]
    assert newest.provider_id == "saml-gatech"
    assert newest.backend_name == "tpa-saml"


def test_saml_uid_helpers_round_trip_through_user_social_auth(organization, user):
    from common.djangoapps.third_party_auth.models import SAMLProviderConfig
    from social_django.models import UserSocialAuth

    provider = SAMLProviderConfig.objects.create(slug="gatech", organization=organization, enabled=True)
    social = UserSocialAuth.objects.create(user=user, provider="tpa-saml", uid=provider.get_social_auth_uid("gt-1001"))

    assert social.uid == "gatech:gt-1001"
    assert UserSocialAuth.objects.get(uid__iexact="GATECH:GT-1001") == social
    assert provider.get_remote_id_from_social_auth(social) == "gt-1001"
    other = SAMLProviderConfig.objects.create(slug="other", organization=organization, enabled=True)
    assert not other.match_social_auth(social)
    with pytest.raises(AssertionError):
        other.get_remote_id_from_social_auth(social)


# --- course staff role --------------------------------------------------------------------------------


def test_course_staff_role_add_has_remove(user, db):
    from common.djangoapps.student.api import get_access_role_by_role_name
    from common.djangoapps.student.models import CourseAccessRole
    from common.djangoapps.student.roles import CourseStaffRole

    role_class = get_access_role_by_role_name("staff")
    assert role_class is CourseStaffRole
    inactive = get_user_model().objects.create_user("inactive", is_active=False)

    role_class(COURSE).add_users(user, inactive)

    assert CourseStaffRole(COURSE).has_user(user)
    assert not CourseStaffRole(OTHER_COURSE).has_user(user)
    assert list(CourseStaffRole(COURSE).users_with_role()) == [user]
    row = CourseAccessRole.objects.get()
    assert (row.user, row.org, row.course_id, row.role) == (user, "GTx", COURSE, "staff")

    CourseStaffRole(COURSE).remove_users(user)

    assert not CourseStaffRole(COURSE).has_user(user)
    assert not CourseAccessRole.objects.exists()


# --- grades ---------------------------------------------------------------------------------------------


def test_course_grade_factory_iter_reads_stored_grades(user, db):
    from lms.djangoapps.grades.api import CourseGradeFactory, clear_prefetched_course_grades, prefetch_course_grades
    from lms.djangoapps.grades.models import PersistentCourseGrade

    ungraded = get_user_model().objects.create_user("ungraded")
    PersistentCourseGrade.update_or_create(
        user_id=user.id, course_id=COURSE, percent_grade=0.9, letter_grade="A", passed=True
    )

    prefetch_course_grades(COURSE, [user, ungraded])
    results = list(CourseGradeFactory().iter([user, ungraded], course_key=COURSE))
    clear_prefetched_course_grades(COURSE)

    assert [
        (r.student, r.course_grade.percent, r.course_grade.letter_grade, r.course_grade.passed, r.error)
        for r in results
    ] == [
        (user, 0.9, "A", True, None),
        (ungraded, 0.0, None, False, None),
    ]
    assert PersistentCourseGrade.objects.get(user_id=user.id).passed_timestamp is not None


def test_course_grade_factory_iter_reports_a_learners_error(user, db, monkeypatch):
    from lms.djangoapps.grades.api import CourseGradeFactory

    def failing_read(self, user, **kwargs):
        raise ValueError("no grade for you")

    monkeypatch.setattr(CourseGradeFactory, "read", failing_read)

    [result] = CourseGradeFactory().iter([user], course_key=COURSE)

    assert result.course_grade is None
    assert str(result.error) == "no grade for you"


def test_read_replica_or_default():
    from common.djangoapps.util.query import read_replica_or_default

    assert read_replica_or_default() == "default"


# --- retirement and authentication ---------------------------------------------------------------------


def test_retired_external_key_uses_the_current_salt():
    from django.dispatch import Signal
    from openedx.core.djangoapps.user_api.accounts.signals import USER_RETIRE_LMS_MISC
    from openedx.core.lib.user_util import get_all_retired_external_keys, get_retired_external_key

    salts = settings.RETIRED_USER_SALTS
    expected = "retired_external_key_" + hashlib.sha1((salts[-1] + "gt-1001").encode()).hexdigest()
    assert get_retired_external_key("GT-1001", salts) == expected
    assert list(get_all_retired_external_keys("gt-1001", salts))[-1] == expected
    with pytest.raises(ValueError):
        get_retired_external_key("gt-1001", "not-a-list")
    assert isinstance(USER_RETIRE_LMS_MISC, Signal)


def test_bearer_authentication_accepts_lms_access_tokens(user, db):
    from oauth2_provider.models import AccessToken, Application
    from openedx.core.lib.api.authentication import BearerAuthenticationAllowInactiveUser
    from rest_framework.exceptions import AuthenticationFailed
    from rest_framework.test import APIRequestFactory

    application = Application.objects.create(
        name="registrar",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        user=user,
    )
    AccessToken.objects.create(
        user=user, application=application, token="valid", expires=timezone.now() + timedelta(hours=1)
    )
    AccessToken.objects.create(
        user=user, application=application, token="old", expires=timezone.now() - timedelta(hours=1)
    )
    authentication = BearerAuthenticationAllowInactiveUser()
    factory = APIRequestFactory()

    authenticated_user, token = authentication.authenticate(factory.get("/", HTTP_AUTHORIZATION="Bearer valid"))
    assert (authenticated_user, token.token) == (user, "valid")
    assert authentication.authenticate(factory.get("/", HTTP_AUTHORIZATION="JWT abc")) is None
    for header in ("Bearer old", "Bearer unknown"):
        with pytest.raises(AuthenticationFailed):
            authentication.authenticate(factory.get("/", HTTP_AUTHORIZATION=header))
