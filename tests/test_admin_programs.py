"""The admin as support staff read it: programs by title and organization, lists that fit, the learner page linked.

Support staff here are staff accounts with the view and change permissions on both
enrollment models, not superusers.
"""

import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from program_enrollments import backends
from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment
from tests import catalog as c
from tests import hosts
from tests.api.helpers import enroll, enroll_course
from tests.factories import ProgramEnrollmentFactory, SSOIdentityFactory, UserFactory

pytestmark = pytest.mark.django_db

INDEX = "/admin/"
PE_ADMIN = "/admin/program_enrollments/programenrollment/"
PCE_ADMIN = "/admin/program_enrollments/programcourseenrollment/"
LEARNER = f"{PE_ADMIN}learner/"
CYBERSECURITY = "Online Master of Science in Cybersecurity"
UNKNOWN = uuid.UUID("00000000-0000-4000-8000-00000000d0d0")


@pytest.fixture
def staff(client):
    """The admin's test client, signed in as support staff: view and change permissions, no superuser."""
    from django.contrib.auth.models import Permission

    user = UserFactory(username="support", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="program_enrollments",
            codename__in=[
                f"{action}_{model}"
                for action in ("view", "change")
                for model in ("programenrollment", "programcourseenrollment")
            ],
        )
    )
    client.force_login(user)
    return client


@pytest.fixture
def learners(catalog):
    SSOIdentityFactory(student_key="R-1", user=UserFactory(username="alice", email="alice@example.org"))
    enroll(c.CYBERSECURITY, ["R-1", "W-1"])
    enroll(c.OTHER, ["R-1"])
    enroll_course(c.CYBERSECURITY, c.SHARED_COURSE, ["R-1", "W-1"])
    enroll_course(c.CYBERSECURITY, c.SECOND_SHARED_COURSE, ["R-1"])
    enroll_course(c.OTHER, c.SHARED_COURSE, ["R-1"], status="inactive")


@pytest.fixture
def catalog_calls(monkeypatch):
    """The programs asked of the catalog backend, one set per ``get_programs`` call."""
    calls = []
    make_backend = backends.catalog_backend

    class Counting:
        def __init__(self):
            self._backend = make_backend()

        def get_programs(self, program_uuids):
            calls.append(set(program_uuids))
            return self._backend.get_programs(program_uuids)

        def __getattr__(self, name):
            return getattr(self._backend, name)

    monkeypatch.setattr(backends, "catalog_backend", Counting)
    return calls


def _pk(program, key):
    return ProgramEnrollment.objects.get(program_uuid=program, external_user_key=key).pk


def _cells(page, field):
    """The text of the list's cells of ``field``, tags removed."""
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(rf'<t[dh] class="field-{field}"[^>]*>(.*?)</t[dh]>', page.text, re.S)
    ]


# --- the admin's home ---------------------------------------------------------------------------------


def test_home_links_the_learner_page_for_support_staff(staff, viewer_user_client):
    for client in (staff, viewer_user_client):
        page = client.get(INDEX)
        assert page.status_code == 200
        assert f'<a href="{LEARNER}">Learner page</a>' in page.text
    # The app's own index lists it too.
    assert f'<a href="{LEARNER}">Learner page</a>' in staff.get("/admin/program_enrollments/").text


def test_home_does_not_link_the_learner_page_without_the_view_permission(client):
    client.force_login(UserFactory(username="other-staff", is_staff=True))
    page = client.get(INDEX)
    assert page.status_code == 200 and LEARNER not in page.text
    assert client.get(LEARNER).status_code == 403


@pytest.fixture
def viewer_user_client(client):
    """A second client signed in as view-only staff (the ``viewer`` fixture's permissions)."""
    from django.contrib.auth.models import Permission
    from django.test import Client

    user = UserFactory(username="viewer", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(codename__in=["view_programenrollment", "view_programcourseenrollment"])
    )
    other = Client()
    other.force_login(user)
    return other


# --- lists ------------------------------------------------------------------------------------------


def test_program_enrollment_list_names_programs_and_links_the_learner_page(learners, staff):
    page = staff.get(PE_ADMIN)
    assert page.status_code == 200
    programs = _cells(page, "program")
    assert sorted(programs) == sorted(
        ["Online Master of Science in Cyber… GTx", "Online Master of Science in Cyber… GTx", "Other Master Program GTx"]
    )
    # The whole title, the organization and the UUID are in the tooltip.
    assert f'title="{CYBERSECURITY} (GTx), {c.CYBERSECURITY}"' in page.text
    assert f">{c.CYBERSECURITY}<" not in page.text
    learner_links = re.findall(r'href="(/admin/program_enrollments/programenrollment/learner/\?[^"]+)"', page.text)
    assert sorted(learner_links) == sorted(
        [f"{LEARNER}?username=alice", f"{LEARNER}?username=alice", f"{LEARNER}?student_key=W-1"]
    )
    assert _cells(page, "student_key") and set(_cells(page, "student_key")) == {"R-1", "W-1"}


def test_program_course_enrollment_list_names_programs_and_links_the_learner_page(learners, staff):
    page = staff.get(PCE_ADMIN, {"q": "r-1"})
    assert page.status_code == 200
    assert sorted(_cells(page, "program")) == sorted(
        ["Online Master of Science in Cyber… GTx"] * 2 + ["Other Master Program GTx"]
    )
    assert sorted(_cells(page, "course")) == sorted(
        [c.SHARED_COURSE.removeprefix("course-v1:")] * 2 + [c.SECOND_SHARED_COURSE.removeprefix("course-v1:")]
    )
    assert f'title="{c.SHARED_COURSE}"' in page.text
    assert set(_cells(page, "lms_enrollment")) == {"masters, active"}
    assert page.text.count(f'href="{LEARNER}?username=alice"') == 3


def test_waiting_learners_course_rows_say_they_have_no_lms_enrollment(learners, staff):
    page = staff.get(PCE_ADMIN, {"q": "w-1"})
    assert _cells(page, "lms_enrollment") == ["none (waiting learner)"]
    assert f'href="{LEARNER}?student_key=W-1"' in page.text


def test_a_program_the_catalog_does_not_know_shows_its_uuid_marked_as_unknown(learners, staff):
    ProgramEnrollmentFactory(external_user_key="U-1", program_uuid=UNKNOWN, curriculum_uuid=uuid.uuid4())
    page = staff.get(PE_ADMIN, {"q": "u-1"})
    assert page.status_code == 200
    assert _cells(page, "program") == [f"{UNKNOWN} (not in the catalog)"]
    filters = page.text.split('id="changelist-filter"')[1]
    assert f"{UNKNOWN} (not in the catalog)" in filters
    detail = staff.get(f"{PE_ADMIN}{_pk(UNKNOWN, 'U-1')}/change/")
    assert detail.status_code == 200 and "not in the catalog" in detail.text


def test_program_filter_lists_titles_and_filters_by_program(learners, staff):
    page = staff.get(PE_ADMIN)
    filters = page.text.split('id="changelist-filter"')[1]
    assert "By program" in filters
    names = re.findall(r'<a href="\?program_uuid=[^"]+">([^<]+)</a>', filters)
    assert names == [f"{CYBERSECURITY} (GTx)", "Other Master Program (GTx)"]
    with_counts = staff.get(PE_ADMIN, {"_facets": "True"}).text.split('id="changelist-filter"')[1]
    assert f"{CYBERSECURITY} (GTx) (2)" in with_counts and "Other Master Program (GTx) (1)" in with_counts
    filtered = staff.get(PE_ADMIN, {"program_uuid": str(c.OTHER)})
    assert _cells(filtered, "student_key") == ["R-1"]
    course_rows = staff.get(PCE_ADMIN, {"program_enrollment__program_uuid": str(c.OTHER)})
    assert _cells(course_rows, "program") == ["Other Master Program GTx"]
    assert "Other Master Program (GTx)" in course_rows.text.split('id="changelist-filter"')[1]


def test_a_malformed_program_filter_is_not_a_server_error(learners, staff):
    staff.raise_request_exception = False
    page = staff.get(PE_ADMIN, {"program_uuid": "not-a-uuid"})
    # The admin's answer to a filter value it cannot use: back to the list, flagged.
    assert page.status_code == 302 and page.url.endswith("?e=1")


@pytest.mark.parametrize("admin_url", [PE_ADMIN, PCE_ADMIN])
def test_list_pages_ask_the_catalog_once_and_their_queries_do_not_grow(catalog, staff, catalog_calls, admin_url):
    def measure(count):
        keys = [f"Q-{count}-{index}" for index in range(count)]
        enroll(c.CYBERSECURITY, keys)
        enroll_course(c.CYBERSECURITY, c.SHARED_COURSE, keys)
        staff.get(admin_url)  # sessions, content types and permissions cached
        catalog_calls.clear()
        with CaptureQueriesContext(connection) as queries:
            page = staff.get(admin_url, {"q": ""})
        assert page.status_code == 200
        return len(queries), list(catalog_calls), len(_cells(page, "program"))

    small = measure(1)
    large = measure(30)
    assert small[2] == 1 and large[2] == 31
    assert small[0] == large[0]
    # One call for the page's rows and its program filter.
    assert len(small[1]) == len(large[1]) == 1


# --- detail, history -----------------------------------------------------------------------------------


def test_program_enrollment_page_names_the_program_and_curriculum(learners, staff):
    page = staff.get(f"{PE_ADMIN}{_pk(c.CYBERSECURITY, 'W-1')}/change/")
    assert page.status_code == 200
    program = page.text.split("field-program_details")[1].split("</div>")[0]
    assert CYBERSECURITY in program and "GTx" in program and str(c.CYBERSECURITY) in program
    curriculum = page.text.split("field-curriculum")[1].split("</div>")[0]
    assert ">2020<" in curriculum and str(c.CYBERSECURITY_CURRICULUM) in curriculum
    assert f'href="{LEARNER}?student_key=W-1"' in page.text


def test_program_course_enrollment_page_names_the_program_and_links_its_program_enrollment(learners, staff):
    row = ProgramCourseEnrollment.objects.get(program_enrollment__external_user_key="W-1", course_key=c.SHARED_COURSE)
    page = staff.get(f"{PCE_ADMIN}{row.pk}/change/")
    assert page.status_code == 200
    link = page.text.split("field-program_enrollment_link")[1].split("</div>")[0]
    assert f'href="{PE_ADMIN}{row.program_enrollment_id}/change/"' in link
    assert f"W-1 in {CYBERSECURITY} (GTx)" in link
    assert CYBERSECURITY in page.text.split("field-program_details")[1].split("</div>")[0]


def test_history_pages_name_the_program_and_the_curricula(learners, staff):
    pk = _pk(c.CYBERSECURITY, "W-1")
    staff.post(f"{PE_ADMIN}{pk}/change/", {"status": "suspended"})
    page = staff.get(f"{PE_ADMIN}{pk}/history/")
    assert page.status_code == 200
    assert f"History: W-1 in {CYBERSECURITY} (GTx)" in page.text
    table = page.text.split('id="change-history"')[1].split("</table>")[0]
    assert "Curriculum" in table and table.count("<td>2020</td>") == 2
    assert str(c.CYBERSECURITY) not in table
    row = ProgramCourseEnrollment.objects.get(program_enrollment__external_user_key="W-1")
    course_history = staff.get(f"{PCE_ADMIN}{row.pk}/history/")
    assert f"History: W-1, {c.SHARED_COURSE} in {CYBERSECURITY} (GTx)" in course_history.text


# --- learner page ----------------------------------------------------------------------------------------


def test_learner_page_names_the_program_holding_each_slot(learners, staff):
    page = staff.get(LEARNER, {"username": "alice"})
    slots = page.text.split('id="active-slots"')[1].split("</table>")[0]
    assert f"{CYBERSECURITY} (GTx)" in slots and f'title="{c.CYBERSECURITY}"' in slots
    assert slots.count(f"{CYBERSECURITY} (GTx)") == 2
    headings = re.findall(r'<h3 class="program-heading">(.*?)</h3>', page.text, re.S)
    assert len(headings) == 2 and any("Other Master Program" in heading for heading in headings)
    assert page.text.count(f'<span class="curriculum" title="{c.CYBERSECURITY_CURRICULUM}">2020</span>') == 1
    for program in (c.CYBERSECURITY, c.OTHER):
        pk = _pk(program, "R-1")
        assert f'href="{PE_ADMIN}{pk}/change/">enrollment page</a>' in page.text
        assert f'href="{PE_ADMIN}{pk}/history/">history</a>' in page.text


# --- transfer form ---------------------------------------------------------------------------------------


def _transfer(client, keys, program=c.CYBERSECURITY, **fields):
    body = {"action": "transfer_to_another_program", "_selected_action": [_pk(program, key) for key in keys]}
    if fields:
        body.update({"apply": "1", **fields})
    return client.post(PE_ADMIN, body)


def _options(page, name):
    select = page.text.split(f'name="{name}"')[1].split("</select>")[0]
    return re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select)


def test_transfer_form_offers_the_programs_that_share_the_courses(learners, staff):
    page = _transfer(staff, ["R-1"])
    assert page.status_code == 200 and 'id="transfer-form"' in page.text
    source = page.text.split('id="transfer-source"')[1].split("</p>")[0]
    assert CYBERSECURITY in source
    targets = dict(_options(page, "to_program_uuid"))
    # Other holds both of R-1's courses; MITx's program holds one; the source is not offered.
    assert targets[str(c.OTHER)] == "Other Master Program (GTx): shares 2 of the 2 courses"
    assert targets[str(c.MIT)] == "MicroMasters in Security (MITx): shares 1 of the 2 courses"
    assert str(c.CYBERSECURITY) not in targets and str(c.ANALYTICS) not in targets
    assert list(targets)[1] == str(c.OTHER)
    curricula = dict(_options(page, "to_curriculum_uuid"))
    assert curricula[str(c.OTHER_CURRICULUM)] == "2020" and str(c.MIT_CURRICULUM) in curricula
    assert str(c.CYBERSECURITY_CURRICULUM) not in curricula
    assert f'"{c.OTHER}": ["{c.OTHER_CURRICULUM}"]' in page.text.replace("&quot;", '"')


def test_transfer_form_without_courses_offers_the_organizations_other_programs(catalog, staff):
    enroll(c.CYBERSECURITY, ["N-1"])
    targets = dict(_options(_transfer(staff, ["N-1"]), "to_program_uuid"))
    assert set(targets) == {"", str(c.ANALYTICS), str(c.OTHER)}
    assert targets[str(c.ANALYTICS)] == "Online Master of Science in Analytics (GTx)"


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"to_program_uuid": str(c.CYBERSECURITY)}, "to_program_uuid", "is not a program that shares"),
        ({"to_program_uuid": "not-a-uuid"}, "to_program_uuid", "not-a-uuid is not a program that shares"),
        ({"to_program_uuid": str(c.ANALYTICS)}, "to_program_uuid", "is not a program that shares"),
        ({}, "to_program_uuid", "This field is required"),
        (
            {"to_program_uuid": str(c.OTHER), "to_curriculum_uuid": str(c.MIT_CURRICULUM)},
            "to_curriculum_uuid",
            f"Curriculum {c.MIT_CURRICULUM} is not a curriculum of Other Master Program (GTx)",
        ),
        (
            {"to_program_uuid": str(c.OTHER), "to_curriculum_uuid": "bogus"},
            "to_curriculum_uuid",
            "bogus is not a known curriculum",
        ),
        (
            {"to_program_uuid": str(c.MIT), "course_keys": f"{c.SHARED_COURSE}\n{c.SECOND_SHARED_COURSE}"},
            "course_keys",
            f"Not in MicroMasters in Security (MITx): {c.SECOND_SHARED_COURSE}.",
        ),
    ],
    ids=[
        "source",
        "malformed",
        "sharing-nothing",
        "missing",
        "other-programs-curriculum",
        "bogus-curriculum",
        "course",
    ],
)
def test_transfer_form_refuses_what_does_not_fit_and_changes_nothing(learners, staff, fields, field, message):
    before = list(ProgramCourseEnrollment.objects.order_by("pk").values_list("pk", "status"))
    page = _transfer(staff, ["R-1"], **{"source_status": "canceled", **fields, "apply": "1"})
    assert page.status_code == 200 and 'id="transfer-form"' in page.text
    assert 'id="transfer-results"' not in page.text
    errors = page.text.split(f'name="{field}"')[0].rsplit("<tr", 1)[1]
    assert message in errors.replace("&#x27;", "'")
    assert list(ProgramCourseEnrollment.objects.order_by("pk").values_list("pk", "status")) == before
    assert ProgramEnrollment.objects.get(pk=_pk(c.CYBERSECURITY, "R-1")).status == "enrolled"


def test_support_staff_transfer_into_the_chosen_curriculum(learners, staff):
    second = uuid.UUID("00000000-0000-4000-8000-0000000c0c02")
    hosts.add_curriculum(c.OTHER, second, [c.SHARED_COURSE, c.SECOND_SHARED_COURSE])
    form = _transfer(staff, ["R-1", "W-1"])
    assert dict(_options(form, "to_curriculum_uuid"))[str(second)] == str(second)
    done = _transfer(
        staff, ["R-1", "W-1"], to_program_uuid=str(c.OTHER), to_curriculum_uuid=str(second), source_status="ended"
    )
    assert done.status_code == 200 and done.text.count(">transferred<") == 2
    programs = done.text.split('id="transfer-programs"')[1].split("</p>")[0]
    assert CYBERSECURITY in programs and "Other Master Program" in programs
    assert set(ProgramEnrollment.objects.filter(program_uuid=c.OTHER).values_list("curriculum_uuid", flat=True)) == {
        second
    }
    assert set(
        ProgramCourseEnrollment.objects.filter(status="active").values_list(
            "program_enrollment__program_uuid", flat=True
        )
    ) == {c.OTHER}


@pytest.mark.parametrize("page", ["change", "history", "version"])
def test_pages_of_a_row_name_it_by_learner_and_program_title(learners, staff, page):
    pk = _pk(c.CYBERSECURITY, "W-1")
    url = f"{PE_ADMIN}{pk}/{page}/"
    if page == "version":
        version = ProgramEnrollment.history.filter(id=pk).earliest().history_id
        url = f"{PE_ADMIN}{pk}/history/{version}/"
    response = staff.get(url)
    assert response.status_code == 200
    breadcrumbs = response.text.split('class="breadcrumbs"')[1].split("</div>")[0]
    assert f"W-1 in {CYBERSECURITY} (GTx)" in breadcrumbs
    assert str(c.CYBERSECURITY) not in breadcrumbs
    if page != "history":
        assert f"<h2>W-1 in {CYBERSECURITY} (GTx)</h2>" in response.text
