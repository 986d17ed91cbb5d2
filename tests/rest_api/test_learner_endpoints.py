"""The learner pages' endpoints, side by side with the Open edX built-in app's documented behaviour.

Built-in (``lms/djangoapps/program_enrollments/rest_api/v1/views.py`` and ``utils.py``):

* ``programs/enrollments/`` and ``programs/readonly_access/`` are one view: any signed-in user gets
  200 and a list of ``{"uuid", "slug"}``: every program of ``?type`` (default ``masters``) for
  global staff; else the programs of the type containing a course run they are course staff or
  instructor of, then the programs they are enrolled or pending in;
* ``users/{username}/programs/{uuid}/courses``: 404 ``program_does_not_exist`` for an unknown
  program, 403 unless the caller is ``enrolled`` in it, 403 for another user's name; a cursor page
  (10, at most 25) of the caller's active verified/masters/... enrollments in the program's runs;
* ``programs/{uuid}/overview/``: the same rules, ``{"course_runs": [...]}``, unpaged;
* errors are ``{"developer_message": ...}``; 401 without credentials.
"""

from datetime import timedelta
from uuid import UUID

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from program_enrollments.api.learner import CourseRunProgress, course_run_progress
from program_enrollments.data import CourseRunOverviewData
from program_enrollments.models import OrganizationGrant
from tests import catalog as c
from tests import hosts
from tests.factories import (
    CourseEnrollmentFactory,
    ProgramEnrollmentFactory,
    UserFactory,
    grant_enrollment_permissions,
)
from tests.rest_api.conftest import Caller

pytestmark = pytest.mark.django_db

BASE = "/api/program_enrollments/v1"
READONLY = f"{BASE}/programs/readonly_access/"
LEARNER_PROGRAMS = f"{BASE}/programs/enrollments/"
GTX_MASTERS = {str(c.CYBERSECURITY), str(c.ANALYTICS), str(c.OTHER)}
UNKNOWN = UUID("00000000-0000-0000-0000-00000000abcd")

NOW = timezone.now()
PAST = NOW - timedelta(days=400)
RECENT = NOW - timedelta(days=10)
SOON = NOW + timedelta(days=10)
LATER = NOW + timedelta(days=400)


def courses_url(username, program_uuid):
    return f"{BASE}/users/{username}/programs/{program_uuid}/courses"


def overview_url(program_uuid):
    return f"{BASE}/programs/{program_uuid}/overview/"


def uuids(response):
    return {item["uuid"] for item in response.json()}


@pytest.fixture
def learner(catalog):
    user = UserFactory(username="learner")
    ProgramEnrollmentFactory(user=user, external_user_key="k-1", program_uuid=c.CYBERSECURITY, status="enrolled")
    return Caller(user)


# --- readonly_access and programs/enrollments ------------------------------------------------------


@pytest.mark.parametrize("path", [READONLY, LEARNER_PROGRAMS])
def test_anonymous_is_401_with_a_developer_message(catalog, anonymous, path):
    response = anonymous.get(path)
    assert response.status_code == 401
    assert "developer_message" in response.json()


@pytest.mark.parametrize("path", [READONLY, LEARNER_PROGRAMS])
def test_learner_gets_the_programs_they_are_enrolled_or_pending_in_whatever_the_type(catalog, path):
    user = UserFactory(username="many")
    ProgramEnrollmentFactory(user=user, program_uuid=c.CYBERSECURITY, status="enrolled")
    ProgramEnrollmentFactory(
        user=user, program_uuid=c.MIT, curriculum_uuid=c.MIT_CURRICULUM, status="pending", external_user_key="m"
    )
    ProgramEnrollmentFactory(
        user=user, program_uuid=c.ANALYTICS, curriculum_uuid=c.ANALYTICS_CURRICULUM, status="suspended"
    )
    response = Caller(user).get(path)
    assert response.status_code == 200
    assert uuids(response) == {str(c.CYBERSECURITY), str(c.MIT)}
    assert set(response.json()[0]) == {"uuid", "slug"}


def test_a_user_with_nothing_gets_an_empty_list(catalog, outsider):
    response = outsider.get(READONLY)
    assert response.status_code == 200
    assert response.json() == []


def test_global_staff_get_every_program_of_the_type_default_masters(catalog):
    staff = Caller(UserFactory(username="global-staff", is_staff=True))
    assert uuids(staff.get(READONLY)) == GTX_MASTERS
    assert uuids(staff.get(READONLY, {"type": "MicroMasters"})) == {str(c.MIT)}
    assert uuids(staff.get(READONLY, {"type": "MASTERS"})) == GTX_MASTERS
    assert staff.get(READONLY, {"type": "bachelors"}).json() == []


def test_readers_of_every_program_count_as_staff(catalog):
    reader = Caller(grant_enrollment_permissions(UserFactory(username="viewer"), write=False))
    assert uuids(reader.get(READONLY)) == GTX_MASTERS


def test_an_organization_grant_lists_the_organizations_programs_of_the_type(catalog, gtx_reader):
    assert uuids(gtx_reader.get(READONLY)) == GTX_MASTERS
    assert gtx_reader.get(READONLY, {"type": "MicroMasters"}).json() == []


def test_course_staff_and_instructors_get_the_programs_of_their_course_runs(catalog):
    user = UserFactory(username="instructor")
    hosts.add_course_role(user, c.ANALYTICS_COURSE, "instructor")
    hosts.add_course_role(user, c.LONE_COURSE, "staff")
    caller = Caller(user)
    assert uuids(caller.get(READONLY)) == {str(c.ANALYTICS), str(c.OTHER)}
    other = UserFactory(username="course-staff")
    hosts.add_course_role(other, c.SHARED_COURSE, "staff")
    assert uuids(Caller(other).get(READONLY, {"type": "micromasters"})) == {str(c.MIT)}


def test_the_slug_is_the_programs_marketing_slug(catalog, learner):
    program = c.program(c.CYBERSECURITY)
    program["marketing_slug"] = "cybersecurity-masters"
    hosts.add_programs([program])
    assert learner.get(READONLY).json() == [{"uuid": str(c.CYBERSECURITY), "slug": "cybersecurity-masters"}]


def test_restricted_applications_are_refused(catalog, restricted_gtx):
    assert restricted_gtx.get(READONLY).status_code == 403


# --- the learner's course runs in a program ---------------------------------------------------------


def _enroll(user, course_key, mode="masters", is_active=True):
    return CourseEnrollmentFactory(user=user, course_id=course_key, mode=mode, is_active=is_active)


def test_unknown_program_is_404_before_anything_else(catalog, learner):
    for path in (courses_url("learner", UNKNOWN), overview_url(UNKNOWN), courses_url("learner", "abc-")):
        response = learner.get(path)
        assert response.status_code == 404, path
        assert response.json() == {
            "developer_message": "no program exists with given key",
            "error_code": "program_does_not_exist",
        }


@pytest.mark.parametrize("status", ["pending", "suspended", "canceled", "ended"])
def test_only_an_enrolled_learner_sees_the_program_pages(catalog, status):
    user = UserFactory(username="notyet")
    ProgramEnrollmentFactory(user=user, program_uuid=c.CYBERSECURITY, status=status)
    caller = Caller(user)
    for path in (courses_url("notyet", c.CYBERSECURITY), overview_url(c.CYBERSECURITY)):
        response = caller.get(path)
        assert response.status_code == 403
        assert "developer_message" in response.json()


def test_nobody_reads_another_users_course_runs_not_even_staff(catalog, learner, staff):
    assert learner.get(courses_url("someone-else", c.CYBERSECURITY)).status_code == 403
    ProgramEnrollmentFactory(user=staff.user, program_uuid=c.CYBERSECURITY, external_user_key="staff-key")
    assert staff.get(courses_url("learner", c.CYBERSECURITY)).status_code == 403
    assert staff.get(courses_url("staff", c.CYBERSECURITY)).status_code == 200


def test_anonymous_and_restricted_applications_are_refused(catalog, anonymous, restricted_gtx):
    assert anonymous.get(courses_url("learner", c.CYBERSECURITY)).status_code == 401
    assert anonymous.get(overview_url(c.CYBERSECURITY)).status_code == 401
    assert restricted_gtx.get(overview_url(c.CYBERSECURITY)).status_code == 403


def test_course_runs_are_the_active_paid_enrollments_in_the_programs_runs(catalog, learner):
    user = learner.user
    hosts.set_course_run(c.SHARED_COURSE, title="Intro to Security", start=RECENT, end=LATER)
    hosts.set_course_run(c.SECOND_SHARED_COURSE, title="Networks", start=SOON, end=LATER)
    hosts.set_course_run("course-v1:GTx+CS6262+2020_Spring", title="Network Security", start=PAST, end=RECENT)
    hosts.set_course_run("course-v1:GTx+CS6265+2020_Spring", title="Binary Exploitation", start=PAST)
    _enroll(user, c.SHARED_COURSE, "masters")
    _enroll(user, c.SECOND_SHARED_COURSE, "verified")  # bought, not through the program: listed too
    _enroll(user, "course-v1:GTx+CS6262+2020_Spring", "masters")
    _enroll(user, "course-v1:GTx+CS6265+2020_Spring", "audit")  # not a paid mode
    _enroll(user, c.ANALYTICS_COURSE, "masters")  # not in this program
    hosts.set_course_run(c.LONE_COURSE, title="Alone", start=RECENT)
    _enroll(user, c.LONE_COURSE, "masters", is_active=False)

    response = learner.get(courses_url("learner", c.CYBERSECURITY))
    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None and body["previous"] is None
    runs = body["results"]
    assert [run["course_run_id"] for run in runs] == [
        c.SHARED_COURSE,
        c.SECOND_SHARED_COURSE,
        "course-v1:GTx+CS6262+2020_Spring",
    ]
    first = runs[0]
    assert first["display_name"] == "Intro to Security"
    assert first["course_run_status"] == "in_progress"
    assert first["course_run_url"].startswith("http://testserver/")
    assert c.SHARED_COURSE in first["course_run_url"]
    assert first["start_date"].startswith(RECENT.strftime("%Y-%m-%dT%H:%M"))
    assert first["due_dates"] == []
    # A Masters program: no micromasters_title; no certificate, resume URL or bulk email here.
    assert set(first) == {
        "course_run_id",
        "display_name",
        "course_run_url",
        "start_date",
        "end_date",
        "course_run_status",
        "due_dates",
    }
    assert [run["course_run_status"] for run in runs] == ["in_progress", "upcoming", "completed"]


def test_overview_lists_the_same_runs_unpaged(catalog, learner):
    for index in range(4):
        key = f"course-v1:GTx+CS62{index}+2020_Spring"
        hosts.set_course_run(key, title=f"Run {index}", start=RECENT)
    program = c.program_document(
        c.CYBERSECURITY,
        title="Cyber",
        organization_key="GTx",
        type_="Masters",
        curricula=[
            c.curriculum_document(c.CYBERSECURITY_CURRICULUM, [f"course-v1:GTx+CS62{i}+2020_Spring" for i in range(4)])
        ],
    )
    hosts.add_programs([program])
    for index in range(4):
        _enroll(learner.user, f"course-v1:GTx+CS62{index}+2020_Spring")
    response = learner.get(overview_url(c.CYBERSECURITY))
    assert response.status_code == 200
    assert list(response.json()) == ["course_runs"]
    assert [run["display_name"] for run in response.json()["course_runs"]] == [f"Run {i}" for i in range(4)]
    paged = learner.get(courses_url("learner", c.CYBERSECURITY)).json()["results"]
    assert paged == response.json()["course_runs"]


def test_a_micromasters_program_repeats_its_title_on_each_run(catalog):
    user = UserFactory(username="mm")
    ProgramEnrollmentFactory(user=user, program_uuid=c.MIT, curriculum_uuid=c.MIT_CURRICULUM)
    hosts.set_course_run(c.SHARED_COURSE, title="Intro", start=RECENT)
    _enroll(user, c.SHARED_COURSE, "verified")
    runs = Caller(user).get(overview_url(c.MIT)).json()["course_runs"]
    assert [run["micromasters_title"] for run in runs] == ["MicroMasters in Security"]


def _big_program(learner, count):
    keys = [f"course-v1:GTx+P{index:03d}+2020_Spring" for index in range(count)]
    program = c.program_document(
        c.CYBERSECURITY,
        title="Cyber",
        organization_key="GTx",
        type_="Masters",
        curricula=[c.curriculum_document(c.CYBERSECURITY_CURRICULUM, keys)],
    )
    hosts.add_programs([program])
    for key in keys:
        hosts.set_course_run(key, title=key, start=RECENT)
        _enroll(learner.user, key)
    return keys


def test_pages_are_10_by_default_25_at_most_with_cursor_links(catalog, learner):
    keys = _big_program(learner, 30)
    url = courses_url("learner", c.CYBERSECURITY)
    first = learner.get(url).json()
    assert [run["course_run_id"] for run in first["results"]] == keys[:10]
    assert first["previous"] is None and first["next"].startswith("http://testserver/")
    second = learner.get(first["next"]).json()
    assert [run["course_run_id"] for run in second["results"]] == keys[10:20]
    back = learner.get(second["previous"]).json()
    assert [run["course_run_id"] for run in back["results"]] == keys[:10]
    assert back["previous"] is None
    capped = learner.get(url, {"page_size": 100}).json()
    assert len(capped["results"]) == 25
    rest = learner.get(capped["next"]).json()
    assert [run["course_run_id"] for run in rest["results"]] == keys[25:]
    assert rest["next"] is None
    assert learner.get(url, {"cursor": "not-a-cursor"}).status_code == 404


def test_the_path_matches_with_a_trailing_slash_too(catalog, learner):
    assert learner.get(courses_url("learner", c.CYBERSECURITY) + "/").status_code == 200


def test_query_counts_do_not_grow_with_the_page(catalog, learner):
    _big_program(learner, 25)
    url = courses_url("learner", c.CYBERSECURITY)
    counts = {}
    for size in (1, 10, 25):
        with CaptureQueriesContext(connection) as queries:
            response = learner.get(url, {"page_size": size})
        assert len(response.json()["results"]) == size
        counts[size] = len(queries)
    with CaptureQueriesContext(connection) as queries:
        assert len(learner.get(overview_url(c.CYBERSECURITY)).json()["course_runs"]) == 25
    assert len(set(counts.values())) == 1, counts
    assert len(queries) == counts[1], (len(queries), counts)


# --- progress -----------------------------------------------------------------------------------


def _self_paced_certificate(*, days):
    created = NOW - timedelta(days=days)
    return {"start": PAST, "self_paced": True, "certificate_passing": True, "certificate_created": created}


def _overview(**fields):
    return CourseRunOverviewData(course_key=c.SHARED_COURSE, display_name="x", course_run_url="/", **fields)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"start": LATER}, CourseRunProgress.UPCOMING),
        ({}, CourseRunProgress.UPCOMING),
        ({"start": RECENT}, CourseRunProgress.IN_PROGRESS),
        ({"start": PAST, "end": RECENT}, CourseRunProgress.COMPLETED),
        # Self-paced: a passing certificate 30 days old completes the run, a younger one does not.
        (
            _self_paced_certificate(days=31),
            CourseRunProgress.COMPLETED,
        ),
        (
            _self_paced_certificate(days=29),
            CourseRunProgress.IN_PROGRESS,
        ),
        # Instructor-paced runs ignore certificates.
        (
            {"start": PAST, "certificate_passing": True, "certificate_created": NOW - timedelta(60)},
            CourseRunProgress.IN_PROGRESS,
        ),
    ],
)
def test_course_run_progress_follows_the_built_in_rule(fields, expected):
    assert course_run_progress(_overview(**fields), now=NOW) == expected


@pytest.mark.skipif("not hosts.is_standalone()", reason="the standalone host's stand-in for certificates")
def test_standalone_passing_grade_stands_for_the_certificate(catalog, learner):
    from program_enrollments.standalone.lms.models import CourseGrade

    hosts.set_course_run(c.SHARED_COURSE, title="Self-paced", start=PAST, self_paced=True)
    _enroll(learner.user, c.SHARED_COURSE)
    grade = CourseGrade.objects.create(
        user=learner.user, course_id=c.SHARED_COURSE, percent=0.9, letter_grade="Pass", passed=True
    )
    url = overview_url(c.CYBERSECURITY)
    assert learner.get(url).json()["course_runs"][0]["course_run_status"] == "in_progress"
    CourseGrade.objects.filter(pk=grade.pk).update(created=NOW - timedelta(days=31))
    assert learner.get(url).json()["course_runs"][0]["course_run_status"] == "completed"


def test_grants_do_not_open_someone_elses_pages(catalog, learner):
    admin = UserFactory(username="gtx-admin")
    OrganizationGrant.objects.create(user=admin, organization_key="GTx", access="write")
    assert Caller(admin).get(courses_url("learner", c.CYBERSECURITY)).status_code == 403
