"""Importing the catalog from the course-discovery program format."""

import json

import pytest
from django.core.management import CommandError, call_command

from program_enrollments.backends import catalog_backend
from program_enrollments.standalone.catalog.models import CourseRun, Curriculum, Program
from tests import catalog as test_catalog

pytestmark = pytest.mark.django_db

DEMO = json.loads(test_catalog.DEMO_CATALOG.read_text(encoding="utf-8"))


def _write(tmp_path, document, name="programs.json"):
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    "shape",
    ["envelope", "list", "single"],
)
def test_each_document_shape_loads(tmp_path, shape, capsys):
    document = {"envelope": DEMO, "list": DEMO["results"], "single": DEMO["results"][2]}[shape]
    call_command("load_programs", _write(tmp_path, document))
    expected = 3 if shape != "single" else 1
    assert Program.objects.count() == expected
    noun = "programs" if expected != 1 else "program"
    assert f"Loaded {expected} {noun} from" in capsys.readouterr().out


def test_loading_twice_changes_nothing(tmp_path):
    path = _write(tmp_path, DEMO)
    call_command("load_programs", path)
    snapshot = (
        list(Program.objects.values_list("id", "uuid", "title")),
        list(Curriculum.objects.values_list("id", "uuid", "is_active")),
        sorted(CourseRun.objects.values_list("id", "key")),
        sorted(Curriculum.course_runs.through.objects.values_list("curriculum_id", "courserun_id")),
    )
    call_command("load_programs", path)
    assert snapshot == (
        list(Program.objects.values_list("id", "uuid", "title")),
        list(Curriculum.objects.values_list("id", "uuid", "is_active")),
        sorted(CourseRun.objects.values_list("id", "key")),
        sorted(Curriculum.course_runs.through.objects.values_list("curriculum_id", "courserun_id")),
    )


def test_reloading_updates_titles_and_course_lists(tmp_path):
    call_command("load_programs", _write(tmp_path, DEMO))
    changed = json.loads(json.dumps(DEMO["results"][0]))
    changed["title"] = "Renamed"
    changed["curricula"][0]["courses"] = changed["curricula"][0]["courses"][:1]
    call_command("load_programs", _write(tmp_path, changed, "changed.json"))
    program = catalog_backend().get_program(changed["uuid"])
    assert program.title == "Renamed"
    assert program.course_keys() == {"course-v1:GTx+CS6035+2020_Spring"}


def test_catalog_backend_describes_the_shared_program(tmp_path):
    call_command("load_programs", _write(tmp_path, DEMO))
    other = catalog_backend().get_program("38bf8bae-2aba-5ad8-9e83-12beb8b72442")
    first = catalog_backend().get_program("509c2e6c-f4e2-5b32-bc77-5137159b0719")
    second = catalog_backend().get_program("28385600-2327-5a6a-af0e-fd1f9e3790db")
    assert other.organization_key == "GTx"
    assert other.course_keys() == first.course_keys() | second.course_keys()
    assert len(other.course_keys()) == 8


def test_inactive_curriculum_courses_are_not_in_the_program(tmp_path):
    program = json.loads(json.dumps(DEMO["results"][0]))
    program["curricula"][0]["is_active"] = False
    call_command("load_programs", _write(tmp_path, program))
    assert catalog_backend().get_program(program["uuid"]).course_keys() == frozenset()


@pytest.mark.parametrize(
    "document, message",
    [
        ("{not json", "not valid JSON"),
        ("42", "expected a program object"),
        ({"uuid": "x", "title": "t"}, "program 0: 'x' is not a UUID"),
        ({"uuid": "509c2e6c-f4e2-5b32-bc77-5137159b0719", "title": "t", "authoring_organizations": []}, "is empty"),
        (
            {
                "uuid": "509c2e6c-f4e2-5b32-bc77-5137159b0719",
                "title": "t",
                "authoring_organizations": [{"key": "GTx"}],
                "curricula": [
                    {
                        "uuid": "8f6bcfd1-48ca-5ba6-ae52-0572a322788d",
                        "courses": [{"course_runs": [{"key": "not a key"}]}],
                    }
                ],
            },
            "program 0, curriculum 0, course 0, run 0: 'not a key' is not a valid course key",
        ),
    ],
)
def test_malformed_documents_are_refused_with_their_location(tmp_path, document, message):
    with pytest.raises(CommandError, match=message):
        call_command("load_programs", _write(tmp_path, document))
    assert not Program.objects.exists()


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("load_programs", str(tmp_path / "absent.json"))


def test_setup_demo_is_repeatable(capsys):
    call_command("setup_demo")
    call_command("setup_demo")
    from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment

    assert ProgramEnrollment.objects.count() == 4
    assert ProgramCourseEnrollment.objects.filter(status="active").count() == 4
    assert "Admin: username 'admin', password 'admin'" in capsys.readouterr().out
