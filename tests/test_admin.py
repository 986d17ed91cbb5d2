"""The admin for support staff: search, learner page, changes and transfers through the Python API."""

import pytest

from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment
from tests import catalog as c
from tests.api.helpers import enroll, enroll_course
from tests.factories import SSOIdentityFactory, UserFactory

pytestmark = pytest.mark.django_db

PE_ADMIN = "/admin/program_enrollments/programenrollment/"
PCE_ADMIN = "/admin/program_enrollments/programcourseenrollment/"


@pytest.fixture
def learners(catalog):
    SSOIdentityFactory(student_key="R-1", user=UserFactory(username="alice", email="alice@example.org"))
    enroll(c.CYBERSECURITY, ["R-1", "W-1", "other"])
    enroll(c.OTHER, ["R-1", "W-1"])
    enroll_course(c.CYBERSECURITY, c.SHARED_COURSE, ["R-1", "W-1"])
    enroll_course(c.OTHER, c.SHARED_COURSE, ["R-1"], status="inactive")


def _pk(program, key):
    return ProgramEnrollment.objects.get(program_uuid=program, external_user_key=key).pk


@pytest.mark.parametrize("term", ["w-1", "W-1", "Ｗ-1", " w-1 "])
def test_search_by_student_key_ignores_case_width_and_surrounding_spaces(learners, support, term):
    page = support.get(PE_ADMIN, {"q": term})
    assert page.status_code == 200
    assert page.text.count(">W-1<") == 2 and ">other<" not in page.text


@pytest.mark.parametrize("term", ["alice", "alice@example.org"])
def test_search_by_username_or_email(learners, support, term):
    page = support.get(PE_ADMIN, {"q": term})
    assert page.text.count(">R-1<") == 2 and ">W-1<" not in page.text


SEARCHES = ["w-1", "Ｗ-1", " r-1 ", "alice", "ALICE@EXAMPLE", "example.org", c.SHARED_COURSE.upper(), "nobody", '"r-1"']


def _found(support, url, term):
    page = support.get(url, {"q": term})
    assert page.status_code == 200
    return sorted(page.context["cl"].result_list.values_list("pk", flat=True))


@pytest.mark.parametrize("url", [PE_ADMIN, PCE_ADMIN])
def test_a_one_word_search_goes_through_indexes_and_finds_what_djangos_search_finds(
    learners, support, url, monkeypatch
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from program_enrollments import admin as enrollment_admin

    by_ids = {term: _found(support, url, term) for term in SEARCHES}
    monkeypatch.setattr(enrollment_admin, "SEARCH_IDS_LIMIT", 0)  # every search as Django makes it
    assert by_ids == {term: _found(support, url, term) for term in SEARCHES}
    assert by_ids["alice"] and by_ids["w-1"] and not by_ids["nobody"]
    monkeypatch.undo()

    # Only the user table is searched for a part of a name: the enrollments are found by id and key.
    table = (ProgramEnrollment if url == PE_ADMIN else ProgramCourseEnrollment)._meta.db_table
    with CaptureQueriesContext(connection) as queries:
        support.get(url, {"q": "alice"})
    reads = [query["sql"] for query in queries.captured_queries if table in query["sql"]]
    assert reads and not [sql for sql in reads if "LIKE" in sql.upper() and "%alice%" in sql.lower()], reads


def test_a_word_many_users_hold_is_searched_as_django_does(learners, support, monkeypatch):
    from program_enrollments import admin as enrollment_admin

    monkeypatch.setattr(enrollment_admin, "SEARCH_IDS_LIMIT", 1)
    UserFactory(username="alice2", email="alice2@example.org")
    assert len(_found(support, PE_ADMIN, "alice")) == 2  # R-1 in both programs, alice2 in none


def test_course_rows_search_and_filter(learners, support):
    page = support.get(PCE_ADMIN, {"q": "r-1", "status__exact": "inactive"})
    assert page.status_code == 200 and page.text.count(c.SHARED_COURSE) >= 1
    assert ">W-1<" not in page.text


@pytest.mark.parametrize("url", [PE_ADMIN, PCE_ADMIN])
def test_a_filtered_list_counts_its_rows_once_not_the_whole_table(learners, support, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        page = support.get(url, {"status__exact": "active"})
    assert page.status_code == 200
    counts = [query["sql"] for query in queries.captured_queries if "COUNT(" in query["sql"].upper()]
    assert len(counts) == 1 and "WHERE" in counts[0], counts


def test_learner_page_shows_which_program_holds_the_slot(learners, support):
    page = support.get(f"{PE_ADMIN}learner/", {"student_key": "r-1"})
    assert page.status_code == 200
    assert "Learner alice" in page.text
    slots = page.text.split('id="active-slots"')[1].split("</table>")[0]
    assert c.SHARED_COURSE in slots and str(c.CYBERSECURITY) in slots
    by_username = support.get(f"{PE_ADMIN}learner/", {"username": "alice"})
    assert by_username.text.count("program-courses") == page.text.count("program-courses") == 2


def test_status_change_goes_through_the_api_with_history(learners, support):
    pk = _pk(c.CYBERSECURITY, "W-1")
    response = support.post(f"{PE_ADMIN}{pk}/change/", {"status": "suspended"})
    assert response.status_code == 302
    enrollment = ProgramEnrollment.objects.get(pk=pk)
    assert enrollment.status == "suspended"
    latest = enrollment.history.latest()
    assert (latest.history_user.username, latest.history_change_reason) == ("support", "Changed in the admin")


def test_breaking_the_rule_is_a_form_error_not_a_500(learners, support):
    row = ProgramCourseEnrollment.objects.get(program_enrollment__program_uuid=c.OTHER)
    response = support.post(f"{PCE_ADMIN}{row.pk}/change/", {"status": "active"})
    assert response.status_code == 200
    assert "already active in this course through another program" in response.text
    row.refresh_from_db()
    assert row.status == "inactive"


def test_activation_of_a_suspended_learner_is_a_form_error(learners, support):
    enroll(c.CYBERSECURITY, ["W-1"], status="suspended")
    enroll_course(c.CYBERSECURITY, c.SHARED_COURSE, ["W-1"], status="inactive")
    row = ProgramCourseEnrollment.objects.get(
        program_enrollment__program_uuid=c.CYBERSECURITY, program_enrollment__external_user_key="W-1"
    )
    response = support.post(f"{PCE_ADMIN}{row.pk}/change/", {"status": "active"})
    assert response.status_code == 200 and "enrolled or pending" in response.text


def test_view_only_staff_can_look_but_not_change(learners, viewer):
    pk = _pk(c.CYBERSECURITY, "W-1")
    assert viewer.get(f"{PE_ADMIN}{pk}/change/").status_code == 200
    assert viewer.get(f"{PE_ADMIN}learner/", {"student_key": "W-1"}).status_code == 200
    assert viewer.post(f"{PE_ADMIN}{pk}/change/", {"status": "ended"}).status_code == 403
    assert ProgramEnrollment.objects.get(pk=pk).status == "enrolled"
    response = viewer.post(PE_ADMIN, {"action": "transfer_to_another_program", "_selected_action": [pk]})
    assert (
        ProgramCourseEnrollment.objects.filter(program_enrollment__program_uuid=c.OTHER, status="active").count() == 0
    )
    assert response.status_code in (200, 302, 403)


def test_enrollments_cannot_be_added_or_deleted(learners, support):
    pk = _pk(c.CYBERSECURITY, "W-1")
    assert support.get(f"{PE_ADMIN}add/").status_code == 403
    assert support.post(f"{PE_ADMIN}{pk}/delete/").status_code == 403


def _transfer(client, keys, **fields):
    selected = [_pk(c.CYBERSECURITY, key) for key in keys]
    body = {"action": "transfer_to_another_program", "_selected_action": selected}
    if fields:
        body.update({"apply": "1", **fields})
    return client.post(PE_ADMIN, body)


def test_transfer_action_asks_then_reports_per_learner(learners, support):
    form = _transfer(support, ["R-1", "W-1"])
    assert form.status_code == 200 and 'id="transfer-form"' in form.text
    dry = _transfer(support, ["R-1", "W-1"], to_program_uuid=str(c.OTHER), dry_run="on")
    assert "Dry run" in dry.text and dry.text.count("would-transfer") >= 2
    assert not ProgramCourseEnrollment.objects.filter(program_enrollment__program_uuid=c.OTHER, status="active")
    done = _transfer(support, ["R-1", "W-1"], to_program_uuid=str(c.OTHER), source_status="canceled")
    assert done.status_code == 200 and done.text.count(">transferred<") == 2
    active = ProgramCourseEnrollment.objects.filter(status="active")
    assert {row.program_enrollment.program_uuid for row in active} == {c.OTHER}
    assert ProgramEnrollment.objects.get(pk=_pk(c.CYBERSECURITY, "R-1")).status == "canceled"


def test_transfer_action_form_errors(learners, support):
    # The source is not offered as a target; a value that is not offered is refused.
    for target in (str(c.CYBERSECURITY), "not-a-uuid"):
        response = _transfer(support, ["W-1"], to_program_uuid=target)
        assert response.status_code == 200 and 'id="transfer-results"' not in response.text
        assert f"{target} is not a program that shares the selected learners" in response.text.replace("&#x27;", "'")


def test_demo_admin_can_log_in(client):
    from django.core.management import call_command

    call_command("setup_demo")
    response = client.post("/admin/login/?next=/admin/", {"username": "admin", "password": "admin"})
    assert response.status_code == 302 and response.url == "/admin/"
    assert "Program enrollments" in client.get("/admin/").text


@pytest.mark.parametrize(
    "query",
    [
        {"username": "a\x00b"},
        {"student_key": "W-1\x00"},
        {"organization": "GTx", "student_key": "W-1\x00"},
        {"organization": "G\x00Tx", "student_key": "W-1"},
        {"organization": "\x00", "username": "alice"},
    ],
    ids=["username", "key", "key-and-organization", "organization", "organization-with-username"],
)
def test_nul_characters_on_the_learner_page_are_a_400_page(learners, support, query):
    support.raise_request_exception = False
    page = support.get(f"{PE_ADMIN}learner/", query)
    assert page.status_code == 400
    assert "must not contain NUL characters" in page.text and 'id="learner-search"' in page.text


def test_nul_characters_in_searches_are_harmless(learners, support):
    page = support.get(PE_ADMIN, {"q": "W-1\x00"})
    assert page.status_code == 200 and "W-1" in page.text


def test_learner_page_asks_for_the_organization_when_a_key_is_shared(learners, support):
    enroll(c.MIT, ["W-1"])
    page = support.get(f"{PE_ADMIN}learner/", {"student_key": "W-1"})
    assert "used by several organizations (GTx, MITx)" in page.text
    page = support.get(f"{PE_ADMIN}learner/", {"student_key": "W-1", "organization": "MITx"})
    assert page.text.count("program-courses") == 1


def test_history_revert_is_disabled(learners, support):
    pk = _pk(c.CYBERSECURITY, "W-1")
    support.post(f"{PE_ADMIN}{pk}/change/", {"status": "suspended"})
    first = ProgramEnrollment.history.filter(id=pk).earliest()
    url = f"{PE_ADMIN}{pk}/history/{first.history_id}/"
    page = support.get(url)
    assert page.status_code == 200 and "Revert" not in page.text
    assert support.post(url, {"status": "enrolled"}).status_code == 403
    assert ProgramEnrollment.objects.get(pk=pk).status == "suspended"


@pytest.mark.parametrize("admin_url", [PE_ADMIN, PCE_ADMIN])
@pytest.mark.parametrize(
    "object_id, version_id",
    [
        ("abc", None),
        ("1.5", None),
        ("%00", None),
        ("99999999999999999999999", None),
        ("{pk}", "abc"),
        ("{pk}", "1.5"),
        ("{pk}", "%00"),
        ("{pk}", "99999999999999999999999"),
        ("{pk}", "-1"),
        ("abc", "{version}"),
        ("99999999999999999999999", "{version}"),
    ],
)
def test_malformed_history_urls_are_404_pages(learners, support, admin_url, object_id, version_id):
    model = ProgramEnrollment if admin_url == PE_ADMIN else ProgramCourseEnrollment
    row = model.objects.order_by("pk").first()
    version = model.history.filter(id=row.pk).earliest().history_id
    url = f"{admin_url}{object_id.format(pk=row.pk)}/history/"
    if version_id is not None:
        url += f"{version_id.format(version=version)}/"
    support.raise_request_exception = False
    assert support.get(url).status_code == 404
    # The well-formed URLs still work.
    assert support.get(f"{admin_url}{row.pk}/history/").status_code == 200
    assert support.get(f"{admin_url}{row.pk}/history/{version}/").status_code == 200


def test_transfer_action_honours_select_all_across_pages(learners, support):
    response = support.post(
        PE_ADMIN + f"?program_uuid__exact={c.CYBERSECURITY}",
        {
            "action": "transfer_to_another_program",
            "_selected_action": [_pk(c.CYBERSECURITY, "W-1")],
            "select_across": "1",
            "apply": "1",
            "to_program_uuid": str(c.OTHER),
            "dry_run": "on",
        },
    )
    assert response.status_code == 200
    assert response.text.count(">would-transfer<") == 2 and ">nothing-to-transfer<" in response.text
