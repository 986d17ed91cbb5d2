"""How an Open edX LMS or CMS discovers and configures the app."""

import types
from importlib import import_module
from importlib.metadata import entry_points

from django.apps import apps

from program_enrollments.openedx.settings import plugin_settings


def test_plugin_app_mounts_urls_where_open_edx_mounted_its_own_app():
    config = apps.get_app_config("program_enrollments").plugin_app["url_config"]["lms.djangoapp"]
    assert config["regex"] == r"^api/program_enrollments/"
    assert config["namespace"] == "programs_api"
    assert import_module(f"program_enrollments.{config['relative_path']}").urlpatterns is not None


def test_plugin_settings_point_at_the_lms_course_enrollments_and_the_open_edx_backends():
    settings = types.SimpleNamespace()
    plugin_settings(settings)
    assert settings.PROGRAM_ENROLLMENTS_COURSE_ENROLLMENT_MODEL == "student.CourseEnrollment"
    assert settings.PROGRAM_ENROLLMENTS["LMS_BACKEND"] == "program_enrollments.openedx.backends.OpenEdxLMSBackend"
    settings.PROGRAM_ENROLLMENTS_COURSE_ENROLLMENT_MODEL = "custom.Enrollment"
    settings.PROGRAM_ENROLLMENTS = {"LMS_BACKEND": "custom.Backend"}
    settings.INSTALLED_APPS = ["lms.djangoapps.grades", "drf_spectacular"]
    settings.SPECTACULAR_SETTINGS = {"REDOC_DIST": "https://cdn.example.com/redoc"}
    plugin_settings(settings)
    assert settings.PROGRAM_ENROLLMENTS_COURSE_ENROLLMENT_MODEL == "custom.Enrollment"
    assert settings.PROGRAM_ENROLLMENTS["LMS_BACKEND"] == "custom.Backend"
    # The schema and documentation page need drf-spectacular's apps; what the operator set is kept.
    assert settings.INSTALLED_APPS == ["lms.djangoapps.grades", "drf_spectacular", "drf_spectacular_sidecar"]
    assert settings.SPECTACULAR_SETTINGS["REDOC_DIST"] == "https://cdn.example.com/redoc"
    assert settings.SPECTACULAR_SETTINGS["SWAGGER_UI_DIST"] == "SIDECAR"


def test_plugin_paths_resolve_inside_the_package():
    plugin = apps.get_app_config("program_enrollments").plugin_app
    for project in ("lms.djangoapp", "cms.djangoapp"):
        path = plugin["settings_config"][project]["common"]["relative_path"]
        assert callable(import_module(f"program_enrollments.{path}").plugin_settings)
    signals = plugin["signals_config"]["lms.djangoapp"]
    receivers = import_module(f"program_enrollments.{signals['relative_path']}")
    for receiver in signals["receivers"]:
        assert callable(getattr(receivers, receiver["receiver_func_name"]))


def test_entry_points_have_a_name_of_their_own():
    """Open edX's built-in app is the entry point ``program_enrollments``; ours must never share it."""
    for group in ("lms.djangoapp", "cms.djangoapp"):
        ours = [point for point in entry_points(group=group) if point.value.startswith("program_enrollments.")]
        assert [(point.name, point.value) for point in ours] == [
            ("program_enrollments_plugin", "program_enrollments.apps:ProgramEnrollmentsConfig")
        ]


def test_course_enrollment_foreign_key_follows_the_setting_and_keeps_open_edx_reverse_names():
    from program_enrollments.models import ProgramCourseEnrollment

    field = ProgramCourseEnrollment._meta.get_field("course_enrollment")
    assert field.related_model._meta.label == "lms.CourseEnrollment"
    assert field.swappable_setting == "PROGRAM_ENROLLMENTS_COURSE_ENROLLMENT_MODEL"
    assert field.related_query_name() == "programcourseenrollment"
    assert field.remote_field.get_accessor_name() == "programcourseenrollment_set"
