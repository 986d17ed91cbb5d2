"""System checks name misconfigurations with stable ids."""

import pytest
from django.core import checks
from django.test import override_settings

from program_enrollments import conf
from tests.settings import override_program_enrollments


def _ids():
    return {message.id for message in checks.run_checks() if message.id.startswith("program_enrollments.")}


def test_default_configuration_passes():
    assert _ids() == set()


@override_program_enrollments(LMS_BACKEND="no.such.Backend")
def test_unimportable_backend_is_reported():
    assert _ids() == {"program_enrollments.E001"}


@override_program_enrollments(CATALOG_BACKEND="program_enrollments.conf.get")
def test_backend_of_the_wrong_type_is_reported():
    assert _ids() == {"program_enrollments.E002"}


@override_settings(PROGRAM_ENROLLMENTS_COURSE_ENROLLMENT_MODEL="student.CourseEnrollment")
def test_missing_course_enrollment_model_is_reported():
    assert _ids() == {"program_enrollments.E003"}


@override_program_enrollments(WRITE_CHUNK_SIZE=0)
def test_bad_chunk_size_is_reported():
    assert _ids() == {"program_enrollments.E004"}


@pytest.mark.parametrize("seconds", [0, -5, "120", 1.5, True])
def test_bad_stalled_job_seconds_is_reported(seconds):
    with override_program_enrollments(STALLED_JOB_SECONDS=seconds):
        assert _ids() == {"program_enrollments.E008"}


@override_program_enrollments(WRITE_CHUNK_SIZE=7)
def test_settings_are_read_at_call_time():
    assert conf.get("WRITE_CHUNK_SIZE") == 7


@override_program_enrollments(MAX_BATCH_SIZE=24)
def test_batch_limit_below_25_is_reported():
    assert _ids() == {"program_enrollments.E005"}


@override_program_enrollments(MAX_BATCH_SIZE=25, PAGE_SIZE=0)
def test_bad_page_size_is_reported():
    assert _ids() == {"program_enrollments.E006"}


@override_settings(PROGRAM_ENROLLMENTS={})
def test_a_host_that_names_no_backends_fails_at_start_up():
    """No host's backends are a default: a host that names none fails the checks, not the first request."""
    messages = [
        message
        for message in checks.run_checks()
        if message.id in {"program_enrollments.E001", "program_enrollments.E002"}
    ]
    assert {message.id for message in messages} == {"program_enrollments.E001", "program_enrollments.E002"}
    assert all("is not set" in message.msg for message in messages)
    with pytest.raises(conf.BackendNotConfigured, match="LMS_BACKEND"):
        conf.backend_class("LMS_BACKEND")


_STAFF_MAPPING_CASES = {
    "library-default": {},
    "administrator-to-staff": {"JWT_PAYLOAD_USER_ATTRIBUTE_MAPPING": {"administrator": "is_staff"}},
    "claim-to-superuser": {"JWT_PAYLOAD_USER_ATTRIBUTE_MAPPING": {"email": "email", "root": "is_superuser"}},
    "claim-to-active": {"JWT_PAYLOAD_USER_ATTRIBUTE_MAPPING": {"active": "is_active"}},
}


@pytest.mark.parametrize("extensions", _STAFF_MAPPING_CASES.values(), ids=_STAFF_MAPPING_CASES)
def test_jwt_claims_copied_onto_privilege_fields_are_reported(extensions):
    with override_settings(EDX_DRF_EXTENSIONS=extensions):
        messages = [m for m in checks.run_checks() if m.id == "program_enrollments.E007"]
    assert len(messages) == 1 and messages[0].level == checks.ERROR
    assert "JWT_PAYLOAD_USER_ATTRIBUTE_MAPPING" in messages[0].msg and messages[0].hint


@pytest.mark.parametrize("mapping", [{}, {"email": "email"}])
def test_jwt_claims_copied_onto_other_fields_pass(mapping):
    with override_settings(EDX_DRF_EXTENSIONS={"JWT_PAYLOAD_USER_ATTRIBUTE_MAPPING": mapping}):
        assert "program_enrollments.E007" not in _ids()


def test_privilege_mapping_without_edx_jwt_authentication_passes(settings):
    session = ["rest_framework.authentication.SessionAuthentication"]
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_AUTHENTICATION_CLASSES": session}
    with override_program_enrollments(AUTHENTICATION_CLASSES=session), override_settings(EDX_DRF_EXTENSIONS={}):
        assert "program_enrollments.E007" not in _ids()
