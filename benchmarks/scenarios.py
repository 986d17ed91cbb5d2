"""The scenarios: each makes what one round needs (untimed), then times one operation on it.

A scenario's ``measure(round_number)`` returns a dict of figures for that round:
``learners`` and ``seconds`` for the writes, the floor, linking and transfers;
page latencies and query counts for the reads. Every round works on a fresh
cohort of learners, made with ``benchmarks.data``, so no round reuses the state
another one left.
"""

from __future__ import annotations

import csv
import gc
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median

from django.db import connection
from django.test.utils import CaptureQueriesContext

from benchmarks import data

WRITES = "writes"
LINKING = "linking"
TRANSFERS = "transfers"
READS = "reads"
PAGE_SIZE = 1000
# GETs of each page a round; the round's latency is their median, so that one slow spell of a
# shared machine (or the first request's cold cache) does not set the round's figure.
READ_REPEATS = 5
# Where the deep page starts, as a fraction of the program's rows.
DEEP = 0.9


@dataclass
class Context:
    """What the scenarios share: the catalog, the caller, a directory for files."""

    catalog: object
    caller: object
    directory: Path
    database_url: str
    client: object = None
    # Read programs by size: (program uuid, course key).
    read_programs: dict[int, tuple[uuid.UUID, str]] = field(default_factory=dict)

    def authenticate(self) -> None:
        """A test client carrying a new JWT of the caller (the tokens expire after ten minutes)."""
        from django.test import Client
        from edx_rest_framework_extensions.auth.jwt.tests.utils import generate_jwt

        self.client = Client(HTTP_AUTHORIZATION=f"JWT {generate_jwt(self.caller)}")


@dataclass
class Scenario:
    key: str
    group: str
    title: str
    measure: object = None


def _course_url(program_uuid, course_key) -> str:
    return f"/api/program_enrollments/v1/programs/{program_uuid}/courses/{course_key}/enrollments/"


def _program_url(program_uuid) -> str:
    return f"/api/program_enrollments/v1/programs/{program_uuid}/enrollments/"


def start_clock() -> float:
    """Collect the garbage the harness left, untimed, then read the clock for a timed operation.

    Django's test client links each response to itself, so every request the scenarios make
    leaves a reference cycle; the collector's full pass over them would land in whichever timed
    operation happened to be running. The operation's own garbage is still collected in its time.
    """
    gc.collect()
    return time.perf_counter()


def warm_up(context: Context) -> None:
    """One untimed PUT and GET, so that no scenario's first round pays for the process's first request."""
    catalog = context.catalog
    context.authenticate()
    keys = data.realized_learners(
        "warmup", 1, program_uuid=catalog.CYBERSECURITY, curriculum_uuid=catalog.CYBERSECURITY_CURRICULUM
    )
    body = json.dumps([{"student_key": keys[0], "status": "active"}])
    url = _course_url(catalog.CYBERSECURITY, catalog.SHARED_COURSE)
    for response in (
        context.client.put(url, body, content_type="application/json"),
        context.client.get(f"{url}?page_size=1"),
        context.client.get(f"{_program_url(catalog.CYBERSECURITY)}?page_size=1"),
    ):
        if response.status_code != 200:
            raise RuntimeError(f"warm-up request answered {response.status_code}: {response.content[:500]!r}")


# --- writes ---------------------------------------------------------------------------------------


def rest_put(context: Context, *, learners: int, per_request: int):
    """PUT ``active`` for fresh realized learners, ``per_request`` to a request, through the whole stack."""
    catalog = context.catalog
    url = _course_url(catalog.CYBERSECURITY, catalog.SHARED_COURSE)

    def measure(round_number):
        keys = data.realized_learners(
            f"put{per_request}r{round_number}",
            learners,
            program_uuid=catalog.CYBERSECURITY,
            curriculum_uuid=catalog.CYBERSECURITY_CURRICULUM,
        )
        bodies = [
            json.dumps([{"student_key": key, "status": "active"} for key in keys[start : start + per_request]])
            for start in range(0, learners, per_request)
        ]
        started = start_clock()
        for body in bodies:
            response = context.client.put(url, body, content_type="application/json")
            if response.status_code != 200:
                raise RuntimeError(f"PUT answered {response.status_code}: {response.content[:500]!r}")
        return {"learners": learners, "seconds": time.perf_counter() - started}

    return measure


def api_write(context: Context, *, learners: int, per_call: int):
    """``api.write_program_course_enrollments`` for fresh realized learners, ``per_call`` to a call."""
    from program_enrollments import api

    catalog = context.catalog

    def measure(round_number):
        keys = data.realized_learners(
            f"api{per_call}r{round_number}",
            learners,
            program_uuid=catalog.CYBERSECURITY,
            curriculum_uuid=catalog.CYBERSECURITY_CURRICULUM,
        )
        batches = [
            [{"student_key": key, "status": "active"} for key in keys[start : start + per_call]]
            for start in range(0, learners, per_call)
        ]
        started = start_clock()
        for batch in batches:
            result = api.write_program_course_enrollments(
                program_uuid=catalog.CYBERSECURITY,
                course_key=catalog.SHARED_COURSE,
                requests=batch,
                create=True,
                update=True,
            )
            if set(result.values()) != {"active"}:
                raise RuntimeError(f"write results other than active: {set(result.values())}")
        return {"learners": learners, "seconds": time.perf_counter() - started}

    return measure


def floor(context: Context, *, learners: int):
    """Insert the same active rows as a PUT with one plain SQL statement: no checks, no history, no side effects.

    PostgreSQL: ``INSERT ... SELECT FROM unnest(arrays)``; MySQL/MariaDB and SQLite:
    a multi-row ``INSERT ... VALUES``, 1000 rows to a statement.
    """
    from program_enrollments.constants import CourseAccessGrant, ProgramCourseEnrollmentStatus
    from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment

    catalog = context.catalog
    table = connection.ops.quote_name(ProgramCourseEnrollment._meta.db_table)
    columns = "created, modified, program_enrollment_id, course_key, status, course_staff, learner_ref, access_grant"
    active, grant, course = ProgramCourseEnrollmentStatus.ACTIVE, CourseAccessGrant.NONE, str(catalog.SHARED_COURSE)

    def measure(round_number):
        prefix = f"floorr{round_number}"
        data.realized_learners(
            prefix, learners, program_uuid=catalog.CYBERSECURITY, curriculum_uuid=catalog.CYBERSECURITY_CURRICULUM
        )
        rows = list(
            ProgramEnrollment.objects.filter(
                program_uuid=catalog.CYBERSECURITY, external_user_key__startswith=f"{prefix}-"
            ).values_list("id", "learner_ref")
        )
        now = data.now()
        started = start_clock()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    f"INSERT INTO {table} ({columns}) SELECT %s, %s, pe, %s, %s, %s, ref, %s "
                    "FROM unnest(%s::bigint[], %s::text[]) AS rows(pe, ref)",
                    [now, now, course, active, False, grant, [pk for pk, _ in rows], [ref for _, ref in rows]],
                )
            else:
                for start in range(0, len(rows), 1000):
                    chunk = rows[start : start + 1000]
                    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
                    params = [v for pk, ref in chunk for v in (now, now, pk, course, active, False, ref, grant)]
                    cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {values}", params)
        return {"learners": learners, "seconds": time.perf_counter() - started}

    return measure


# --- linking --------------------------------------------------------------------------------------


def linking(context: Context, *, learners: int, per_call: int = 1000):
    """``api.link_program_enrollments`` of fresh waiting learners, active in a course, to new accounts."""
    from program_enrollments import api

    catalog = context.catalog

    def measure(round_number):
        prefix = f"linkr{round_number}"
        keys = data.waiting_learners(
            prefix,
            learners,
            program_uuid=catalog.CYBERSECURITY,
            curriculum_uuid=catalog.CYBERSECURITY_CURRICULUM,
            course_key=catalog.SHARED_COURSE,
        )
        data.accounts(prefix, learners)
        batches = [
            {key: data.username(key) for key in keys[start : start + per_call]}
            for start in range(0, learners, per_call)
        ]
        started = start_clock()
        for batch in batches:
            outcomes = api.link_program_enrollments(program_uuid=catalog.CYBERSECURITY, usernames_by_student_key=batch)
            failed = [outcome for outcome in outcomes.values() if outcome.error]
            if failed:
                raise RuntimeError(f"{len(failed)} learners not linked, first: {failed[0].error}")
        return {"learners": learners, "seconds": time.perf_counter() - started}

    return measure


# --- transfers ------------------------------------------------------------------------------------


def transfer(context: Context, *, learners: int, options=()):
    """``manage.py transfer_program_enrollments`` of fresh waiting learners, from a CSV file, in its own process."""
    catalog = context.catalog

    def measure(round_number):
        prefix = f"t{learners}r{round_number}"
        keys = data.waiting_learners(
            prefix,
            learners,
            program_uuid=catalog.CYBERSECURITY,
            curriculum_uuid=catalog.CYBERSECURITY_CURRICULUM,
            course_key=catalog.SHARED_COURSE,
        )
        data.analyze()
        learners_file = context.directory / f"{prefix}-learners.csv"
        with learners_file.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["student_key", "email"])
            writer.writerows((key, f"{key}@example.com") for key in keys)
        result_file = context.directory / f"{prefix}-result.json"
        command = [
            "transfer_program_enrollments",
            f"--from-program={catalog.CYBERSECURITY}",
            f"--to-program={catalog.OTHER}",
            f"--learners={learners_file}",
            f"--report={context.directory / f'{prefix}-report.csv'}",
            "--source-status=canceled",
            *options,
        ]
        environment = {
            # An operator's own secrets: with debug off, manage.py refuses the development ones.
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "PROGRAM_ENROLLMENTS_JWT_SECRET_KEY": secrets.token_urlsafe(50),
            **os.environ,
            "DATABASE_URL": context.database_url,
            "DJANGO_DEBUG": "0",
        }
        started = start_clock()
        finished = subprocess.run(
            [sys.executable, "-m", "benchmarks.command", str(result_file), *command],
            capture_output=True,
            text=True,
            env=environment,
            cwd=Path(__file__).resolve().parents[1],
        )
        process_seconds = time.perf_counter() - started
        if finished.returncode != 0 or not result_file.exists():
            raise RuntimeError(f"the transfer process failed ({finished.returncode}): {finished.stderr[-2000:]}")
        result = json.loads(result_file.read_text(encoding="utf-8"))
        if result["status"] != 0:
            raise RuntimeError(f"the command exited with {result['status']}: {finished.stderr[-2000:]}")
        _check_transferred(prefix, learners, catalog)
        for name in (learners_file, result_file, context.directory / f"{prefix}-report.csv"):
            name.unlink(missing_ok=True)
        return {
            "learners": learners,
            "seconds": result["seconds"],
            "process_seconds": process_seconds,
            "rss_growth_mb": result["rss_after_mb"] - result["rss_before_mb"],
        }

    return measure


def _check_transferred(prefix, count, catalog):
    from program_enrollments.models import ProgramCourseEnrollment

    cohort = ProgramCourseEnrollment.objects.active().filter(
        program_enrollment__external_user_key__startswith=f"{prefix}-"
    )
    in_target = cohort.for_program(catalog.OTHER).count()
    in_source = cohort.for_program(catalog.CYBERSECURITY).count()
    if (in_target, in_source) != (count, 0):
        raise RuntimeError(f"after the transfer: {in_target} active in the target, {in_source} in the source")


# --- reads ----------------------------------------------------------------------------------------


def read_program(rows: int) -> tuple[uuid.UUID, uuid.UUID, str]:
    """The program (uuid, curriculum uuid, course key) that holds the ``rows`` learners of the reads."""
    program = uuid.uuid5(uuid.NAMESPACE_URL, f"program-enrollments-benchmark-reads-{rows}")
    curriculum = uuid.uuid5(uuid.NAMESPACE_URL, f"program-enrollments-benchmark-reads-{rows}-curriculum")
    return program, curriculum, f"course-v1:GTx+BENCH{rows}+2020_Spring"


def make_read_programs(context: Context, sizes: list[int]) -> None:
    """Add a program per size to the catalog and fill it with that many waiting learners, active in its course."""
    from tests import hosts

    documents = []
    for rows in sizes:
        program, curriculum, course = read_program(rows)
        documents.append(
            context.catalog.program_document(
                program,
                title=f"Benchmark reads, {rows} learners",
                organization_key=data.ORGANIZATION_KEY,
                curricula=[context.catalog.curriculum_document(curriculum, [course])],
            )
        )
    hosts.add_programs(documents)
    for rows in sizes:
        program, curriculum, course = read_program(rows)
        data.waiting_learners(f"read{rows}", rows, program_uuid=program, curriculum_uuid=curriculum, course_key=course)
        data.check_identity(f"read{rows}", program)
        context.read_programs[rows] = (program, course)
    data.analyze()


def deep_start(rows: int) -> int:
    """The index of the deep page's first row."""
    return int(rows * DEEP)


def reads(
    context: Context,
    *,
    rows: int,
    reference_rows: int | None = None,
    page_size: int = PAGE_SIZE,
    repeats: int = READ_REPEATS,
):
    """GET the first page and a deep page (at 90%) of a program's and a course's enrollments.

    Each page is fetched ``repeats`` times; the round's latency is the median of them, and
    every latency is kept (``*_all_seconds``). With ``reference_rows`` (the smallest size),
    each GET is paired with a GET of the same page of the reference program, the two in
    alternating order, and the round's ``*_ratio`` is the median of the pairs' ratios: a slow
    spell of the machine then slows both sides of a pair rather than one size more than the
    other.
    """
    endpoints: dict[int, dict[str, tuple[str, str]]] = {}

    def urls(size):
        # The read programs are made once all scenarios are built (make_read_programs).
        if size not in endpoints:
            program, course = context.read_programs[size]
            endpoints[size] = {}
            for name, url, course_key in (
                ("program", _program_url(program), None),
                ("course", _course_url(program, course), course),
            ):
                first = f"{url}?page_size={page_size}"
                endpoints[size][name] = (first, _deep_cursor_url(first, program, course_key, size))
        return endpoints[size]

    def get(url):
        """(seconds, queries) of one GET of a full page."""
        with CaptureQueriesContext(connection) as queries:
            started = start_clock()
            response = context.client.get(url)
            seconds = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}: {response.content[:500]!r}")
        results = response.json()["results"]
        if len(results) != page_size:
            raise RuntimeError(f"GET {url} gave {len(results)} results, not {page_size}")
        return seconds, len(queries)

    paired = reference_rows is not None and reference_rows != rows

    def measure(round_number):
        figures = {"rows": rows}
        for name, (first, deep) in urls(rows).items():
            reference = urls(reference_rows)[name] if paired else None
            for page, url in (("first", first), ("deep", deep)):
                latencies, counts, ratios = [], [], []
                for repeat in range(repeats):
                    if not paired:
                        seconds, count = get(url)
                    else:
                        other_url = reference[0] if page == "first" else reference[1]
                        if repeat % 2:
                            (seconds, count), (other, _) = get(url), get(other_url)
                        else:
                            (other, _), (seconds, count) = get(other_url), get(url)
                        ratios.append(seconds / other)
                    latencies.append(seconds)
                    counts.append(count)
                figures[f"{name}_{page}_seconds"] = median(latencies)
                figures[f"{name}_{page}_all_seconds"] = latencies
                figures[f"{name}_{page}_queries"] = max(counts)
                if paired:
                    figures[f"{name}_{page}_ratio"] = median(ratios)
                    figures[f"{name}_{page}_all_ratios"] = ratios
        return figures

    return measure


def _deep_cursor_url(url, program, course, rows):
    """The URL of the page that starts at 90% of the rows, with the cursor a client would hold there."""
    from rest_framework.pagination import Cursor, CursorPagination

    from program_enrollments import api
    from program_enrollments.rest_api.v1.pagination import EnrollmentCursorPagination

    paginator = EnrollmentCursorPagination()
    if not isinstance(paginator, CursorPagination):
        raise RuntimeError("the reads' deep page expects cursor pagination")
    if course is None:
        queryset = api.fetch_program_enrollments(program_uuids=[program])
    else:
        queryset = api.fetch_program_course_enrollments(program_uuids=[program], course_keys=[course])
    ordering = (paginator.ordering,) if isinstance(paginator.ordering, str) else tuple(paginator.ordering)
    # The last row of the page before: the cursor's position is taken from it, as the paginator does.
    before = queryset.order_by(*ordering)[deep_start(rows) - 1]
    paginator.base_url = f"http://testserver{url}"
    return paginator.encode_cursor(
        Cursor(offset=0, reverse=False, position=paginator._get_position_from_instance(before, ordering))
    )


def temporary_directory():
    return tempfile.TemporaryDirectory(prefix="program-enrollments-benchmarks-")
