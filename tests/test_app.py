"""How an Open edX LMS discovers and configures the app."""

import types
from importlib import import_module
from pathlib import Path

from django.apps import apps

from program_enrollments.settings.common import plugin_settings


def test_plugin_app_mounts_urls_under_the_open_edx_path():
    config = apps.get_app_config("program_enrollments").plugin_app["url_config"]["lms.djangoapp"]
    assert config["regex"] == r"^api/program_enrollments/"
    assert import_module(f"program_enrollments.{config['relative_path']}").urlpatterns is not None


def test_plugin_settings_point_at_the_lms_course_enrollment_model():
    settings = types.SimpleNamespace()
    plugin_settings(settings)
    assert settings.PROGRAM_ENROLLMENTS_COURSE_ENROLLMENT_MODEL == "student.CourseEnrollment"
    settings.PROGRAM_ENROLLMENTS_COURSE_ENROLLMENT_MODEL = "custom.Enrollment"
    plugin_settings(settings)
    assert settings.PROGRAM_ENROLLMENTS_COURSE_ENROLLMENT_MODEL == "custom.Enrollment"


def test_entry_point_is_declared():
    setup = (Path(__file__).resolve().parents[1] / "setup.py").read_text(encoding="utf-8")
    assert '"lms.djangoapp"' in setup
    assert "program_enrollments = program_enrollments.apps:ProgramEnrollmentsConfig" in setup


def test_course_enrollment_foreign_key_follows_the_setting():
    from program_enrollments.models import ProgramCourseEnrollment

    field = ProgramCourseEnrollment._meta.get_field("course_enrollment")
    assert field.related_model._meta.label == "lms.CourseEnrollment"
    assert field.swappable_setting == "PROGRAM_ENROLLMENTS_COURSE_ENROLLMENT_MODEL"
