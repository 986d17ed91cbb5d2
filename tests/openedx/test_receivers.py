"""The LMS receivers: linking on SAML login, and user retirement."""

from __future__ import annotations

import hashlib

import pytest

# Skips the module, with the reason, unless this app is installed in the harness LMS (see platform_data).
pytest.importorskip("tests.openedx.platform_data", exc_type=ImportError)

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_save
from django.test import override_settings
from opaque_keys.edx.keys import CourseKey

from program_enrollments import api
from program_enrollments.api.retirement import RETIREMENT_REASON
from program_enrollments.data import CourseEnrollmentRequest, ProgramEnrollmentRequest
from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment
from program_enrollments.openedx import receivers
from tests.openedx import platform_data as lms

pytestmark = pytest.mark.django_db

COURSE = "course-v1:GTx+CS101+2026"
SALTS = ["old-salt", "current-salt"]


@pytest.fixture(autouse=True)
def _connected():
    """The receivers as the plugin's signals_config connects them (same dispatch uids: never twice)."""
    from openedx.core.djangoapps.user_api.accounts.signals import USER_RETIRE_LMS_MISC
    from social_django.models import UserSocialAuth

    cache.clear()
    post_save.connect(
        receivers.link_on_saml_identity,
        sender=UserSocialAuth,
        dispatch_uid="program_enrollments.openedx.link_on_saml_identity",
    )
    USER_RETIRE_LMS_MISC.connect(
        receivers.retire_program_enrollments, dispatch_uid="program_enrollments.openedx.retire_program_enrollments"
    )
    yield
    cache.clear()


@pytest.fixture
def gtx():
    """Organization GTx with its SAML provider ``gtx-sso``."""
    organization = lms.organization("GTx")
    lms.saml_provider("gtx-sso", organization)
    return organization


def _enroll(program, student_key, *, course_status="active", course=COURSE):
    api.write_program_enrollments(
        program_uuid=program["uuid"],
        requests=[ProgramEnrollmentRequest(student_key, "enrolled", lms.curriculum_uuid(program))],
        create=True,
        update=False,
    )
    api.write_program_course_enrollments(
        program_uuid=program["uuid"],
        course_key=course,
        requests=[CourseEnrollmentRequest(student_key, course_status)],
        create=True,
        update=False,
    )
    return ProgramEnrollment.objects.get(program_uuid=program["uuid"], external_user_key=student_key)


def _login(learner, uid, django_capture_on_commit_callbacks, provider="tpa-saml"):
    """The SAML pipeline saving the identity, and the request's transaction committing."""
    with django_capture_on_commit_callbacks(execute=True):
        return lms.social_auth(learner, uid, provider=provider)


# --- SSO linking ------------------------------------------------------------------------------


def test_saml_login_links_the_waiting_learner_and_enrolls_them(gtx, django_capture_on_commit_callbacks):
    from common.djangoapps.student.models import CourseEnrollment

    program = lms.program(COURSE)
    enrollment = _enroll(program, "Alice")
    learner = lms.user()

    _login(learner, "gtx-sso:alice", django_capture_on_commit_callbacks)

    enrollment.refresh_from_db()
    assert enrollment.user == learner
    assert enrollment.learner_ref == f"user:{learner.id}"
    course_enrollment = CourseEnrollment.objects.get(user=learner, course_id=CourseKey.from_string(COURSE))
    assert (course_enrollment.mode, course_enrollment.is_active) == ("masters", True)
    pce = enrollment.program_course_enrollments.get()
    assert pce.course_enrollment_id == course_enrollment.id
    assert pce.status == "active"


def test_saml_login_links_only_the_providers_organization(gtx, django_capture_on_commit_callbacks):
    lms.organization("MITx")
    gtx_program = lms.program(COURSE)
    mitx_program = lms.program("course-v1:MITx+6.00+2026", organization_key="MITx")
    at_gtx = _enroll(gtx_program, "alice")
    at_mitx = _enroll(mitx_program, "alice", course="course-v1:MITx+6.00+2026")
    learner = lms.user()

    _login(learner, "gtx-sso:alice", django_capture_on_commit_callbacks)

    at_gtx.refresh_from_db()
    at_mitx.refresh_from_db()
    assert at_gtx.user == learner
    assert at_mitx.user is None


def test_linking_on_login_reapplies_the_one_active_rule(gtx, django_capture_on_commit_callbacks):
    first, second = lms.program(COURSE), lms.program(COURSE)
    learner = lms.user()
    # The learner is already in the first program and active in the course under another key.
    _login(learner, "gtx-sso:carol-old", django_capture_on_commit_callbacks)
    earlier = _enroll(first, "carol-old")
    assert earlier.user == learner
    # The second program enrolled the same person under a new key, waiting, active in the same course.
    waiting = _enroll(second, "carol")
    assert waiting.user is None

    _login(learner, "gtx-sso:carol", django_capture_on_commit_callbacks)

    waiting.refresh_from_db()
    assert waiting.user == learner
    statuses = dict(
        ProgramCourseEnrollment.objects.filter(program_enrollment__user=learner).values_list(
            "program_enrollment__program_uuid", "status"
        )
    )
    assert {str(uuid): status for uuid, status in statuses.items()} == {
        first["uuid"]: "active",
        second["uuid"]: "inactive",
    }
    reasons = ProgramCourseEnrollment.history.filter(program_enrollment_id=waiting.id).values_list(
        "history_change_reason", flat=True
    )
    assert any("Deactivated on linking" in (reason or "") for reason in reasons)


def test_linking_waits_for_the_login_transaction_to_commit(gtx, django_capture_on_commit_callbacks):
    program = lms.program(COURSE)
    enrollment = _enroll(program, "alice")
    learner = lms.user()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with transaction.atomic():
            lms.social_auth(learner, "gtx-sso:alice")
            enrollment.refresh_from_db()
            assert enrollment.user is None
    assert len(callbacks) == 1

    callbacks[0]()
    enrollment.refresh_from_db()
    assert enrollment.user == learner


@pytest.mark.parametrize(
    ("uid", "provider"),
    [
        ("alice@example.com", "google-oauth2"),  # not SAML
        ("gtx-sso:alice", "google-oauth2"),  # looks like a SAML uid, another backend
        ("unknown-slug:alice", "tpa-saml"),  # no such provider
        ("gtx-sso:", "tpa-saml"),  # no key
        ("alice", "tpa-saml"),  # no slug
    ],
)
def test_identities_that_are_not_the_organizations_saml_ones_are_ignored(
    gtx, django_capture_on_commit_callbacks, uid, provider
):
    program = lms.program(COURSE)
    enrollment = _enroll(program, "alice")
    learner = lms.user()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        lms.social_auth(learner, uid, provider=provider)

    assert callbacks == []
    enrollment.refresh_from_db()
    assert enrollment.user is None


def test_a_provider_without_organization_links_nothing(django_capture_on_commit_callbacks):
    lms.organization("GTx")
    lms.saml_provider("loose", None)
    program = lms.program(COURSE)
    enrollment = _enroll(program, "alice")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        lms.social_auth(lms.user(), "loose:alice")

    assert callbacks == []
    enrollment.refresh_from_db()
    assert enrollment.user is None


def test_a_linking_failure_is_logged_and_login_goes_on(gtx, django_capture_on_commit_callbacks, monkeypatch, caplog):
    from social_django.models import UserSocialAuth

    program = lms.program(COURSE)
    enrollment = _enroll(program, "alice")
    learner = lms.user()

    def broken(**kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(api, "link_waiting_program_enrollments", broken)

    identity = _login(learner, "gtx-sso:alice", django_capture_on_commit_callbacks)

    assert UserSocialAuth.objects.filter(pk=identity.pk).exists()
    enrollment.refresh_from_db()
    assert enrollment.user is None
    assert "Could not link the waiting program enrollments" in caplog.text


def test_a_broken_provider_lookup_does_not_break_login(gtx, django_capture_on_commit_callbacks, monkeypatch, caplog):
    from common.djangoapps.third_party_auth.models import SAMLProviderConfig

    def broken(*args, **kwargs):
        raise RuntimeError("config cache down")

    monkeypatch.setattr(SAMLProviderConfig.objects, "current_set", broken)

    _login(lms.user(), "gtx-sso:alice", django_capture_on_commit_callbacks)

    assert "Could not read the SAML provider" in caplog.text


def test_saving_the_identity_again_is_harmless(gtx, django_capture_on_commit_callbacks):
    program = lms.program(COURSE)
    enrollment = _enroll(program, "alice")
    learner = lms.user()
    identity = _login(learner, "gtx-sso:alice", django_capture_on_commit_callbacks)
    history_rows = ProgramEnrollment.history.filter(id=enrollment.id).count()

    with django_capture_on_commit_callbacks(execute=True):
        identity.save()  # every login updates the identity's extra data

    enrollment.refresh_from_db()
    assert enrollment.user == learner
    assert ProgramEnrollment.history.filter(id=enrollment.id).count() == history_rows


# --- retirement ---------------------------------------------------------------------------------


def _retired(key: str) -> str:
    return "retired_external_key_" + hashlib.sha1((SALTS[-1] + key.lower()).encode()).hexdigest()


def _retire(learner):
    from openedx.core.djangoapps.user_api.accounts.signals import USER_RETIRE_LMS_MISC

    USER_RETIRE_LMS_MISC.send(sender=None, user=learner)


@override_settings(RETIRED_USER_SALTS=SALTS)
def test_retirement_leaves_no_trace_of_the_key(gtx, django_capture_on_commit_callbacks):
    first, second = lms.program(COURSE), lms.program("course-v1:GTx+CS102+2026")
    learner = lms.user()
    in_first = _enroll(first, "Dave")
    in_second = _enroll(second, "DAVE", course="course-v1:GTx+CS102+2026")
    _login(learner, "gtx-sso:dave", django_capture_on_commit_callbacks)
    api.write_program_enrollments(
        program_uuid=first["uuid"], requests=[ProgramEnrollmentRequest("dave", "suspended")], create=False, update=True
    )

    _retire(learner)

    retired = _retired("dave")
    for enrollment in (in_first, in_second):
        enrollment.refresh_from_db()
        assert enrollment.external_user_key == retired
        assert enrollment.external_user_key_normalized == retired
        assert enrollment.learner_ref == f"user:{learner.id}"
        history = ProgramEnrollment.history.filter(id=enrollment.id)
        assert {row.external_user_key for row in history} == {retired}
        assert history.first().history_change_reason == RETIREMENT_REASON
    everything = list(ProgramEnrollment.objects.values_list("external_user_key", flat=True)) + list(
        ProgramEnrollment.history.values_list("external_user_key", flat=True)
    )
    assert not any("dave" in (key or "").lower() for key in everything)
    # Registrar reads by key: the retired key is still the learner's one key in each program.
    assert api.get_program_enrollment(program_uuid=first["uuid"], student_key=retired) == in_first
    assert in_first.status == "suspended"


@override_settings(RETIRED_USER_SALTS=SALTS)
def test_retirement_is_safe_to_repeat(gtx, django_capture_on_commit_callbacks):
    program = lms.program(COURSE)
    learner = lms.user()
    enrollment = _enroll(program, "erin")
    _login(learner, "gtx-sso:erin", django_capture_on_commit_callbacks)
    _retire(learner)
    rows = ProgramEnrollment.history.filter(id=enrollment.id).count()

    _retire(learner)

    enrollment.refresh_from_db()
    assert enrollment.external_user_key == _retired("erin")
    assert ProgramEnrollment.history.filter(id=enrollment.id).count() == rows


@override_settings(RETIRED_USER_SALTS=SALTS)
def test_retirement_touches_only_the_retired_learner(gtx, django_capture_on_commit_callbacks):
    lms.organization("MITx")
    program = lms.program(COURSE)
    retiring, staying = lms.user(), lms.user()
    _enroll(program, "frank")
    kept = _enroll(program, "grace")
    # The same key at another organization is another person's, never linked to the learner.
    elsewhere = _enroll(
        lms.program("course-v1:MITx+6.00+2026", organization_key="MITx"), "frank", course="course-v1:MITx+6.00+2026"
    )
    _login(retiring, "gtx-sso:frank", django_capture_on_commit_callbacks)
    _login(staying, "gtx-sso:grace", django_capture_on_commit_callbacks)

    _retire(retiring)

    for enrollment, key in ((kept, "grace"), (elsewhere, "frank")):
        enrollment.refresh_from_db()
        assert enrollment.external_user_key == key
        assert set(ProgramEnrollment.history.filter(id=enrollment.id).values_list("external_user_key", flat=True)) == {
            key
        }
    assert elsewhere.user is None


@override_settings(RETIRED_USER_SALTS=SALTS)
def test_retirement_of_a_learner_without_program_enrollments_changes_nothing():
    learner = lms.user()
    _retire(learner)
    assert not ProgramEnrollment.objects.exists()


@override_settings(RETIRED_USER_SALTS=SALTS)
def test_retirement_covers_the_history_of_deleted_enrollments(gtx, django_capture_on_commit_callbacks):
    program = lms.program(COURSE)
    learner = lms.user()
    enrollment = _enroll(program, "heidi")
    _login(learner, "gtx-sso:heidi", django_capture_on_commit_callbacks)
    enrollment_id = enrollment.id
    enrollment.delete()

    _retire(learner)

    keys = set(ProgramEnrollment.history.filter(id=enrollment_id).values_list("external_user_key", flat=True))
    assert keys == {_retired("heidi")}


@override_settings(RETIRED_USER_SALTS=SALTS)
def test_retirement_reaches_what_the_adoption_of_built_in_tables_kept(gtx, django_capture_on_commit_callbacks):
    """Rows merged into the learner's enrollment on adoption, and the records of it, lose the key too."""
    from program_enrollments.models import AdoptionRecord

    program = lms.program(COURSE)
    learner = lms.user()
    kept = _enroll(program, "Hugo-7")
    _login(learner, "gtx-sso:hugo-7", django_capture_on_commit_callbacks)
    # As migration 0013 leaves an enrollment it merged (same key in another curriculum): archived,
    # its history rows kept, the record holding the row as it was.
    merged_id = kept.id + 1000
    history = ProgramEnrollment.history.model
    history.objects.create(
        id=merged_id,
        external_user_key="HUGO-7",
        program_uuid=program["uuid"],
        curriculum_uuid=kept.curriculum_uuid,
        status="enrolled",
        history_date=kept.created,
        history_type="+",
    )
    AdoptionRecord.objects.create(
        table="programenrollment",
        row_id=merged_id,
        action="archived",
        kept_row_id=kept.id,
        reason=f"Archived on adoption: merged into program enrollment {kept.id}, because the student key "
        f"'HUGO-7' is also program enrollment {kept.id} ignoring case.",
        data={"id": merged_id, "external_user_key": "HUGO-7", "status": "enrolled"},
    )
    other = AdoptionRecord.objects.create(
        table="programenrollment",
        row_id=7,
        action="archived",
        reason="Archived on adoption: 'hugo-70' is not Hugo.",
        data={"external_user_key": "hugo-70"},
    )

    _retire(learner)

    retired = _retired("hugo-7")
    assert set(history.objects.filter(id=merged_id).values_list("external_user_key", flat=True)) == {retired}
    record = AdoptionRecord.objects.get(row_id=merged_id)
    assert record.data["external_user_key"] == retired
    assert "hugo" not in record.reason.lower() and repr(retired) in record.reason
    assert str(kept.id) in record.reason
    everything = [str(record.data) + record.reason for record in AdoptionRecord.objects.exclude(id=other.id)]
    everything += list(ProgramEnrollment.history.values_list("external_user_key", flat=True))
    assert not any("hugo-7" in (text or "").lower() for text in everything)
    other.refresh_from_db()
    assert other.data == {"external_user_key": "hugo-70"} and "'hugo-70'" in other.reason
