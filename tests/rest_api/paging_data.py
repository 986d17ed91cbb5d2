"""Large paging data sets in seconds, and the query plans of the REST API's page reads over them.

``generate(rows)`` fills the current database with raw ``INSERT ... SELECT`` statements over a
number series (``generate_series`` on PostgreSQL, the ``seq_1_to_N`` sequence table on MariaDB,
a recursive CTE on SQLite), without the ORM, signals or history rows:

* ``rows`` program enrollments in Cybersecurity and ``rows // 10`` in Other (both GTx programs of
  the test catalog), interleaved by id (every 11th row is Other's); student keys
  ``scale-<n>``, status ``enrolled``; every even ``n`` is realized (a user ``scale-user-<n>``
  with a course grade in the shared course), every odd one is waiting;
* one active program course enrollment in the shared course per program enrollment, in
  program enrollment order (so the shared course holds ``rows * 1.1`` rows, of both programs);
* a small program among them: ``rows // 1000`` learners (at least 10) ``small-<n>`` in Analytics,
  each with a row in Analytics' own course (the same pattern: even ones realized and graded).

Identities are the app's (``learner_ref``: ``user:<id>``, or ``key:`` and the SHA-256 of the
organization and folded key), so the rows behave as the API's own writes. ``explain()`` requests
the first page and a deep page (90% through the program) of each paged endpoint through the test
client, captures the page query the view sends, and returns the database's plan of it.

As a script, against the database of ``DATABASE_URL`` (migrated), with ``DJANGO_DEBUG=1``::

    python -m tests.rest_api.paging_data generate 1000000
    python -m tests.rest_api.paging_data explain
"""

from __future__ import annotations

import base64
import hashlib
import sys
import time
from uuid import UUID

from django.db import connection

PROGRAM_ROWS_TABLE = "program_enrollments_programenrollment"
COURSE_ROWS_TABLE = "program_enrollments_programcourseenrollment"
PREFIX = "scale-"
# The small program's learners: one for SMALL_SHARE of Cybersecurity's.
SMALL_PREFIX = "small-"
SMALL_SHARE = 1000
# Every OTHER_EVERY-th generated learner is in the other program.
OTHER_EVERY = 11


def _uuid(value: UUID):
    from program_enrollments.models import ProgramEnrollment

    return ProgramEnrollment._meta.get_field("program_uuid").get_db_prep_value(value, connection)


def _series(count: int) -> tuple[str, list]:
    """A ``FROM`` clause naming a column ``n`` that runs from 1 to ``count``, and its parameters."""
    if connection.vendor == "postgresql":
        return "generate_series(1, %s) AS s(n)", [count]
    if connection.vendor == "mysql":
        # MariaDB's SEQUENCE engine: a virtual table per range, no parameter possible in its name.
        return f"(SELECT seq AS n FROM seq_1_to_{int(count)}) AS s", []
    return (
        "(WITH RECURSIVE series(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM series WHERE n < %s) "
        "SELECT n FROM series) AS s",
        [count],
    )


def _sql(vendor: str, prefix: str) -> dict[str, str]:
    """The vendor's spelling of text concatenation, SHA-256 in hex, the current time and booleans."""
    user_prefix = f"{prefix}user-"
    if vendor == "postgresql":
        return {
            "key": f"'{prefix}' || s.n",
            "username": f"'{user_prefix}' || s.n",
            "digest": f"encode(sha256(convert_to('gtx' || chr(10) || '{prefix}' || s.n, 'UTF8')), 'hex')",
            "user_ref": "'user:' || u.id",
            "concat_key": "'key:' || ",
            "now": "now()",
            "false": "false",
            "true": "true",
        }
    if vendor == "mysql":
        return {
            "key": f"CONCAT('{prefix}', s.n)",
            "username": f"CONCAT('{user_prefix}', s.n)",
            "digest": f"SHA2(CONCAT('gtx', CHAR(10), '{prefix}', s.n), 256)",
            "user_ref": "CONCAT('user:', u.id)",
            "concat_key": "CONCAT('key:', {})",
            "now": "NOW(6)",
            "false": "0",
            "true": "1",
        }
    return {
        "key": f"'{prefix}' || s.n",
        "username": f"'{user_prefix}' || s.n",
        "digest": f"scale_sha256('gtx' || char(10) || '{prefix}' || s.n)",
        "user_ref": "'user:' || u.id",
        "concat_key": "'key:' || ",
        "now": "strftime('%%Y-%%m-%%d %%H:%%M:%%f', 'now')",
        "false": "0",
        "true": "1",
    }


def generate(rows: int) -> dict[str, int]:
    """Fill the database with the data set of the module docstring, for ``rows`` learners of Cybersecurity.

    Loads the test catalog first. Returns the number of rows added to each table.
    """
    from tests import catalog, hosts

    hosts.load_catalog()
    counts = _insert(
        prefix=PREFIX,
        count=rows + rows // (OTHER_EVERY - 1),
        program=catalog.CYBERSECURITY,
        other=catalog.OTHER,
        course=catalog.SHARED_COURSE,
    )
    small = _insert(
        prefix=SMALL_PREFIX,
        count=max(rows // SMALL_SHARE, 10),
        program=catalog.ANALYTICS,
        other=None,
        course=catalog.ANALYTICS_COURSE,
    )
    with connection.cursor() as cursor:
        analyze(cursor)
    return {table: counts[table] + small[table] for table in counts}


def _insert(*, prefix: str, count: int, program: UUID, other: UUID | None, course: str) -> dict[str, int]:
    """Learners ``<prefix><n>`` for n in 1..count, in ``program`` (every OTHER_EVERY-th in ``other``), with
    their row in ``course``; the even ones realized, with a grade there."""
    from tests import catalog, hosts

    vendor = connection.vendor
    sql = _sql(vendor, prefix)
    series, series_params = _series(count)
    if vendor == "sqlite":
        connection.ensure_connection()
        connection.connection.create_function(
            "scale_sha256", 1, lambda text: hashlib.sha256(text.encode()).hexdigest(), deterministic=True
        )
    key_ref = (
        sql["concat_key"].format(sql["digest"]) if "{}" in sql["concat_key"] else sql["concat_key"] + sql["digest"]
    )
    other = other or program
    counts = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, "
            f"is_staff, is_active, date_joined) SELECT '!', {sql['false']}, {sql['username']}, '', '', '', "
            f"{sql['false']}, {sql['true']}, {sql['now']} FROM {series} WHERE s.n %% 2 = 0",
            series_params,
        )
        counts["auth_user"] = cursor.rowcount
        cursor.execute(
            f"INSERT INTO {PROGRAM_ROWS_TABLE} (created, modified, user_id, external_user_key, "
            "external_user_key_normalized, program_uuid, curriculum_uuid, status, learner_ref) "
            f"SELECT {sql['now']}, {sql['now']}, u.id, {sql['key']}, {sql['key']}, "
            f"CASE WHEN s.n %% {OTHER_EVERY} = 0 THEN %s ELSE %s END, "
            f"CASE WHEN s.n %% {OTHER_EVERY} = 0 THEN %s ELSE %s END, 'enrolled', "
            f"CASE WHEN u.id IS NULL THEN {key_ref} ELSE {sql['user_ref']} END "
            f"FROM {series} LEFT JOIN auth_user u ON u.username = {sql['username']} ORDER BY s.n",
            [
                _uuid(other),
                _uuid(program),
                _uuid(catalog.CURRICULUM_OF[other]),
                _uuid(catalog.CURRICULUM_OF[program]),
                *series_params,
            ],
        )
        counts[PROGRAM_ROWS_TABLE] = cursor.rowcount
        cursor.execute(
            f"INSERT INTO {COURSE_ROWS_TABLE} (created, modified, program_enrollment_id, course_enrollment_id, "
            "course_key, status, course_staff, access_grant, prior_mode, prior_is_active, learner_ref) "
            f"SELECT {sql['now']}, {sql['now']}, pe.id, NULL, %s, 'active', {sql['false']}, 'unknown', NULL, NULL, "
            f"pe.learner_ref FROM {PROGRAM_ROWS_TABLE} pe WHERE pe.external_user_key LIKE %s ORDER BY pe.id",
            [course, f"{prefix}%"],
        )
        counts[COURSE_ROWS_TABLE] = cursor.rowcount
        counts["lms_coursegrade"] = 0
        if hosts.is_standalone():
            cursor.execute(
                "INSERT INTO lms_coursegrade (created, modified, user_id, course_id, percent, letter_grade, passed) "
                f"SELECT {sql['now']}, {sql['now']}, u.id, %s, 0.8, 'B', {sql['true']} FROM auth_user u "
                "WHERE u.username LIKE %s",
                [course, f"{prefix}user-%"],
            )
            counts["lms_coursegrade"] = cursor.rowcount
    return counts


def analyze(cursor) -> None:
    """Refresh the planner's statistics of the tables the page reads use."""
    tables = [PROGRAM_ROWS_TABLE, COURSE_ROWS_TABLE, "auth_user"]
    if connection.vendor == "postgresql":
        for table in tables:
            cursor.execute(f"ANALYZE {table}")
    elif connection.vendor == "mysql":
        # ANALYZE TABLE commits the transaction under way: never inside one (a test's). InnoDB
        # refreshes the statistics by itself once a tenth of a table has changed.
        if not connection.in_atomic_block:
            cursor.execute(f"ANALYZE TABLE {', '.join(tables)}")
            cursor.fetchall()
    else:
        cursor.execute("ANALYZE")


def cursor_at(position: int) -> str:
    """A ``cursor`` query parameter pointing after the row of id ``position`` (DRF's encoding)."""
    return base64.b64encode(f"p={position}".encode("ascii")).decode("ascii")


def deep_position(program_uuid: UUID | None = None, fraction: float = 0.9) -> int:
    """The id of a program's enrollment ``fraction`` of the way through, in id order (Cybersecurity by default)."""
    from program_enrollments.models import ProgramEnrollment
    from tests import catalog

    ids = ProgramEnrollment.objects.filter(program_uuid=program_uuid or catalog.CYBERSECURITY).order_by("id")
    return ids.values_list("id", flat=True)[int(ids.count() * fraction)]


def deep_course_position(program_uuid: UUID | None = None, course_key: str | None = None, fraction: float = 0.9) -> int:
    """The id of a program's row in a course run (the shared one by default) ``fraction`` of the way, in id order."""
    from program_enrollments.models import ProgramCourseEnrollment
    from tests import catalog

    ids = ProgramCourseEnrollment.objects.filter(
        program_enrollment__program_uuid=program_uuid or catalog.CYBERSECURITY,
        course_key=course_key or catalog.SHARED_COURSE,
    ).order_by("id")
    return ids.values_list("id", flat=True)[int(ids.count() * fraction)]


def page_urls(page_size: int = 1000) -> dict[str, str]:
    """The paged endpoints' URLs over the data set: first and deep page, for the large and the small program."""
    from tests import catalog

    urls = {}
    for label, program, course_key in (
        ("Cybersecurity", catalog.CYBERSECURITY, catalog.SHARED_COURSE),
        ("Other", catalog.OTHER, catalog.SHARED_COURSE),
        ("Analytics (small)", catalog.ANALYTICS, catalog.ANALYTICS_COURSE),
    ):
        base = f"/api/program_enrollments/v1/programs/{program}"
        course = f"{base}/courses/{course_key}"
        deep = cursor_at(deep_position(program))
        deep_course = cursor_at(deep_course_position(program, course_key))
        for name, path, cursor in (
            ("program enrollments", f"{base}/enrollments/", deep),
            ("course enrollments", f"{course}/enrollments/", deep_course),
            ("grades", f"{course}/grades/", deep_course),
        ):
            urls[f"{label}: {name}, first page"] = f"{path}?page_size={page_size}"
            urls[f"{label}: {name}, deep page"] = f"{path}?page_size={page_size}&cursor={cursor}"
    return urls


def _client():
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    user, _ = get_user_model().objects.get_or_create(
        username="scale-reader", defaults={"is_staff": True, "is_superuser": True}
    )
    client = APIClient()
    client.force_authenticate(user)
    return client


def page_query(url: str, client=None) -> tuple[str, int]:
    """The SQL of the page query a GET of ``url`` sends (the one ordered by id), and the response's status."""
    from django.test.utils import CaptureQueriesContext

    client = client or _client()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    paged = [
        query["sql"] for query in queries.captured_queries if "ORDER BY" in query["sql"] and "LIMIT" in query["sql"]
    ]
    if len(paged) != 1:
        raise AssertionError(f"Expected one page query for {url}, got {len(paged)}: {paged}")
    return paged[0], response.status_code


def plan(sql: str, *, analyze_it: bool = True) -> str:
    """The database's plan of ``sql``: EXPLAIN ANALYZE (PostgreSQL), ANALYZE (MariaDB), EXPLAIN QUERY PLAN (SQLite)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                ("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) " if analyze_it else "EXPLAIN ") + sql
            )
            return "\n".join(row[0] for row in cursor.fetchall())
        if connection.vendor == "mysql":
            cursor.execute(("ANALYZE " if analyze_it else "EXPLAIN ") + sql)
            columns = [column[0] for column in cursor.description]
            wanted = [
                name
                for name in ("table", "type", "key", "rows", "r_rows", "filtered", "r_filtered", "Extra")
                if name in columns
            ]
            lines = [" | ".join(wanted)]
            for row in cursor.fetchall():
                values = dict(zip(columns, row, strict=True))
                lines.append(" | ".join(str(values[name]) for name in wanted))
            return "\n".join(lines)
        cursor.execute("EXPLAIN QUERY PLAN " + sql)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


def explain(page_size: int = 1000) -> dict[str, str]:
    """The plan of each paged endpoint's page query (first and deep page), by endpoint."""
    client = _client()
    plans = {}
    for name, url in page_urls(page_size).items():
        sql, status_code = page_query(url, client)
        plans[name] = f"GET {url} -> {status_code}\n{sql}\n{plan(sql)}"
    return plans


def time_pages(page_size: int = 1000, repeat: int = 7) -> dict[str, float]:
    """The median wall time (ms) of each page request, in-process (a rough figure: compare ratios only)."""
    client = _client()
    medians = {}
    for name, url in page_urls(page_size).items():
        client.get(url)  # warm caches
        samples = []
        for _ in range(repeat):
            start = time.perf_counter()
            response = client.get(url)
            samples.append((time.perf_counter() - start) * 1000)
            assert response.status_code in (200, 204, 207), (url, response.status_code)
        medians[name] = sorted(samples)[len(samples) // 2]
    return medians


def main(argv: list[str]) -> int:
    import django

    django.setup()
    command = argv[0] if argv else ""
    if command == "generate" and len(argv) == 2:
        started = time.perf_counter()
        counts = generate(int(argv[1]))
        print(counts, f"{time.perf_counter() - started:.1f}s")
        return 0
    if command == "add-small" and len(argv) == 2:
        # The small program alone, added to a data set generated before it existed.
        from tests import catalog

        counts = _insert(
            prefix=SMALL_PREFIX,
            count=int(argv[1]),
            program=catalog.ANALYTICS,
            other=None,
            course=catalog.ANALYTICS_COURSE,
        )
        with connection.cursor() as cursor:
            analyze(cursor)
        print(counts)
        return 0
    if command == "explain":
        for name, text in explain().items():
            print(f"== {name}\n{text}\n")
        return 0
    if command == "time":
        for name, value in time_pages().items():
            print(f"{name}: {value:.1f} ms")
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "program_enrollments.standalone.settings")
    sys.exit(main(sys.argv[1:]))
