"""Faults under load: a server process killed mid-batch, and the database dropping every connection.

Both tests serve the API from a separate server process (``manage.py runserver``'s
threaded server, debug off, as in production) on the test database that
pytest-django created: these tests commit (``transaction=True``), so the server
process sees their rows, and the test reads the server's writes back from the
raw tables.

* A server process killed with SIGKILL in the middle of a batch of the maximum
  size leaves each learner either fully written (the program enrollment or the
  program course enrollment, the course enrollment and the history, as a
  complete run writes them) or untouched, and a restarted server applies the
  same batch.
* A database restart: every connection of the test database is terminated,
  again and again, while clients write (``pg_terminate_backend`` on PostgreSQL,
  ``KILL CONNECTION`` on MariaDB). That is what the server sees when the
  database restarts, without restarting a database server that other suites may
  be using at the same time. Requests in flight get clean answers (a
  per-learner status, or a JSON 503 if a whole request fails), the requests
  after the outage succeed, and no row is left corrupted.

The server process needs a database server, so these run on PostgreSQL and MariaDB.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from django.contrib.auth import get_user_model
from django.db import connection
from edx_rest_framework_extensions.auth.jwt.tests.utils import generate_jwt_token, generate_latest_version_payload

from program_enrollments import api, conf
from program_enrollments.constants import WriteStatus
from program_enrollments.identity import normalize_student_key
from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment
from tests import catalog as c
from tests import hosts
from tests.factories import SupportStaffFactory
from tests.rest_api.invariants import table_problems

pytestmark = [
    pytest.mark.faults,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor == "sqlite",
        reason="the fault tests run a separate server process on the test database and cut its database "
        "connections: they need PostgreSQL or MariaDB (DATABASE_URL=postgres://... or mysql://...)",
    ),
]


@pytest.fixture(autouse=True)
def _standalone_host_only():
    if not hosts.is_standalone():
        pytest.skip(
            "the fault tests serve the standalone host from a separate process; in the Open edX harness LMS "
            "the stress run covers the REST API"
        )


REPOSITORY = Path(__file__).resolve().parents[2]
BASE = "/api/program_enrollments/v1"
TIMEOUT = 60

# Runs the standalone host's threaded development server, optionally with smaller write chunks
# (one transaction each), so that a batch of the maximum size commits in many steps.
SERVER_SCRIPT = """
import sys

import django
from django.conf import settings

django.setup()
if int(sys.argv[2]):
    settings.PROGRAM_ENROLLMENTS = {**settings.PROGRAM_ENROLLMENTS, "WRITE_CHUNK_SIZE": int(sys.argv[2])}

from django.core.management import call_command

call_command("runserver", sys.argv[1], use_reloader=False)
"""


def child_database_url() -> str:
    """A ``DATABASE_URL`` naming the test database pytest-django created (not the configured one)."""
    database = connection.settings_dict
    scheme = {"postgresql": "postgres", "mysql": "mysql"}[connection.vendor]
    credentials = quote(database["USER"] or "", safe="")
    if database["PASSWORD"]:
        credentials += ":" + quote(database["PASSWORD"], safe="")
    port = f":{database['PORT']}" if database["PORT"] else ""
    return f"{scheme}://{credentials}@{database['HOST'] or '127.0.0.1'}{port}/{database['NAME']}"


class ServerProcess:
    """The standalone host served by a child process on a free port of 127.0.0.1."""

    def __init__(self, log_path: Path, *, chunk_size: int = 0):
        self.jwt_secret = secrets.token_urlsafe(32)
        self.log_path = log_path
        self.chunk_size = chunk_size
        self.process = None
        self.url = ""

    def start(self) -> ServerProcess:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "program_enrollments.standalone.settings",
            "DATABASE_URL": child_database_url(),
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "PROGRAM_ENROLLMENTS_JWT_SECRET_KEY": self.jwt_secret,
            "PYTHONPATH": str(REPOSITORY),
        }
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVER_SCRIPT, f"127.0.0.1:{port}", str(self.chunk_size)],
            cwd=REPOSITORY,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited with {self.process.returncode}:\n{self.log()}")
            try:
                requests.get(self.url + "/oauth2/access_token", timeout=5)
                return self
            except requests.RequestException:  # not listening yet, or still starting on a busy machine
                time.sleep(0.1)
        raise AssertionError(f"the server did not start:\n{self.log()}")

    def headers(self, user) -> dict[str, str]:
        token = generate_jwt_token(generate_latest_version_payload(user), signing_key=self.jwt_secret)
        return {"Authorization": f"JWT {token}"}

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=TIMEOUT)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]


@pytest.fixture
def servers(tmp_path):
    """Starts server processes; kills those still running at the end."""
    started = []

    def start(**kwargs) -> ServerProcess:
        server = ServerProcess(tmp_path / f"server-{len(started)}.log", **kwargs).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()


def other_connections() -> list[int]:
    """Ids of the connections to the test database other than this test's own."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND backend_type = 'client backend'"
            )
        else:
            cursor.execute(
                "SELECT id FROM information_schema.processlist WHERE db = DATABASE() AND id <> CONNECTION_ID()"
            )
        return [row[0] for row in cursor.fetchall()]


def terminate_other_connections() -> int:
    """Terminate every other connection to the test database, as a database restart does; return how many."""
    terminated = 0
    with connection.cursor() as cursor:
        for connection_id in other_connections():
            try:
                if connection.vendor == "postgresql":
                    cursor.execute("SELECT pg_terminate_backend(%s)", [connection_id])
                    terminated += bool(cursor.fetchone()[0])
                else:
                    cursor.execute(f"KILL CONNECTION {int(connection_id)}")
                    terminated += 1
            except Exception:  # noqa: BLE001 - the connection ended by itself meanwhile
                pass
    return terminated


def wait_for_other_connections_to_end():
    """Wait until the database has let go of the killed server's connections (and their transactions)."""
    deadline = time.monotonic() + TIMEOUT
    while other_connections():
        assert time.monotonic() < deadline, f"connections still open: {other_connections()}"
        time.sleep(0.05)


def spelled(key: str, index: int) -> str:
    """The key in one of several casings (the API compares keys ignoring case)."""
    return (key, key.upper(), key.lower(), key.swapcase())[index % 4]


def make_learners(prefix: str, count: int) -> tuple[list[str], dict[str, int]]:
    """``count`` student keys of GTx; every other one realized (an SSO identity names a user)."""
    keys = [f"{prefix}-{index:04d}" for index in range(count)]
    user_model = get_user_model()
    user_model.objects.bulk_create(user_model(username=f"{prefix.lower()}-{index}") for index in range(0, count, 2))
    users = dict(user_model.objects.filter(username__startswith=f"{prefix.lower()}-").values_list("username", "id"))
    realized = {keys[index]: users[f"{prefix.lower()}-{index}"] for index in range(0, count, 2)}
    hosts.add_sso_identities("GTx", {key: user_model(pk=user_id) for key, user_id in realized.items()})
    return keys, realized


# --- a server process killed mid-batch ------------------------------------------------------------------


def learner_states(keys: list[str]) -> dict[str, tuple]:
    """Everything written about each learner: their PEs and PCEs, course enrollments and history, by key."""
    folded = {normalize_student_key(key): key for key in keys}
    pes = list(
        ProgramEnrollment.objects.filter(external_user_key_normalized__in=folded).values_list(
            "id", "external_user_key_normalized", "program_uuid", "user_id", "status", "curriculum_uuid"
        )
    )
    key_of_pe = {pe_id: folded[normalized] for pe_id, normalized, *_ in pes}
    users = {pe[3] for pe in pes if pe[3] is not None}
    pces = list(
        ProgramCourseEnrollment.objects.filter(program_enrollment_id__in=key_of_pe).values_list(
            "id", "program_enrollment_id", "course_key", "status", "course_enrollment_id"
        )
    )
    key_of_pce = {row[0]: key_of_pe[row[1]] for row in pces}
    course_enrollments = hosts.course_enrollment_model().objects.filter(user_id__in=users)
    user_key = {pe[3]: key_of_pe[pe[0]] for pe in pes if pe[3] is not None}
    state = {key: {"pe": [], "pce": [], "ce": [], "pe_history": [], "pce_history": []} for key in keys}
    for pe_id, _normalized, program, user_id, status, curriculum in pes:
        state[key_of_pe[pe_id]]["pe"].append((pe_id, str(program), user_id, status, str(curriculum)))
    for pce_id, pe_id, course, status, course_enrollment_id in pces:
        state[key_of_pe[pe_id]]["pce"].append((pce_id, str(course), status, course_enrollment_id))
    for ce in course_enrollments.values_list("id", "user_id", "course_id", "mode", "is_active"):
        state[user_key[ce[1]]]["ce"].append((ce[0], str(ce[2]), ce[3], ce[4]))
    for pe_id, status in (
        ProgramEnrollment.history.filter(id__in=key_of_pe).order_by("history_id").values_list("id", "status")
    ):
        state[key_of_pe[pe_id]]["pe_history"].append((pe_id, status))
    for pce_id, status in (
        ProgramCourseEnrollment.history.filter(id__in=key_of_pce).order_by("history_id").values_list("id", "status")
    ):
        state[key_of_pce[pce_id]]["pce_history"].append((pce_id, status))
    return {key: tuple(tuple(sorted(rows)) for rows in learner.values()) for key, learner in state.items()}


def rows_of_batch(kind: str) -> int:
    if kind == "program":
        return ProgramEnrollment.objects.for_program(c.CYBERSECURITY).count()
    return ProgramCourseEnrollment.objects.for_program(c.CYBERSECURITY).for_course(c.SHARED_COURSE).count()


@pytest.mark.parametrize("kind", ["program", "course"])
def test_server_killed_mid_batch_leaves_each_learner_written_or_untouched(catalog, servers, kind):
    size = conf.get("MAX_BATCH_SIZE")
    chunk = 50
    staff = SupportStaffFactory(username="fault-registrar")
    keys, _realized = make_learners("Kill", size)
    if kind == "program":
        path = f"{BASE}/programs/{c.CYBERSECURITY}/enrollments/"
        body = [
            {
                "student_key": spelled(key, index),
                "status": "enrolled",
                "curriculum_uuid": str(c.CYBERSECURITY_CURRICULUM),
            }
            for index, key in enumerate(keys)
        ]
        expected = {item["student_key"]: "enrolled" for item in body}
    else:
        for program in (c.CYBERSECURITY, c.OTHER):
            api.write_program_enrollments(
                program_uuid=program,
                requests=[
                    {"student_key": key, "status": "enrolled", "curriculum_uuid": str(c.CURRICULUM_OF[program])}
                    for key in keys
                ],
                create=True,
                update=True,
            )
        # Every tenth learner is already active in the course through the other program.
        taken = keys[::10]
        api.write_program_course_enrollments(
            program_uuid=c.OTHER,
            course_key=c.SHARED_COURSE,
            requests=[{"student_key": key, "status": "active"} for key in taken],
            create=True,
            update=True,
        )
        path = f"{BASE}/programs/{c.CYBERSECURITY}/courses/{c.SHARED_COURSE}/enrollments/"
        body = [{"student_key": spelled(key, index), "status": "active"} for index, key in enumerate(keys)]
        expected = {
            item["student_key"]: WriteStatus.CONFLICTED if key in taken else "active"
            for key, item in zip(keys, body, strict=True)
        }
    before = learner_states(keys)
    rows_before = rows_of_batch(kind)

    server = servers(chunk_size=chunk)
    outcome = {}

    def send():
        try:
            outcome["response"] = requests.put(
                server.url + path, json=body, headers=server.headers(staff), timeout=TIMEOUT
            )
        except requests.RequestException as error:
            outcome["error"] = error

    sender = threading.Thread(target=send)
    sender.start()
    # Kill once a few chunks have committed, well before the last one.
    deadline = time.monotonic() + TIMEOUT
    while rows_of_batch(kind) - rows_before < 3 * chunk and sender.is_alive() and time.monotonic() < deadline:
        time.sleep(0.002)
    server.kill()
    sender.join(timeout=TIMEOUT)
    assert "response" not in outcome, (
        f"the batch finished before the server was killed ({outcome['response'].status_code}); "
        f"the kill was not mid-batch:\n{server.log()}"
    )
    wait_for_other_connections_to_end()
    after_kill = learner_states(keys)

    restarted = servers()
    response = requests.put(restarted.url + path, json=body, headers=restarted.headers(staff), timeout=TIMEOUT)
    assert response.status_code in (200, 207), (response.status_code, response.text[:2000])
    assert response.json() == expected
    after_replay = learner_states(keys)

    written = [key for key in keys if after_kill[key] == after_replay[key] != before[key]]
    untouched = [key for key in keys if after_kill[key] == before[key] != after_replay[key]]
    unchanged = [key for key in keys if before[key] == after_kill[key] == after_replay[key]]
    partial = {
        key: {"before": before[key], "after the kill": after_kill[key], "after the replay": after_replay[key]}
        for key in keys
        if key not in written and key not in untouched and key not in unchanged
    }
    assert not partial, f"{len(partial)} learners half-written by the killed server: {list(partial.items())[:5]}"
    assert written and untouched, (
        f"the kill was not mid-batch: {len(written)} learners written, {len(untouched)} untouched"
    )
    # Only the learners the batch refused (conflicted) are the same before and after.
    assert sorted(unchanged) == sorted(
        key for key, status in zip(keys, expected.values(), strict=True) if status == WriteStatus.CONFLICTED
    )
    problems = table_problems()
    assert not problems, "\n".join(problems[:40])
    print(
        f"\nKilled mid-{kind}-batch of {size}: {len(written)} learners written, {len(untouched)} untouched, "
        f"{len(unchanged)} refused; the restarted server applied the rest"
    )


# --- the database dropping every connection during load ---------------------------------------------


def test_database_connections_cut_during_load_give_clean_errors_then_recovery(catalog, servers):
    staff = SupportStaffFactory(username="outage-registrar")
    keys, _realized = make_learners("Outage", 80)
    programs = (c.CYBERSECURITY, c.OTHER)
    for program in programs:
        api.write_program_enrollments(
            program_uuid=program,
            requests=[
                {"student_key": key, "status": "enrolled", "curriculum_uuid": str(c.CURRICULUM_OF[program])}
                for key in keys
            ],
            create=True,
            update=True,
        )
    server = servers()
    headers = server.headers(staff)
    phase = {"name": "before"}
    stop = threading.Event()
    exchanges = []
    lock = threading.Lock()

    def client(number):
        session = requests.Session()
        session.headers.update(headers)
        index = 0
        while not stop.is_set():
            index += 1
            program = programs[(number + index) % 2]
            batch = keys[(number * 7 + index * 11) % len(keys) :][:20]
            if index % 3:
                path = f"{BASE}/programs/{program}/courses/{c.SHARED_COURSE}/enrollments/"
                body = [
                    {"student_key": spelled(key, index), "status": ("active", "inactive")[index % 4 == 0]}
                    for key in batch
                ]
            else:
                path = f"{BASE}/programs/{program}/enrollments/"
                body = [
                    {
                        "student_key": spelled(key, index),
                        "status": ("enrolled", "pending")[index % 2],
                        "curriculum_uuid": str(c.CURRICULUM_OF[program]),
                    }
                    for key in batch
                ]
            started_in = phase["name"]
            try:
                response = session.put(server.url + path, json=body, timeout=TIMEOUT)
                entry = (
                    started_in,
                    phase["name"],
                    path,
                    response.status_code,
                    response.headers.get("Content-Type", ""),
                    response.text,
                )
            except requests.RequestException as error:
                entry = (started_in, phase["name"], path, None, "", repr(error))
            with lock:
                exchanges.append(entry)

    threads = [threading.Thread(target=client, args=(number,)) for number in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    phase["name"] = "outage"
    terminated = 0
    outage_end = time.monotonic() + 3.0
    while time.monotonic() < outage_end:
        terminated += terminate_other_connections()
        time.sleep(0.05)
    phase["name"] = "after"
    time.sleep(2.0)
    stop.set()
    for thread in threads:
        thread.join(timeout=TIMEOUT)

    def describe(entry):
        return f"{entry[0]}->{entry[1]} PUT {entry[2]} -> {entry[3]} {entry[4]} {entry[5][:300]!r}"

    problems = []
    for entry in exchanges:
        started_in, ended_in, _path, code, content_type, text = entry
        # A request that started before the outage and ended after it spanned the whole outage.
        during = "outage" in (started_in, ended_in) or (started_in, ended_in) == ("before", "after")
        if code is None:
            problems.append(f"no HTTP answer: {describe(entry)}")
        elif code >= 500 and not (code == 503 and content_type.startswith("application/json")):
            problems.append(f"a {code} that is not a JSON 503: {describe(entry)}")
        elif code == 401:
            problems.append(f"a valid token refused (401) because the database failed: {describe(entry)}")
        elif code < 500 and code not in (200, 207, 422):
            problems.append(f"undocumented status code: {describe(entry)}")
        elif not during and (code >= 500 or WriteStatus.INTERNAL_ERROR in text):
            problems.append(f"failed outside the outage: {describe(entry)}")
    recovered = [entry for entry in exchanges if entry[0] == "after" and entry[3] in (200, 207, 422)]
    outage = [entry for entry in exchanges if "outage" in entry[:2]]
    problems += table_problems()
    summary = (
        f"{len(exchanges)} requests, {len(outage)} during the outage, {terminated} connections terminated, "
        f"{len(recovered)} answered after it; codes during the outage "
        f"{sorted({entry[3] for entry in outage}, key=str)}"
    )
    print(f"\nDatabase outage: {summary}")
    assert terminated > 0, f"no connection was terminated: {summary}"
    assert recovered, f"no request succeeded after the outage: {summary}\n{server.log()}"
    assert not problems, "\n".join([summary, *problems[:40], "server log:", server.log()[-3000:]])
