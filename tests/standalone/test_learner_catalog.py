"""The standalone host's catalog and LMS as the learner pages read them (schedules, slugs, roles)."""

from datetime import UTC, datetime

import pytest

from program_enrollments.backends import catalog_backend, lms_backend
from program_enrollments.standalone.catalog.loading import CatalogFormatError, load_programs, parse_document
from program_enrollments.standalone.catalog.models import CourseRun
from program_enrollments.standalone.lms.models import CourseAccessRole
from tests import catalog as c
from tests.factories import CourseEnrollmentFactory, UserFactory

pytestmark = pytest.mark.django_db

KEY = "course-v1:GTx+SCHED+2021"


def _document(run):
    program = c.program_document(
        c.CYBERSECURITY,
        title="Cyber",
        organization_key="GTx",
        type_="Masters",
        curricula=[c.curriculum_document(c.CYBERSECURITY_CURRICULUM, [KEY])],
    )
    program["marketing_slug"] = "cyber"
    program["curricula"][0]["courses"][0]["course_runs"] = [{"key": KEY, **run}]
    return program


def _load(run):
    import json

    load_programs(parse_document(json.dumps(_document(run))))


def test_loading_reads_run_schedules_and_the_marketing_slug():
    _load({"start": "2021-01-10T00:00:00Z", "end": "2021-05-01T00:00:00Z", "pacing_type": "self_paced"})
    run = CourseRun.objects.get(key=KEY)
    assert (run.start, run.end, run.self_paced) == (
        datetime(2021, 1, 10, tzinfo=UTC),
        datetime(2021, 5, 1, tzinfo=UTC),
        True,
    )
    program = catalog_backend().get_program(c.CYBERSECURITY)
    assert (program.type, program.marketing_slug) == ("Masters", "cyber")
    _load({"start": "2021-02-01T00:00:00", "pacing_type": "instructor_paced"})
    run.refresh_from_db()
    assert (run.start, run.end, run.self_paced) == (datetime(2021, 2, 1, tzinfo=UTC), run.end, False)


def test_a_bad_date_names_where_it_is():
    with pytest.raises(CatalogFormatError, match="run 0: 'start'"):
        _load({"start": "next tuesday"})


def test_backend_reads_enrollments_overviews_and_roles(catalog):
    user = UserFactory()
    _load({"start": "2021-01-10T00:00:00Z"})
    kept = CourseEnrollmentFactory(user=user, course_id=KEY, mode="verified")
    CourseEnrollmentFactory(user=user, course_id=c.SHARED_COURSE, mode="audit")
    backend = lms_backend()
    assert backend.get_user_course_enrollments(user.id, [KEY, c.SHARED_COURSE], modes=["verified"]) == [(kept.id, KEY)]
    overview = backend.get_course_run_overviews([KEY, "course-v1:GTx+NONE+1"], user.id)
    assert list(overview) == [KEY]
    assert overview[KEY].course_run_url == f"/courses/{KEY}/"
    assert overview[KEY].start == datetime(2021, 1, 10, tzinfo=UTC)
    CourseAccessRole.objects.create(user=user, course_id=KEY, org="GTx", role="instructor")
    CourseAccessRole.objects.create(user=user, org="GTx", role="staff")  # an org-wide role: no course run
    CourseAccessRole.objects.create(user=user, course_id=c.SHARED_COURSE, org="GTx", role="beta_testers")
    assert backend.get_courses_with_staff_role(user.id) == {KEY}
    programs = catalog_backend().get_programs_with_course_runs([KEY])
    assert [program.uuid for program in programs] == [c.CYBERSECURITY]
    assert {p.uuid for p in catalog_backend().get_programs_of_organizations(["MITx"])} == {c.MIT}
