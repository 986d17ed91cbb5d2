"""The Open edX backends, settings and system checks against the harness LMS."""

from __future__ import annotations

import sys
import types
from uuid import UUID, uuid4

import pytest

# Skips the module, with the reason, unless this app is installed in the harness LMS (see platform_data).
pytest.importorskip("tests.openedx.platform_data", exc_type=ImportError)

from django.core import checks
from django.test import override_settings
from opaque_keys.edx.keys import CourseKey

from program_enrollments.openedx import settings as plugin_settings
from program_enrollments.openedx.backends import OpenEdxCatalogBackend, OpenEdxLMSBackend, program_data
from program_enrollments.openedx.checks import check_openedx_backends
from tests.openedx import platform_data as lms

pytestmark = pytest.mark.django_db

COURSE = "course-v1:GTx+CS101+2026"


@pytest.fixture
def signals_sent():
    """The student app's enrollment signals sent during the test, as (name, kwargs)."""
    from common.djangoapps.student.signals import ENROLL_STATUS_CHANGE, ENROLLMENT_TRACK_UPDATED, UNENROLL_DONE

    sent = []
    receivers = {}
    for name, signal in (
        ("ENROLL_STATUS_CHANGE", ENROLL_STATUS_CHANGE),
        ("ENROLLMENT_TRACK_UPDATED", ENROLLMENT_TRACK_UPDATED),
        ("UNENROLL_DONE", UNENROLL_DONE),
    ):

        def receiver(sender, _name=name, **kwargs):
            kwargs.pop("signal", None)
            sent.append((_name, kwargs))

        receivers[name] = (signal, receiver)
        signal.connect(receiver, weak=False)
    yield sent
    for signal, receiver in receivers.values():
        signal.disconnect(receiver)


def _enrollment(learner, key=COURSE):
    from common.djangoapps.student.models import CourseEnrollment

    return CourseEnrollment.objects.get(user=learner, course_id=CourseKey.from_string(key))


def _names(sent):
    return [name for name, _ in sent]


# --- course runs and users --------------------------------------------------------------------


def test_course_exists_reads_the_course_overviews():
    lms.course(COURSE)
    backend = OpenEdxLMSBackend()
    assert backend.course_exists(CourseKey.from_string(COURSE))
    assert not backend.course_exists(CourseKey.from_string("course-v1:GTx+NOPE+2026"))


def test_get_user_ids_maps_usernames(django_assert_num_queries):
    alice, bob = lms.user("alice"), lms.user("bob")
    with django_assert_num_queries(1):
        assert OpenEdxLMSBackend().get_user_ids(["alice", "bob", "nobody"]) == {"alice": alice.id, "bob": bob.id}


# --- enroll / deactivate ------------------------------------------------------------------------


def test_enroll_creates_an_active_masters_enrollment_through_the_platform(signals_sent):
    key = lms.course(COURSE)
    learner = lms.user()

    ids = OpenEdxLMSBackend().enroll(key, [learner.id], active=True)

    enrollment = _enrollment(learner)
    assert ids == {learner.id: enrollment.id}
    assert (enrollment.mode, enrollment.is_active) == ("masters", True)
    enrolled = [kwargs for name, kwargs in signals_sent if name == "ENROLL_STATUS_CHANGE"]
    assert [(kwargs["event"], kwargs["mode"], kwargs["user"]) for kwargs in enrolled] == [
        ("enroll", "masters", learner)
    ]
    assert enrollment.history.count() >= 1


def test_enroll_inactive_creates_a_masters_enrollment_without_announcing_an_enrollment(signals_sent):
    key = lms.course(COURSE)
    learner = lms.user()

    ids = OpenEdxLMSBackend().enroll(key, [learner.id], active=False)

    enrollment = _enrollment(learner)
    assert ids == {learner.id: enrollment.id}
    assert (enrollment.mode, enrollment.is_active) == ("masters", False)
    assert "ENROLL_STATUS_CHANGE" not in _names(signals_sent)
    assert "UNENROLL_DONE" not in _names(signals_sent)


def test_enroll_upgrades_an_audit_enrollment_and_announces_the_new_track(signals_sent):
    from common.djangoapps.student.models import CourseEnrollment

    key = lms.course(COURSE)
    learner = lms.user()
    existing = CourseEnrollment.enroll(learner, key, mode="audit")
    existing.deactivate()
    signals_sent.clear()

    ids = OpenEdxLMSBackend().enroll(key, [learner.id], active=True)

    enrollment = _enrollment(learner)
    assert ids == {learner.id: existing.id}
    assert (enrollment.mode, enrollment.is_active) == ("masters", True)
    tracks = [kwargs for name, kwargs in signals_sent if name == "ENROLLMENT_TRACK_UPDATED"]
    assert [(kwargs["user"], kwargs["mode"]) for kwargs in tracks] == [(learner, "masters")]


@pytest.mark.parametrize("mode", ["honor", "audit"])
def test_enroll_upgrades_free_modes(mode):
    from common.djangoapps.student.models import CourseEnrollment

    key = lms.course(COURSE)
    learner = lms.user()
    CourseEnrollment.enroll(learner, key, mode=mode)

    OpenEdxLMSBackend().enroll(key, [learner.id], active=True)

    assert _enrollment(learner).mode == "masters"


def test_enroll_keeps_a_paid_mode_and_activates_it(signals_sent, caplog):
    from common.djangoapps.student.models import CourseEnrollment

    key = lms.course(COURSE)
    learner = lms.user()
    CourseEnrollment.enroll(learner, key, mode="verified").deactivate()
    signals_sent.clear()

    with caplog.at_level("INFO", logger="program_enrollments.openedx.backends"):
        OpenEdxLMSBackend().enroll(key, [learner.id], active=True)

    enrollment = _enrollment(learner)
    assert (enrollment.mode, enrollment.is_active) == ("verified", True)
    assert "ENROLLMENT_TRACK_UPDATED" not in _names(signals_sent)
    assert "Kept mode verified" in caplog.text


def test_enroll_without_active_leaves_existing_enrollments_as_they_are(signals_sent):
    from common.djangoapps.student.models import CourseEnrollment

    key = lms.course(COURSE)
    learner = lms.user()
    existing = CourseEnrollment.enroll(learner, key, mode="audit")
    existing.deactivate()
    signals_sent.clear()

    assert OpenEdxLMSBackend().enroll(key, [learner.id], active=False) == {learner.id: existing.id}

    enrollment = _enrollment(learner)
    assert (enrollment.mode, enrollment.is_active) == ("audit", False)
    assert signals_sent == []


def test_enroll_is_safe_to_repeat(signals_sent):
    key = lms.course(COURSE)
    learners = [lms.user() for _ in range(3)]
    backend = OpenEdxLMSBackend()
    first = backend.enroll(key, [learner.id for learner in learners], active=True)
    signals_sent.clear()

    assert backend.enroll(key, [learner.id for learner in learners], active=True) == first
    assert signals_sent == []


def test_enroll_reads_set_wise(django_assert_max_num_queries):
    """Reading who is enrolled costs the same for 1 or 20 learners; only the platform's per-user writes grow."""
    from common.djangoapps.student.models import CourseEnrollment

    key = lms.course(COURSE)
    learners = [lms.user() for _ in range(20)]
    for learner in learners:
        CourseEnrollment.enroll(learner, key, mode="masters")
    # Every learner already enrolled as asked: nothing to write, a fixed number of reads.
    with django_assert_max_num_queries(2):
        OpenEdxLMSBackend().enroll(key, [learner.id for learner in learners], active=True)


def test_deactivate_goes_through_the_platform(signals_sent):
    from common.djangoapps.student.models import CourseEnrollment

    key = lms.course(COURSE)
    active, inactive, other = lms.user(), lms.user(), lms.user()
    CourseEnrollment.enroll(active, key, mode="masters")
    CourseEnrollment.enroll(inactive, key, mode="masters").deactivate()
    CourseEnrollment.enroll(other, key, mode="masters")
    signals_sent.clear()

    OpenEdxLMSBackend().deactivate(key, [active.id, inactive.id])

    assert not _enrollment(active).is_active
    assert _enrollment(other).is_active
    unenrolled = [kwargs["course_enrollment"].user for name, kwargs in signals_sent if name == "UNENROLL_DONE"]
    assert unenrolled == [active]


def test_update_enrollments_gives_back_a_mode_and_an_activity_through_the_platform(signals_sent):
    from common.djangoapps.student.models import CourseEnrollment

    key = lms.course(COURSE)
    upgraded, reactivated, untouched = lms.user(), lms.user(), lms.user()
    CourseEnrollment.enroll(upgraded, key, mode="masters")
    CourseEnrollment.enroll(reactivated, key, mode="masters")
    CourseEnrollment.enroll(untouched, key, mode="masters")
    signals_sent.clear()

    OpenEdxLMSBackend().update_enrollments(
        key, {upgraded.id: ("audit", None), reactivated.id: (None, False), untouched.id: (None, None)}
    )

    assert (_enrollment(upgraded).mode, _enrollment(upgraded).is_active) == ("audit", True)
    assert (_enrollment(reactivated).mode, _enrollment(reactivated).is_active) == ("masters", False)
    assert (_enrollment(untouched).mode, _enrollment(untouched).is_active) == ("masters", True)
    names = [name for name, _kwargs in signals_sent]
    assert "ENROLLMENT_TRACK_UPDATED" in names and "UNENROLL_DONE" in names


def test_course_grades_are_read_through_the_grades_api_a_page_at_a_time(django_assert_num_queries):
    from unittest import mock

    from lms.djangoapps.grades.models import PersistentCourseGrade

    from program_enrollments.data import CourseGradeData

    key = lms.course(COURSE)
    graded, ungraded, failing = lms.user(), lms.user(), lms.user()
    PersistentCourseGrade.update_or_create(graded.id, key, percent_grade=0.87, letter_grade="Pass", passed=True)
    real_read = PersistentCourseGrade.read.__func__

    def read(cls, user_id, course_id):
        if user_id == failing.id:
            raise RuntimeError("Timeout while calculating grade")
        return real_read(cls, user_id, course_id)

    with mock.patch.object(PersistentCourseGrade, "read", classmethod(read)), django_assert_num_queries(2):
        grades = OpenEdxLMSBackend().get_course_grades(key, [graded.id, ungraded.id, failing.id])

    assert grades == {
        graded.id: CourseGradeData(percent=0.87, passed=True, letter_grade="Pass"),
        ungraded.id: CourseGradeData(percent=0.0, passed=False, letter_grade=None),
        failing.id: "Timeout while calculating grade",
    }


def test_get_enrollments_and_the_masters_scan(django_assert_num_queries):
    from common.djangoapps.student.models import CourseEnrollment

    key = lms.course(COURSE)
    other_key = lms.course("course-v1:GTx+CS102+2026")
    masters, verified, none = lms.user(), lms.user(), lms.user()
    first = CourseEnrollment.enroll(masters, key, mode="masters")
    second = CourseEnrollment.enroll(verified, key, mode="verified")
    third = CourseEnrollment.enroll(masters, other_key, mode="masters")
    CourseEnrollment.enroll(verified, other_key, mode="masters").deactivate()
    backend = OpenEdxLMSBackend()

    with django_assert_num_queries(1):
        found = backend.get_enrollments(key, [masters.id, verified.id, none.id])
    assert found == {masters.id: (first.id, "masters", True), verified.id: (second.id, "verified", True)}

    chunks = list(backend.iter_active_enrollments_in_mode("masters", chunk_size=1))
    assert chunks == [[(first.id, masters.id, str(key))], [(third.id, masters.id, str(other_key))]]


def test_course_staff_through_course_staff_role(django_assert_num_queries):
    from common.djangoapps.student.roles import CourseStaffRole

    key = lms.course(COURSE)
    staff, learner = lms.user(), lms.user()
    backend = OpenEdxLMSBackend()

    backend.set_course_staff(key, [staff.id, learner.id], staff=True)
    assert CourseStaffRole(key).has_user(staff)
    with django_assert_num_queries(1):
        assert backend.course_staff_user_ids(key, [staff.id, learner.id]) == {staff.id, learner.id}

    backend.set_course_staff(key, [learner.id], staff=False)
    assert backend.course_staff_user_ids(key, [staff.id, learner.id]) == {staff.id}


# --- SAML identities ----------------------------------------------------------------------------


def test_resolve_users_reads_every_current_provider_of_the_organization_ignoring_case(django_assert_num_queries):
    gtx, mitx = lms.organization("GTx"), lms.organization("MITx")
    lms.saml_provider("gtx-old", gtx)
    lms.saml_provider("gtx-new", gtx)
    lms.saml_provider("mitx", mitx)
    lms.saml_provider("gtx-off", gtx, enabled=False)
    alice, bob, carol, dave = lms.user(), lms.user(), lms.user(), lms.user()
    lms.social_auth(alice, "gtx-old:Alice")
    lms.social_auth(bob, "gtx-new:BOB")
    lms.social_auth(carol, "mitx:carol")  # another organization's learner
    lms.social_auth(dave, "gtx-off:dave")  # a disabled provider

    with django_assert_num_queries(2):
        found = OpenEdxLMSBackend().resolve_users("GTx", ["aLiCe", "bob", "carol", "dave", "erin"])

    assert found == {"alice": alice.id, "bob": bob.id}


def test_resolve_users_follows_the_current_configuration_of_a_slug():
    gtx = lms.organization("GTx")
    lms.saml_provider("gtx", gtx)
    learner = lms.user()
    lms.social_auth(learner, "gtx:alice")
    backend = OpenEdxLMSBackend()
    assert backend.resolve_users("GTx", ["alice"]) == {"alice": learner.id}

    # The admin saves a new current row for the slug that disables it.
    lms.saml_provider("gtx", gtx, enabled=False)
    assert backend.resolve_users("GTx", ["alice"]) == {}


def test_resolve_users_ignores_identities_of_other_backends():
    gtx = lms.organization("GTx")
    lms.saml_provider("gtx", gtx)
    learner = lms.user()
    lms.social_auth(learner, "gtx:alice", provider="google-oauth2")
    assert OpenEdxLMSBackend().resolve_users("GTx", ["alice"]) == {}


def test_resolve_users_without_organization_or_provider_resolves_nobody():
    lms.organization("NoSSOx")
    backend = OpenEdxLMSBackend()
    assert backend.resolve_users("NoSSOx", ["alice"]) == {}
    assert backend.resolve_users("Unknownx", ["alice"]) == {}
    assert backend.resolve_users("GTx", []) == {}


def test_resolve_users_keeps_the_first_identity_when_two_users_claim_a_key(caplog):
    gtx = lms.organization("GTx")
    lms.saml_provider("gtx-a", gtx)
    lms.saml_provider("gtx-b", gtx)
    first, second = lms.user(), lms.user()
    lms.social_auth(first, "gtx-a:alice")
    lms.social_auth(second, "gtx-b:ALICE")

    assert OpenEdxLMSBackend().resolve_users("GTx", ["alice"]) == {"alice": first.id}
    assert "several users" in caplog.text


def test_saml_lookups_read_the_uid_index_on_mysql(vendor):
    """On the LMS's database a key's identity is found through the (provider, uid) index, ignoring case.

    ``lower(uid)`` would read every SAML identity of the LMS for each write of new program
    enrollments; an ``IN`` under the column's case-insensitive collation reads the index range.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from social_django.models import UserSocialAuth

    if vendor != "mysql":
        pytest.skip(f"{vendor} compares uids case-sensitively: the lookup lower-cases both sides there")
    gtx = lms.organization("GTx")
    lms.saml_provider("gtx", gtx)
    many, learner = lms.user(), lms.user()
    UserSocialAuth.objects.bulk_create(
        UserSocialAuth(user=many, provider="tpa-saml", uid=f"gtx:learner-{number}", extra_data={})
        for number in range(3000)
    )
    # No ANALYZE TABLE: MySQL would commit the test's transaction. The range's rows are
    # estimated by index dives, without statistics.
    lms.social_auth(learner, "gtx:Erin-Key")
    backend = OpenEdxLMSBackend()

    with CaptureQueriesContext(connection) as queries:
        found = backend.resolve_users("GTx", ["erin-KEY", "LEARNER-7"])
    identities = backend.get_sso_identities("GTx", student_keys=["ERIN-key"])

    assert found == {"erin-key": learner.id, "learner-7": many.id}
    assert [(identity.student_key, identity.user_id) for identity in identities] == [("Erin-Key", learner.id)]
    (lookup,) = [query["sql"] for query in queries.captured_queries if UserSocialAuth._meta.db_table in query["sql"]]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {lookup}")
        columns = [column[0] for column in cursor.description]
        (plan,) = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    assert plan["type"] == "range" and int(plan["rows"]) < 10, plan


# --- catalog ------------------------------------------------------------------------------------


def test_get_programs_maps_the_catalog_cache():
    child = lms.program_document(
        organization_key="GTx",
        curricula=[lms.curriculum(courses=["course-v1:GTx+CHILD+2026"])],
        courses=["course-v1:GTx+CHILDOWN+2026"],
    )
    active = lms.curriculum(courses=["course-v1:GTx+CS101+2026"], programs=[child])
    retired = lms.curriculum(is_active=False, courses=["course-v1:GTx+OLD+2020"])
    document = lms.cache_program(
        lms.program_document(curricula=[retired, active], courses=["course-v1:GTx+OWN+2026"], title="OMSCS")
    )
    uuid = UUID(document["uuid"])

    programs = OpenEdxCatalogBackend().get_programs([uuid, uuid4()])

    assert list(programs) == [uuid]
    program = programs[uuid]
    assert (program.organization_key, program.title) == ("GTx", "OMSCS")
    assert [(str(c.uuid), c.is_active) for c in program.curricula] == [
        (retired["uuid"], False),
        (active["uuid"], True),
    ]
    # The platform's course_run_keys_for_program: the active curriculum, its child programs, the own courses.
    assert program.course_keys() == {
        "course-v1:GTx+CS101+2026",
        "course-v1:GTx+CHILD+2026",
        "course-v1:GTx+CHILDOWN+2026",
        "course-v1:GTx+OWN+2026",
    }
    assert program.curricula[0].course_keys == {"course-v1:GTx+OLD+2020"}
    assert OpenEdxCatalogBackend().get_program(uuid) == program


def test_a_program_without_authoring_organization_gets_the_unknown_organization():
    document = lms.cache_program(lms.program_document(organization_key=None))
    program = OpenEdxCatalogBackend().get_program(document["uuid"])
    assert program.organization_key == ""


def test_program_data_ignores_malformed_documents():
    assert program_data({"title": "no uuid"}) is None
    document = lms.program_document(curricula=[{"uuid": "not-a-uuid", "is_active": True}])
    assert program_data(document).curricula == ()


def test_get_programs_of_nothing_reads_nothing():
    assert OpenEdxCatalogBackend().get_programs([]) == {}


# --- plugin settings ----------------------------------------------------------------------------


def test_plugin_settings_point_the_app_at_the_platform():
    settings = types.SimpleNamespace()
    plugin_settings.plugin_settings(settings)
    assert settings.PROGRAM_ENROLLMENTS_COURSE_ENROLLMENT_MODEL == "student.CourseEnrollment"
    assert settings.PROGRAM_ENROLLMENTS == {
        "LMS_BACKEND": "program_enrollments.openedx.backends.OpenEdxLMSBackend",
        "CATALOG_BACKEND": "program_enrollments.openedx.backends.OpenEdxCatalogBackend",
        "AUTHENTICATION_CLASSES": plugin_settings.AUTHENTICATION_CLASSES,
    }
    assert not hasattr(settings, "OAUTH2_PROVIDER")  # only a provider the platform configured gains scopes
    settings.OAUTH2_PROVIDER = {"SCOPES": {"read": "Read"}}
    plugin_settings.plugin_settings(settings)
    assert settings.OAUTH2_PROVIDER["SCOPES"] == {"read": "Read", **plugin_settings.SCOPES}


def test_plugin_settings_keep_what_the_operator_set():
    shared = {"LMS_BACKEND": "custom.Backend", "WRITE_CHUNK_SIZE": 50}
    settings = types.SimpleNamespace(PROGRAM_ENROLLMENTS=shared, PROGRAM_ENROLLMENTS_COURSE_ENROLLMENT_MODEL="x.Y")
    plugin_settings.plugin_settings(settings)
    assert settings.PROGRAM_ENROLLMENTS_COURSE_ENROLLMENT_MODEL == "x.Y"
    assert settings.PROGRAM_ENROLLMENTS == {
        "LMS_BACKEND": "custom.Backend",
        "WRITE_CHUNK_SIZE": 50,
        "CATALOG_BACKEND": "program_enrollments.openedx.backends.OpenEdxCatalogBackend",
        "AUTHENTICATION_CLASSES": plugin_settings.AUTHENTICATION_CLASSES,
    }
    assert shared == {"LMS_BACKEND": "custom.Backend", "WRITE_CHUNK_SIZE": 50}  # not modified in place


def test_the_harness_runs_with_the_open_edx_backends():
    from program_enrollments import conf

    assert conf.get("LMS_BACKEND") == "program_enrollments.openedx.backends.OpenEdxLMSBackend"
    assert conf.get("CATALOG_BACKEND") == "program_enrollments.openedx.backends.OpenEdxCatalogBackend"
    assert conf.course_enrollment_model_label() == "student.CourseEnrollment"


# --- system checks ------------------------------------------------------------------------------


def _ids(errors):
    return sorted({error.id for error in errors})


def test_checks_pass_inside_the_lms():
    assert check_openedx_backends() == []


def test_check_fails_when_the_course_enrollment_model_is_not_the_platforms():
    with override_settings(PROGRAM_ENROLLMENTS_COURSE_ENROLLMENT_MODEL="auth.User"):
        errors = check_openedx_backends()
    assert _ids(errors) == ["program_enrollments.E102"]
    assert "student.CourseEnrollment" in errors[0].hint


@pytest.mark.parametrize(
    ("module", "check_id"),
    [
        ("social_django.models", "program_enrollments.E101"),
        ("organizations.models", "program_enrollments.E101"),
        ("common.djangoapps.third_party_auth.models", "program_enrollments.E101"),
        ("openedx.core.djangoapps.content.course_overviews.models", "program_enrollments.E101"),
        ("openedx.core.djangoapps.catalog.utils", "program_enrollments.E103"),
        ("openedx.core.lib.user_util", "program_enrollments.E104"),
    ],
)
def test_check_fails_when_a_platform_part_cannot_be_imported(monkeypatch, module, check_id):
    # A None entry in sys.modules makes the import raise ImportError, as a missing package would.
    monkeypatch.setitem(sys.modules, module, None)
    errors = check_openedx_backends()
    assert check_id in _ids(errors)
    assert any(module in error.msg for error in errors)


def test_check_fails_without_retired_user_salts():
    with override_settings(RETIRED_USER_SALTS=[]):
        assert _ids(check_openedx_backends()) == ["program_enrollments.E104"]


def test_checks_ignore_other_hosts_backends(monkeypatch):
    from tests.settings import override_program_enrollments

    monkeypatch.setitem(sys.modules, "social_django.models", None)
    with override_program_enrollments(
        LMS_BACKEND="program_enrollments.backends.base.LMSBackend",
        CATALOG_BACKEND="program_enrollments.backends.base.CatalogBackend",
    ):
        assert check_openedx_backends() == []


def test_the_open_edx_checks_run_with_the_django_checks():
    """Wired by the app: ``manage.py check`` (and migrate, runserver) reports them at start-up."""
    with override_settings(PROGRAM_ENROLLMENTS_COURSE_ENROLLMENT_MODEL="auth.User"):
        errors = checks.run_checks()
    assert "program_enrollments.E102" in _ids(errors)


def test_an_lms_without_jwt_signing_keys_is_warned_about():
    """edx-drf-extensions counts a token checked against an empty key set as verified."""
    from django.conf import settings

    assert "program_enrollments.W101" not in _ids(checks.run_checks())  # the harness LMS has its keys
    without_keys = {**settings.JWT_AUTH, "JWT_PUBLIC_SIGNING_JWK_SET": None}
    with override_settings(JWT_AUTH=without_keys):
        messages = [message for message in checks.run_checks() if message.id == "program_enrollments.W101"]
    assert len(messages) == 1 and messages[0].level == checks.WARNING
    assert "JWT_PUBLIC_SIGNING_JWK_SET" in messages[0].msg
