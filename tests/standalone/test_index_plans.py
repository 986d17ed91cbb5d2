"""Every index of the two enrollment tables, and the query of the app that uses it (PostgreSQL).

Each index either serves a query the app sends (captured by running the real code path, then
``EXPLAIN``-ed: the plan must read the index) or backs a constraint only (the primary keys).
The set of indexes on the tables must be exactly the set listed here, so an index added without
a query that uses it fails :func:`test_every_index_is_covered`. The table in docs/scale.rst
("Indexes and the queries that use them") says the same in words.

On tables of a hundred rows the planner reads everything sequentially, so each ``EXPLAIN`` runs
with ``SET LOCAL enable_seqscan = off`` (index, index-only and bitmap scans stay allowed; one case
turns explicit sorts off too), after an ``ANALYZE`` of the tables: the question asked is which
index serves the query, not whether an index beats a sequential scan at this size (docs/scale.rst
has the plans at scale).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from program_enrollments import api
from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment
from program_enrollments.openedx.compat import api as compat
from tests import catalog as c
from tests import hosts
from tests.api.helpers import PATCH, enroll, enroll_course
from tests.factories import SupportStaffFactory, UserFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="index plans are PostgreSQL's (EXPLAIN, enable_seqscan); this run's database is another",
    ),
]

PE = ProgramEnrollment._meta.db_table
PCE = ProgramCourseEnrollment._meta.db_table

# Cybersecurity holds most learners, Analytics a few: a page of Analytics is a small range of the
# paging index, as a program's page is among many programs. More learners than the admin shows on
# a page (100), so that its list is a LIMIT of the sorted rows.
CS_KEYS = [f"cs-{n}" for n in range(120)]
AN_KEYS = [f"an-{n}" for n in range(4)]
# The Cybersecurity learners linked to an account (the others wait for one).
REALIZED = CS_KEYS[:60]
WAITING = CS_KEYS[60:]


@dataclass
class Learners:
    users: dict  # student key -> user, for the realized learners


@dataclass(frozen=True)
class Case:
    """An index (found by its table and columns) and what uses it.

    ``query``: runs the app's code path (and checks its outcome); ``marks``: strings that pick
    the captured statement (every one must be in it). Or ``primary_key``: the index backs the
    table's primary key (every lookup by id, every foreign key pointing at the table).
    """

    table: str
    columns: tuple[str, ...]
    uses: str
    query: Callable[[Learners], None] | None = None
    marks: tuple[str, ...] = ()
    primary_key: bool = False
    # Or: the index backs a unique constraint, and no query needs it besides (the rule is its use).
    unique: bool = False
    # Planner settings turned off besides enable_seqscan (what is cheap on a hundred rows only).
    off: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.table.rsplit('_', 1)[-1]}({', '.join(self.columns)})"


def _client() -> APIClient:
    client = APIClient()
    client.force_authenticate(SupportStaffFactory(username="index-reader"))
    return client


def _program_page(learners: Learners) -> None:
    response = _client().get(f"/api/program_enrollments/v1/programs/{c.ANALYTICS}/enrollments/?page_size=2")
    assert response.status_code == 200, response.content


def _course_page(learners: Learners) -> None:
    response = _client().get(
        f"/api/program_enrollments/v1/programs/{c.ANALYTICS}/courses/{c.ANALYTICS_COURSE}/enrollments/?page_size=2"
    )
    assert response.status_code == 200, response.content


def _program_write(learners: Learners) -> None:
    assert enroll(c.CYBERSECURITY, CS_KEYS[:3], status="suspended", mode=PATCH) == dict.fromkeys(
        CS_KEYS[:3], "suspended"
    )


def _course_write(learners: Learners) -> None:
    keys = REALIZED[:3]
    assert enroll_course(c.CYBERSECURITY, c.SHARED_COURSE, keys, status="inactive", mode=PATCH) == dict.fromkeys(
        keys, "inactive"
    )


def _course_activation(learners: Learners) -> None:
    # Making learners active checks the one-active rule: who holds their slot in the course run.
    keys = REALIZED[:3]
    assert enroll_course(c.CYBERSECURITY, c.SHARED_COURSE, keys) == dict.fromkeys(keys, "active")


def _link_waiting(learners: Learners) -> None:
    # The host learned a waiting learner's SSO identity: their waiting enrollments, in every program.
    user = UserFactory(username="late-sso")
    outcomes = api.link_waiting_program_enrollments(organization_key="GTx", student_key=WAITING[0], user=user)
    assert [outcome.error for outcome in outcomes] == [""]


def _by_student_user(learners: Learners) -> None:
    user = learners.users[REALIZED[0]]
    assert len(compat.fetch_program_enrollments_by_student(user=user)) == 1


def _by_student_key(learners: Learners) -> None:
    # Support tools of the host: a student key's enrollments across programs, matched folded.
    assert len(compat.fetch_program_enrollments_by_student(external_user_key=WAITING[0].upper())) == 1


def _student_key_of_course_enrollment(learners: Learners) -> None:
    # The built-in app's API for Open edX's callers: the student key behind a learner's course
    # enrollment, from the user's course enrollments to the rows pointing at them.
    user = learners.users[REALIZED[0]]
    assert compat.get_external_key_by_user_and_course(user, c.SHARED_COURSE) == REALIZED[0]


CASES = [
    # program enrollments
    Case(PE, ("id",), "the primary key: rows by id (the writes' UPDATEs), the foreign keys to it", primary_key=True),
    Case(
        PE,
        ("program_uuid", "id"),
        "a page of a program's enrollments (REST list, cursor on id)",
        _program_page,
        marks=("ORDER BY", "LIMIT"),
        # On a few rows sorting them is cheaper than reading them in order; the page of a large
        # program is read in the index's order (docs/scale.rst shows the plans at a million rows).
        off=("enable_sort",),
    ),
    Case(
        PE,
        ("external_user_key_normalized", "program_uuid"),
        "the write path's read of a chunk's program enrollments, by folded student key",
        _program_write,
        marks=('"external_user_key_normalized" = ANY', "FOR UPDATE"),
    ),
    Case(
        PE,
        ("program_uuid", "user_id"),
        "a user is enrolled once in a program (the unique constraint); reads by user take the user_id index",
        unique=True,
    ),
    Case(
        PE,
        ("learner_ref",),
        "linking a waiting learner whose SSO identity the host learned: their waiting enrollments",
        _link_waiting,
        marks=('"learner_ref" =', "FOR UPDATE"),
    ),
    Case(
        PE,
        ("user_id",),
        "a learner's enrollments across programs, by user (the built-in app's by-student read)",
        _by_student_user,
        marks=('"user_id" =',),
    ),
    Case(
        PE,
        ("external_user_key_normalized", "program_uuid"),
        "a student key's enrollments across programs, folded (the built-in app's by-student read)",
        _by_student_key,
        marks=('"external_user_key_normalized" =',),
    ),
    # program course enrollments
    Case(
        PCE, ("id",), "the primary key: rows by id (the writes' UPDATEs), the course staff roles' key", primary_key=True
    ),
    Case(
        PCE,
        ("course_key", "id"),
        "a page of a course run's enrollments of a program (REST list, cursor on id)",
        _course_page,
        marks=("ORDER BY", "LIMIT"),
        # On a few rows sorting them is cheaper than reading them in order; the page of a large
        # program is read in the index's order (docs/scale.rst shows the plans at a million rows).
        off=("enable_sort",),
    ),
    Case(
        PCE,
        ("program_enrollment_id", "course_key"),
        "the course write path's read of a chunk's rows in the course run",
        _course_write,
        marks=('"program_enrollment_id" = ANY', "FOR UPDATE"),
    ),
    Case(
        PCE,
        ("active_learner_ref", "course_key"),
        "the one-active rule's read of who holds each learner's slot in the course run",
        _course_activation,
        marks=('SELECT "active_learner_ref", "program_enrollment_id"',),
    ),
    Case(
        PCE,
        ("course_enrollment_id",),
        "the student key behind a user's course enrollment (the built-in app's get_external_key_by_user_and_course)",
        _student_key_of_course_enrollment,
        marks=('"course_enrollment_id"', "ORDER BY"),
    ),
]


@pytest.fixture
def learners(catalog) -> Learners:
    """120 learners of Cybersecurity (half linked, all active in the shared course), 4 of Analytics."""
    enroll(c.CYBERSECURITY, CS_KEYS)
    enroll(c.ANALYTICS, AN_KEYS)
    users = {key: UserFactory(username=f"user-{key}") for key in REALIZED}
    outcomes = api.link_program_enrollments(
        program_uuid=c.CYBERSECURITY, usernames_by_student_key={key: user.username for key, user in users.items()}
    )
    assert not [outcome.error for outcome in outcomes.values() if outcome.error]
    assert set(enroll_course(c.CYBERSECURITY, c.SHARED_COURSE, CS_KEYS).values()) == {"active"}
    assert set(enroll_course(c.ANALYTICS, c.ANALYTICS_COURSE, AN_KEYS).values()) == {"active"}
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {PE}, {PCE}, {hosts.course_enrollment_model()._meta.db_table}")
    return Learners(users=users)


def _indexes(table: str) -> dict[tuple[str, ...], str]:
    """The table's indexes by their columns: ``{columns: name}``."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [table])
        names = {row[0] for row in cursor.fetchall()}
        constraints = connection.introspection.get_constraints(cursor, table)
    found = {tuple(constraints[name]["columns"]): name for name in names}
    assert len(found) == len(names), f"two indexes of {table} on the same columns: {sorted(names)}"
    return found


def _plan(sql: str, off: tuple[str, ...] = ()) -> str:
    """PostgreSQL's plan of ``sql`` with sequential scans (and ``off``) disabled, in a savepoint rolled back after."""
    with transaction.atomic(), connection.cursor() as cursor:
        for setting in ("enable_seqscan", *off):
            cursor.execute(f"SET LOCAL {setting} = off")
        cursor.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        transaction.set_rollback(True)
    return plan


def test_every_index_is_covered(learners):
    """The indexes of the two tables are exactly those this module names a use for."""
    for table in (PE, PCE):
        present = _indexes(table)
        covered = {case.columns for case in CASES if case.table == table}
        unexplained = {present[columns]: columns for columns in set(present) - covered}
        assert not unexplained, (
            f"{table} has indexes no case of {__name__} names a query for: {unexplained}. "
            "Add the query of the app that uses each one (or drop the index)."
        )
        missing = covered - set(present)
        assert not missing, f"{table} lacks the indexes on {sorted(missing)} that {__name__} expects."


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_index_is_used(learners, case):
    name = _indexes(case.table).get(case.columns)
    assert name is not None, f"no index of {case.table} on {case.columns}"
    if case.primary_key or case.unique:
        with connection.cursor() as cursor:
            constraint = connection.introspection.get_constraints(cursor, case.table)[name]
        kind = "primary_key" if case.primary_key else "unique"
        assert constraint[kind], f"{name} is not a {kind} constraint of {case.table}"
        return
    with CaptureQueriesContext(connection) as captured:
        case.query(learners)
    statements = [query["sql"] for query in captured.captured_queries]
    picked = [sql for sql in statements if case.table in sql and all(mark in sql for mark in case.marks)]
    assert len(picked) == 1, f"{case.uses}: expected one statement with {case.marks}, got:\n" + "\n".join(statements)
    plan = _plan(picked[0], case.off)
    assert f" {name} " in f" {plan} ".replace("\n", " "), (
        f"{case.uses}: the plan does not read {name}.\n{picked[0]}\n{plan}"
    )
