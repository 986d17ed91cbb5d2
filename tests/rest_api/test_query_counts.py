"""A REST write's SQL query count does not grow with its learners, nor a read page's with its size.

But for the writes of realized learners' course enrollments in the Open edX host (see tests/api/test_query_counts.py).
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import catalog as c
from tests.api.test_query_counts import _learners, assert_query_counts, sizes

pytestmark = pytest.mark.django_db

BASE = "/api/program_enrollments/v1"
PROGRAM = f"{BASE}/programs/{c.CYBERSECURITY}/enrollments/"
COURSE = f"{BASE}/programs/{c.CYBERSECURITY}/courses/{c.SHARED_COURSE}/enrollments/"


def _queries(call):
    with CaptureQueriesContext(connection) as queries:
        response = call()
    assert response.status_code == 200, response.content
    return len(queries), response


@pytest.mark.parametrize("realized", [False, True], ids=["waiting", "realized"])
def test_write_and_read_query_counts_are_flat(catalog, staff, realized):
    counts = {}
    for size in sizes(realized):
        keys = _learners(size, realized, f"http{int(realized)}")
        program_items = [
            {"student_key": key, "status": "enrolled", "curriculum_uuid": str(c.CYBERSECURITY_CURRICULUM)}
            for key in keys
        ]
        course_items = [{"student_key": key, "status": "active"} for key in keys]
        step = {}
        step["program put"], _ = _queries(lambda items=program_items: staff.put(PROGRAM, items))
        step["course put"], _ = _queries(lambda items=course_items: staff.put(COURSE, items))
        step["course patch"], _ = _queries(lambda items=course_items: staff.patch(COURSE, items))
        step["program page"], response = _queries(lambda size=size: staff.get(PROGRAM, {"page_size": size}))
        assert len(response.json()["results"]) == size
        step["course page"], response = _queries(lambda size=size: staff.get(COURSE, {"page_size": size}))
        assert len(response.json()["results"]) == size
        counts[size] = step
        # Start the next size from an empty program.
        from program_enrollments.models import ProgramEnrollment

        ProgramEnrollment.objects.all().delete()
    assert_query_counts(counts, per_learner=["course put"] if realized else [])
