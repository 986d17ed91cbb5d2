"""The v1 endpoints over real HTTP, served by a live multi-threaded server.

Django's live server (``LiveServerThread``) serves with a ``ThreadedWSGIServer``:
every request runs in its own thread with its own database connection, so
clients released together by a barrier really do race inside the database.
That race needs row locks and a unique index that SQLite does not exercise
(it serializes writers), so it runs on PostgreSQL and MariaDB; the registrar
walk-through and the authentication checks run on every database.
"""

from __future__ import annotations

import logging
import socketserver
import threading

import pytest
import requests
from django.core.signals import request_finished, request_started
from django.db import connection, connections
from edx_rest_framework_extensions.auth.jwt.tests.utils import (
    generate_jwt,
    generate_jwt_token,
    generate_latest_version_payload,
)

from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment
from tests import catalog as c
from tests.factories import SupportStaffFactory

pytestmark = pytest.mark.django_db(transaction=True)

BASE = "/api/program_enrollments/v1"
ROUNDS = 30
TIMEOUT = 30


def program_path(program):
    return f"{BASE}/programs/{program}/enrollments/"


def course_path(program, course=c.SHARED_COURSE):
    return f"{BASE}/programs/{program}/courses/{course}/enrollments/"


def program_items(keys, program, status="enrolled"):
    curriculum = str(c.CURRICULUM_OF[program])
    return [{"student_key": key, "status": status, "curriculum_uuid": curriculum} for key in keys]


def course_items(keys, status="active"):
    return [{"student_key": key, "status": status} for key in keys]


def auth(user):
    return {"Authorization": f"JWT {generate_jwt(user)}"}


def describe(response):
    return f"{response.request.method} {response.request.url} -> {response.status_code}: {response.text[:2000]}"


@pytest.fixture
def server_errors():
    """The errors the server logged while the test ran (tracebacks of 5xx responses)."""

    class Collector(logging.Handler):
        def __init__(self):
            super().__init__(level=logging.ERROR)
            self.records = []

        def emit(self, record):
            self.records.append(record)

        def report(self):
            formatter = logging.Formatter("%(name)s: %(message)s")
            return "\n\n".join(
                formatter.format(record)
                + "\n"
                + (formatter.formatException(record.exc_info) if record.exc_info else "")
                for record in self.records
            )

    collector = Collector()
    loggers = [logging.getLogger(name) for name in ("django.request", "django.server", "program_enrollments")]
    for logger in loggers:
        logger.addHandler(collector)
    yield collector
    for logger in loggers:
        logger.removeHandler(collector)


@pytest.fixture
def in_flight():
    """Which server threads are handling a request at once, and with which database connections."""

    class Tracker:
        def __init__(self):
            self.lock = threading.Lock()
            self.current = {}
            self.peak = 0
            self.shared_connection_seen = False

        def started(self, **kwargs):
            with self.lock:
                self.current[threading.get_ident()] = connections["default"]
                self.peak = max(self.peak, len(self.current))
                wrappers = {id(wrapper) for wrapper in self.current.values()}
                if len(wrappers) != len(self.current):
                    self.shared_connection_seen = True

        def finished(self, **kwargs):
            with self.lock:
                self.current.pop(threading.get_ident(), None)

    tracker = Tracker()
    request_started.connect(tracker.started, dispatch_uid="live-server-in-flight-start")
    request_finished.connect(tracker.finished, dispatch_uid="live-server-in-flight-finish")
    yield tracker
    request_started.disconnect(dispatch_uid="live-server-in-flight-start")
    request_finished.disconnect(dispatch_uid="live-server-in-flight-finish")


@pytest.fixture
def refusals():
    """The chunks the database refused (unique index, deadlock) and the API decided again."""
    records = []

    class Counter(logging.Handler):
        def emit(self, record):
            if record.getMessage().startswith("Database refused a chunk"):
                records.append(record)

    logger = logging.getLogger("program_enrollments.api._batches")
    handler, level = Counter(level=logging.INFO), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield records
    logger.setLevel(level)
    logger.removeHandler(handler)


@pytest.fixture
def staff_user(db):
    return SupportStaffFactory(username="registrar")


def race(*calls):
    """Run the calls in threads released together by a barrier; return their results and any exceptions."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)
    errors = []

    def run(index, call):
        try:
            barrier.wait(timeout=TIMEOUT)
            results[index] = call()
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=2 * TIMEOUT)
    return results, errors


def casings(key):
    """Four spellings of one student key, all the same learner (keys compare case-insensitively)."""
    return key.lower(), key.upper(), key.title(), key.title().swapcase()


@pytest.mark.concurrency
@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite serializes writers; the HTTP race runs on PostgreSQL and MariaDB "
    "(DATABASE_URL=postgres://... or mysql://...)",
)
def test_programs_racing_over_http_leave_one_winner(
    catalog, live_server, staff_user, server_errors, in_flight, refusals
):
    assert isinstance(live_server.thread.httpd, socketserver.ThreadingMixIn), "the live server must be multi-threaded"
    headers = auth(staff_user)
    setup = requests.Session()
    setup.headers.update(headers)
    # Two writers per program, each spelling the key differently, and one reader.
    writers = [(c.CYBERSECURITY, 0), (c.OTHER, 1), (c.CYBERSECURITY, 2), (c.OTHER, 3)]
    sessions = [requests.Session() for _ in range(len(writers) + 1)]
    for session in sessions:
        session.headers.update(headers)

    def put(session, program, key):
        return session.put(live_server.url + course_path(program), json=course_items([key]), timeout=TIMEOUT)

    def read(session):
        return session.get(live_server.url + course_path(c.CYBERSECURITY) + "?page_size=1000", timeout=TIMEOUT)

    wins = {c.CYBERSECURITY: 0, c.OTHER: 0}
    overlapping_rounds = 0
    for round_ in range(ROUNDS):
        key = f"race-{round_}"
        spellings = casings(key)
        for program, spelling in ((c.CYBERSECURITY, spellings[0]), (c.OTHER, spellings[1])):
            response = setup.put(
                live_server.url + program_path(program), json=program_items([spelling], program), timeout=TIMEOUT
            )
            assert (response.status_code, response.json()) == (200, {spelling: "enrolled"}), describe(response)

        peak_before = in_flight.peak
        in_flight.peak = 0
        responses, errors = race(
            *[
                lambda session=session, program=program, spelling=spellings[index]: put(session, program, spelling)
                for session, (program, index) in zip(sessions, writers, strict=False)
            ],
            lambda: read(sessions[-1]),
        )
        overlapping_rounds += in_flight.peak > 1
        in_flight.peak = max(in_flight.peak, peak_before)
        assert errors == [], (round_, errors)
        failures = [describe(response) for response in responses if response.status_code >= 500]
        assert not failures, (round_, failures, server_errors.report())

        enrollments = ProgramEnrollment.objects.filter(external_user_key_normalized=key)
        refs = set(enrollments.values_list("learner_ref", flat=True))
        assert enrollments.count() == 2 and len(refs) == 1, (round_, list(enrollments.values()))
        active = list(ProgramCourseEnrollment.objects.filter(active_learner_ref__in=refs, course_key=c.SHARED_COURSE))
        assert len(active) == 1, (round_, active)
        winner = active[0].program_enrollment.program_uuid
        wins[winner] += 1
        loser = c.OTHER if winner == c.CYBERSECURITY else c.CYBERSECURITY
        assert not ProgramCourseEnrollment.objects.filter(
            program_enrollment__program_uuid=loser, program_enrollment__learner_ref__in=refs, status="active"
        ).exists()

        observed = []
        for response, (program, index) in zip(responses, writers, strict=False):
            spelling = spellings[index]
            expected = (200, {spelling: "active"}) if program == winner else (422, {spelling: "conflicted"})
            observed.append((str(program), response.status_code, response.json()))
            assert (response.status_code, response.json()) == expected, (round_, str(winner), observed)

        reader = responses[-1]
        assert reader.status_code == 200, describe(reader)
        seen = [row for row in reader.json()["results"] if row["student_key"].casefold() == key]
        # The reader ran during the race: the row is not there yet, or it is active.
        assert [row["status"] for row in seen] in ([], ["active"]), (round_, seen)

    assert not server_errors.records, server_errors.report()
    assert not in_flight.shared_connection_seen, "two requests in flight shared one database connection"
    assert overlapping_rounds > 0, "the live server never handled two requests at once"
    print(
        f"\nHTTP race: {ROUNDS} rounds, wins {dict((str(k), v) for k, v in wins.items())}, "
        f"{overlapping_rounds} rounds with overlapping requests, peak in flight {in_flight.peak}, "
        f"{len(refusals)} chunks refused by the database and decided again"
    )


def collect(session, url, prefix):
    """Follow the cursor links from ``url``; return the rows and the links followed."""
    rows, links = [], []
    while url:
        response = session.get(url, timeout=TIMEOUT)
        assert response.status_code == 200, describe(response)
        page = response.json()
        assert set(page) == {"next", "previous", "results"}, page
        rows += page["results"]
        for link in (page["next"], page["previous"]):
            assert link is None or link.startswith(prefix), link
        url = page["next"]
        if url:
            links.append(url)
    return rows, links


def test_registrar_client_writes_in_batches_and_follows_cursor_links(catalog, live_server, staff_user, server_errors):
    session = requests.Session()
    session.headers.update(auth(staff_user))
    keys = [f"GT-{1000 + index}" for index in range(60)]
    batches = [keys[start : start + 25] for start in range(0, len(keys), 25)]
    assert [len(batch) for batch in batches] == [25, 25, 10]

    for batch in batches:
        response = session.put(
            live_server.url + program_path(c.CYBERSECURITY),
            json=program_items(batch, c.CYBERSECURITY),
            timeout=TIMEOUT,
        )
        assert response.status_code == 200, describe(response)
        assert response.json() == dict.fromkeys(batch, "enrolled")
    for batch in batches:
        response = session.put(
            live_server.url + course_path(c.CYBERSECURITY), json=course_items(batch), timeout=TIMEOUT
        )
        assert response.status_code == 200, describe(response)
        assert response.json() == dict.fromkeys(batch, "active")

    prefix = live_server.url + BASE + "/"
    rows, links = collect(session, live_server.url + program_path(c.CYBERSECURITY) + "?page_size=25", prefix)
    assert len(links) == 2
    assert len(rows) == 60 and {row["student_key"] for row in rows} == set(keys)
    assert {row["status"] for row in rows} == {"enrolled"}
    assert {row["curriculum_uuid"] for row in rows} == {str(c.CYBERSECURITY_CURRICULUM)}

    rows, links = collect(session, live_server.url + course_path(c.CYBERSECURITY) + "?page_size=25", prefix)
    assert len(links) == 2
    assert len(rows) == 60 and {row["student_key"] for row in rows} == set(keys)
    assert {row["status"] for row in rows} == {"active"}
    assert not server_errors.records, server_errors.report()


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize("method", ["get", "put"])
def test_requests_without_a_valid_jwt_are_401(catalog, live_server, staff_user, server_errors, method):
    url = live_server.url + program_path(c.CYBERSECURITY)
    body = program_items(["intruder"], c.CYBERSECURITY) if method == "put" else None
    forged = generate_jwt_token(generate_latest_version_payload(staff_user), signing_key="wrong")

    for headers in ({}, {"Authorization": f"JWT {forged}"}):
        response = requests.request(method, url, json=body, headers=headers, timeout=TIMEOUT)
        assert response.status_code == 401, describe(response)
        assert response.headers["WWW-Authenticate"].startswith("JWT"), response.headers
    assert not ProgramEnrollment.objects.exists()
    # The same request with the genuine token goes through.
    response = requests.request(method, url, json=body, headers=auth(staff_user), timeout=TIMEOUT)
    assert response.status_code == 200, describe(response)
    assert not server_errors.records, server_errors.report()
