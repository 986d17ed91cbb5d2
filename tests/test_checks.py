"""System checks name misconfigurations with stable ids."""

from django.core import checks
from django.test import override_settings

from program_enrollments import conf


def _ids():
    return {message.id for message in checks.run_checks() if message.id.startswith("program_enrollments.")}


def test_default_configuration_passes():
    assert _ids() == set()


@override_settings(PROGRAM_ENROLLMENTS={"LMS_BACKEND": "no.such.Backend"})
def test_unimportable_backend_is_reported():
    assert _ids() == {"program_enrollments.E001"}


@override_settings(PROGRAM_ENROLLMENTS={"CATALOG_BACKEND": "program_enrollments.conf.get"})
def test_backend_of_the_wrong_type_is_reported():
    assert _ids() == {"program_enrollments.E002"}


@override_settings(PROGRAM_ENROLLMENTS_COURSE_ENROLLMENT_MODEL="student.CourseEnrollment")
def test_missing_course_enrollment_model_is_reported():
    assert _ids() == {"program_enrollments.E003"}


@override_settings(PROGRAM_ENROLLMENTS={"WRITE_CHUNK_SIZE": 0})
def test_bad_chunk_size_is_reported():
    assert _ids() == {"program_enrollments.E004"}


@override_settings(PROGRAM_ENROLLMENTS={"WRITE_CHUNK_SIZE": 7})
def test_settings_are_read_at_call_time():
    assert conf.get("WRITE_CHUNK_SIZE") == 7


@override_settings(PROGRAM_ENROLLMENTS={"MAX_BATCH_SIZE": 24})
def test_batch_limit_below_25_is_reported():
    assert _ids() == {"program_enrollments.E005"}


@override_settings(PROGRAM_ENROLLMENTS={"MAX_BATCH_SIZE": 25, "PAGE_SIZE": 0})
def test_bad_page_size_is_reported():
    assert _ids() == {"program_enrollments.E006"}
