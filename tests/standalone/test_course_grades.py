"""The standalone host's grade records: the CSV loader, and the demo's grades read through the API."""

import pytest
from django.core.management import CommandError, call_command

from program_enrollments import api
from program_enrollments.standalone.lms.models import CourseGrade
from tests import catalog as c
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

COURSE = c.SHARED_COURSE


def load(tmp_path, text):
    path = tmp_path / "grades.csv"
    path.write_text(text, encoding="utf-8")
    call_command("load_course_grades", str(path))


def test_grades_are_loaded_and_replaced(tmp_path):
    UserFactory(username="ann")
    UserFactory(username="bob")
    load(tmp_path, f"Username,course_id,percent,letter_grade\nann,{COURSE},0.9,Pass\nbob,{COURSE},0.2,\n")
    grades = {g.user.username: (g.percent, g.letter_grade, g.passed) for g in CourseGrade.objects.all()}
    assert grades == {"ann": (0.9, "Pass", True), "bob": (0.2, "", False)}
    load(tmp_path, f"username,course_id,percent,passed\nbob,{COURSE},0.7,true\n")
    assert CourseGrade.objects.get(user__username="bob").passed is True
    assert CourseGrade.objects.count() == 2


@pytest.mark.parametrize(
    "text, message",
    [
        ("username,percent\nann,0.5\n", "lacks course_id"),
        (f"username,course_id,percent\nnobody,{COURSE},0.5\n", "line 2: no user named 'nobody'"),
        ("username,course_id,percent\nann,not a key,0.5\n", "is not a course key"),
        (f"username,course_id,percent\nann,{COURSE},1.5\n", "is not between 0 and 1"),
        (f"username,course_id,percent\nann,{COURSE},lots\n", "is not a number"),
        (f"username,course_id,percent,passed\nann,{COURSE},0.5,maybe\n", "neither true nor false"),
        (f"username,course_id,percent\nann,{COURSE},0.5\nann,{COURSE},0.6\n", "line 3: ann in"),
        ("username,course_id,percent\n", "lists no grades"),
    ],
)
def test_a_bad_row_loads_nothing(tmp_path, text, message):
    UserFactory(username="ann")
    with pytest.raises(CommandError, match=message):
        load(tmp_path, text if "lists no" in message else text + f"ann,{c.SECOND_SHARED_COURSE},0.5\n")
    assert not CourseGrade.objects.exists()


def test_the_demo_has_grades_to_read(catalog):
    call_command("setup_demo")
    results = list(api.iter_program_course_grades(program_uuid=c.CYBERSECURITY, course_key=COURSE))
    grades = {result.student_key: (result.grade.passed, result.grade.percent) for result in results}
    assert grades == {"GT-1001": (True, 0.92), "GT-1002": (False, 0.41), "GT-1003": (False, 0.0)}
