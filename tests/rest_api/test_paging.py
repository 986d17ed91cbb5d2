"""Paged reads of the REST API: at most five queries a page whatever its size, a cursor on an indexed column.

The page read is what a GET handler runs once the caller and the program are known (those
checks run before it, on ``default``, and cost the same for every request); the whole
request's query count is also asserted flat in the page size.
"""

import gc
import json
import weakref

import pytest
from django.db import connection
from django.test.client import ClientHandler, RequestFactory
from django.test.utils import CaptureQueriesContext

from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment
from program_enrollments.rest_api.v1 import learner_views, views
from tests import catalog as c
from tests import hosts
from tests.factories import CourseEnrollmentFactory, ProgramEnrollmentFactory, UserFactory
from tests.rest_api import paging_data
from tests.rest_api.conftest import Caller

pytestmark = pytest.mark.django_db

BASE = "/api/program_enrollments/v1"
PROGRAM = f"{BASE}/programs/{c.CYBERSECURITY}/enrollments/"
COURSE = f"{BASE}/programs/{c.CYBERSECURITY}/courses/{c.SHARED_COURSE}/enrollments/"
GRADES = f"{BASE}/programs/{c.CYBERSECURITY}/courses/{c.SHARED_COURSE}/grades/"
# The most queries a page read may cost.
PAGE_QUERIES = 5
# Learners in Cybersecurity: more than a page of the largest size (1000), realized ones (for grades) too.
ROWS = 2200


@pytest.fixture
def rows(catalog):
    counts = paging_data.generate(ROWS)
    # Cybersecurity's, Other's (one for ten) and the small program's learners.
    assert counts[paging_data.PROGRAM_ROWS_TABLE] == ROWS + ROWS // 10 + max(ROWS // paging_data.SMALL_SHARE, 10)
    return counts


# Reads of the standalone host's catalog (it stands in for course-discovery's, which an Open edX
# LMS reads from its cache, without SQL) and of the caller's permissions (Django caches them on
# the user for the request): fixed costs of a request that some learner endpoints pay in their handler.
FIXED_COST_TABLES = ('"catalog_', '"auth_permission"', "`catalog_", "`auth_permission`")


def _fixed_cost(sql):
    from_clause = sql.split(" FROM ", 1)[-1].split(" WHERE ", 1)[0]
    return any(table in from_clause for table in FIXED_COST_TABLES)


@pytest.fixture
def counted(monkeypatch, django_assert_max_num_queries):
    """``counted(view_class)``: the view's GET handler fails past PAGE_QUERIES queries; returns its counts.

    With ``fixed_costs_excluded=True`` the catalog and permission reads are left out of the budget
    (see FIXED_COST_TABLES) but still counted in the returned counts.
    """

    def count(view_class, *, fixed_costs_excluded=False):
        counts = []
        original = view_class.get

        def get(self, *args, **kwargs):
            if not fixed_costs_excluded:
                with django_assert_max_num_queries(PAGE_QUERIES) as queries:
                    response = original(self, *args, **kwargs)
            else:
                with CaptureQueriesContext(connection) as queries:
                    response = original(self, *args, **kwargs)
                reads = [query["sql"] for query in queries.captured_queries if not _fixed_cost(query["sql"])]
                assert len(reads) <= PAGE_QUERIES, reads
            counts.append(len(queries))
            return response

        monkeypatch.setattr(view_class, "get", get)
        return counts

    return count


def _request(caller, url, data=None):
    with CaptureQueriesContext(connection) as queries:
        response = caller.get(url, data)
    assert response.status_code in (200, 207), response.content
    return response, len(queries)


ENDPOINTS = [
    pytest.param(PROGRAM, views.ProgramEnrollmentsView, id="program-enrollments"),
    pytest.param(COURSE, views.ProgramCourseEnrollmentsView, id="course-enrollments"),
    pytest.param(GRADES, views.ProgramCourseGradesView, id="grades"),
]


@pytest.mark.parametrize(("url", "view_class"), ENDPOINTS)
@pytest.mark.parametrize("caller", ["staff", "gtx_reader"])
def test_a_page_costs_at_most_five_queries_whatever_its_size(rows, request, counted, url, view_class, caller):
    who = request.getfixturevalue(caller)
    handler_counts = counted(view_class)
    totals = {}
    for size in (1, 10, 1000):
        response, totals[size] = _request(who, url, {"page_size": size})
        assert len(response.json()["results"]) == size
    # A smaller page may skip a query (no waiting learner on it, say); a larger one never adds any.
    assert handler_counts[0] <= handler_counts[1] == handler_counts[2], handler_counts
    assert totals[1] <= totals[10] == totals[1000], totals


@pytest.mark.parametrize(("url", "view_class"), ENDPOINTS)
def test_every_page_costs_the_same_and_continues_where_the_last_ended(rows, staff, counted, url, view_class):
    handler_counts = counted(view_class)
    totals, seen = [], []
    response, total = _request(staff, url, {"page_size": 1000})
    while True:
        totals.append(total)
        seen += [row["student_key"] for row in response.json()["results"]]
        if response.json()["next"] is None:
            break
        response, total = _request(staff, response.json()["next"])
    if url == PROGRAM:
        rows_in_order = ProgramEnrollment.objects.filter(program_uuid=c.CYBERSECURITY).order_by("id")
        keys = list(rows_in_order.values_list("external_user_key", flat=True))
    else:
        rows_in_order = ProgramCourseEnrollment.objects.filter(
            program_enrollment__program_uuid=c.CYBERSECURITY, course_key=c.SHARED_COURSE
        ).order_by("id")
        if url == GRADES:  # realized learners only
            rows_in_order = rows_in_order.filter(program_enrollment__user__isnull=False)
        keys = list(rows_in_order.values_list("program_enrollment__external_user_key", flat=True))
    assert seen == keys
    assert len(totals) == 3 if url != GRADES else len(totals) == 2
    # The last page is shorter, and may skip a query; the full ones cost the same.
    assert handler_counts[-1] <= handler_counts[0] and len(set(handler_counts[:-1])) == 1, handler_counts
    assert totals[-1] <= totals[0] and len(set(totals[:-1])) == 1, totals


@pytest.mark.parametrize("url", [PROGRAM, COURSE, GRADES])
def test_the_page_query_is_a_range_of_ids_from_the_cursor(rows, staff, url):
    first, _ = _request(staff, url, {"page_size": 10})
    with CaptureQueriesContext(connection) as queries:
        staff.get(first.json()["next"])
    # The page's query (the app's tables); an Open edX LMS's grade factory also reads the page's
    # users in id order, and the standalone catalog reads a program's curricula in order.
    ours = [
        f"FROM {connection.ops.quote_name(model._meta.db_table)}"
        for model in (ProgramEnrollment, ProgramCourseEnrollment)
    ]
    paged = [
        query["sql"]
        for query in queries.captured_queries
        if "ORDER BY" in query["sql"] and any(table in query["sql"] for table in ours)
    ]
    assert len(paged) == 1, paged
    sql = paged[0]
    quote = connection.ops.quote_name
    table = ProgramEnrollment._meta.db_table if url == PROGRAM else ProgramCourseEnrollment._meta.db_table
    assert f"ORDER BY {quote(table)}.{quote('id')} ASC" in sql
    assert f"{quote(table)}.{quote('id')} >" in sql
    assert "OFFSET" not in sql.upper()
    # MySQL/MariaDB are told the paging index (pagination._page_index): the table's statistics
    # can otherwise make MariaDB walk the program's rows up to the cursor.
    index = "pe_program_uuid_id" if url == PROGRAM else "pce_course_key_id"
    if connection.vendor == "mysql":
        assert f"FROM {quote(table)} FORCE INDEX ({quote(index)})" in sql
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + sql)
            columns = [column[0] for column in cursor.description]
            plans = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        assert [plan["type"] for plan in plans if plan["table"] == table] == ["range"], plans
        assert [plan["key"] for plan in plans if plan["table"] == table] == [index], plans
    else:
        assert "FORCE INDEX" not in sql


@pytest.mark.parametrize("url", [PROGRAM, COURSE])
def test_the_page_query_reads_only_the_columns_its_rows_show(rows, staff, url):
    """A page's rows are built from the columns they show: no timestamps, identity columns or passwords.

    Each column read is converted a thousand times a page (a timestamp costs a datetime each);
    a column the rows need but the query left out would cost a query per row, which the
    query counts above would catch.
    """
    with CaptureQueriesContext(connection) as queries:
        response, _ = _request(staff, url, {"page_size": 10})
    assert len(response.json()["results"]) == 10
    table = ProgramEnrollment._meta.db_table if url == PROGRAM else ProgramCourseEnrollment._meta.db_table
    (sql,) = [
        query["sql"]
        for query in queries.captured_queries
        if f"FROM {connection.ops.quote_name(table)}" in query["sql"] and "ORDER BY" in query["sql"]
    ]
    selected = sql.split(" FROM ", 1)[0]
    quote = connection.ops.quote_name
    for column in ("created", "modified", "learner_ref", "external_user_key_normalized", "password", "last_login"):
        assert f".{quote(column)}" not in selected, (column, selected)


def _sqlite_plan(sql):
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql)
        return [row[-1] for row in cursor.fetchall()]


@pytest.mark.parametrize(
    ("url", "index"),
    [(PROGRAM, "pe_program_uuid_id"), (COURSE, "pce_course_key_id"), (GRADES, "pce_course_key_id")],
)
def test_the_page_is_read_in_index_order_without_a_sort(rows, vendor, url, index):
    """The page query's plan walks the paging index from the cursor on; nothing sorts the rows.

    Checked on SQLite, whose plan does not depend on the data's size. PostgreSQL and MariaDB
    choose by statistics: over the test's 2420 rows they may sort the two hundred rows left
    after a deep cursor, which says nothing of a million rows. Their plans over a million rows
    are in docs/scale.rst (``python -m tests.rest_api.paging_data explain``).
    """
    if vendor != "sqlite":
        pytest.skip(f"{vendor} plans by table statistics; see docs/scale.rst for its plans at a million rows")
    urls = {"first": f"{url}?page_size=100"}
    position = paging_data.deep_position() if url == PROGRAM else paging_data.deep_course_position()
    urls["deep"] = f"{url}?page_size=100&cursor={paging_data.cursor_at(position)}"
    for name, page_url in urls.items():
        sql, status_code = paging_data.page_query(page_url)
        assert status_code in (200, 207)
        plan = paging_data.plan(sql, analyze_it=False)
        # The paging index, or, where the course run holds most of the table's rows (as here),
        # the primary key from the cursor on: both are read in id order, neither sorts.
        ways = (f"USING INDEX {index}", f"USING COVERING INDEX {index}", "(rowid>?)")
        assert any(way in plan for way in ways), (name, plan)
        assert "TEMP B-TREE" not in plan, (name, plan)


# --- the learner endpoints ---------------------------------------------------------------------------


def test_the_learner_view_costs_the_same_for_one_program_or_many(catalog, staff, counted):
    handler_counts = counted(views.LearnerView, fixed_costs_excluded=True)
    user = UserFactory(username="many-programs")
    ProgramEnrollmentFactory(user=user, program_uuid=c.CYBERSECURITY, external_user_key="m-1")
    first, first_total = _request(staff, f"{BASE}/learners/", {"username": "many-programs"})
    assert len(first.json()["programs"]) == 1
    for program, curriculum in ((c.ANALYTICS, c.ANALYTICS_CURRICULUM), (c.OTHER, c.OTHER_CURRICULUM)):
        ProgramEnrollmentFactory(user=user, program_uuid=program, curriculum_uuid=curriculum, external_user_key="m-1")
    many, many_total = _request(staff, f"{BASE}/learners/", {"username": "many-programs"})
    assert len(many.json()["programs"]) == 3
    assert handler_counts[0] == handler_counts[1] and first_total == many_total


@pytest.mark.parametrize("path", ["programs/readonly_access/", "programs/enrollments/"])
def test_the_readable_programs_cost_the_same_for_one_program_or_many(catalog, counted, path):
    view_class = learner_views.ReadOnlyAccessView if "readonly" in path else learner_views.LearnerProgramEnrollmentsView
    handler_counts = counted(view_class, fixed_costs_excluded=True)
    user = UserFactory(username="reader-of-many")
    hosts.add_course_role(user, c.ANALYTICS_COURSE, "staff")
    ProgramEnrollmentFactory(user=user, program_uuid=c.CYBERSECURITY, status="enrolled")
    caller = Caller(user)
    one, one_total = _request(caller, f"{BASE}/{path}")
    ProgramEnrollmentFactory(
        user=user, program_uuid=c.MIT, curriculum_uuid=c.MIT_CURRICULUM, status="pending", external_user_key="m"
    )
    two, two_total = _request(caller, f"{BASE}/{path}")
    assert len(two.json()) == len(one.json()) + 1
    assert len(set(handler_counts)) == 1 and one_total == two_total, (handler_counts, one_total, two_total)


def test_a_learners_course_runs_cost_the_same_whatever_the_page(catalog, counted):
    from datetime import timedelta

    from django.utils import timezone

    user = UserFactory(username="runs-learner")
    ProgramEnrollmentFactory(user=user, external_user_key="r-1", program_uuid=c.CYBERSECURITY, status="enrolled")
    keys = [f"course-v1:GTx+PG{index:03d}+2020_Spring" for index in range(25)]
    hosts.add_programs(
        [
            c.program_document(
                c.CYBERSECURITY,
                title="Cyber",
                organization_key="GTx",
                type_="Masters",
                curricula=[c.curriculum_document(c.CYBERSECURITY_CURRICULUM, keys)],
            )
        ]
    )
    for key in keys:
        hosts.set_course_run(key, title=key, start=timezone.now() - timedelta(days=10))
        CourseEnrollmentFactory(user=user, course_id=key, mode="masters", is_active=True)
    caller = Caller(user)
    runs = counted(learner_views.UserProgramCourseRunsView, fixed_costs_excluded=True)
    totals = {}
    for size in (1, 10, 25):
        response, totals[size] = _request(
            caller, f"{BASE}/users/runs-learner/programs/{c.CYBERSECURITY}/courses", {"page_size": size}
        )
        assert len(response.json()["results"]) == size
    overview = counted(learner_views.ProgramCourseRunsOverviewView, fixed_costs_excluded=True)
    response, overview_total = _request(caller, f"{BASE}/programs/{c.CYBERSECURITY}/overview/")
    assert len(response.json()["course_runs"]) == 25
    assert len(set(runs)) == 1 and len(set(totals.values())) == 1, (runs, totals)
    assert overview == runs[:1] and overview_total == totals[1], (overview, runs, overview_total, totals)


@pytest.mark.parametrize("url", [PROGRAM, COURSE, GRADES])
def test_a_page_served_leaves_its_rows_to_reference_counting_not_the_collector(rows, staff, url):
    """A page of 1000, once served, is freed at once: nothing of it waits for the garbage collector.

    Rows held in a reference cycle live until the collector's full pass, which walks the whole
    heap: in an LMS worker that pass is long, and cyclic pages make it come often. The request
    is made as a WSGI server makes it (Django's test client links each response to itself).
    """
    request = RequestFactory().get(url, {"page_size": 1000}, **staff.headers)
    handler = ClientHandler()
    gc.collect()
    collecting = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        response = handler(request.environ)
        assert response.status_code == 200, response.content
        assert len(json.loads(response.content)["results"]) == 1000
        served = weakref.ref(response)
        del response
        assert served() is None, "the response is kept by a reference cycle"
        gc.collect()
        left = [kept for kept in gc.garbage if isinstance(kept, (ProgramEnrollment, ProgramCourseEnrollment))]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if collecting:
            gc.enable()
    assert left == []


def _index_columns(cursor, table, name):
    if connection.vendor == "sqlite":
        # Django's SQLite introspection cannot parse these tables' generated column; SQLite can.
        cursor.execute(f"PRAGMA index_info({name})")
        return [row[2] for row in cursor.fetchall()]
    return connection.introspection.get_constraints(cursor, table)[name]["columns"]


def test_the_paging_indexes_exist_and_the_triggers_survive_their_migration(db, vendor):
    with connection.cursor() as cursor:
        program_table, course_table = ProgramEnrollment._meta.db_table, ProgramCourseEnrollment._meta.db_table
        assert _index_columns(cursor, program_table, "pe_program_uuid_id") == ["program_uuid", "id"]
        assert _index_columns(cursor, course_table, "pce_course_key_id") == ["course_key", "id"]
        if vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
            triggers = [row[0] for row in cursor.fetchall()]
            assert triggers == [
                "pce_course_enrollment_of_learner_insert",
                "pce_course_enrollment_of_learner_update",
                "pe_learner_ref_to_pce",
            ]
