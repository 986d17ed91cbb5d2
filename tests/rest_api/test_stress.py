"""A seeded, randomized stress run of every write path over real HTTP, then the invariants from the raw tables.

Client threads send random POST, PUT and PATCH writes of program enrollments and
program course enrollments, transfers and reads to Django's multi-threaded live
server (one database connection per request thread), while another thread links
waiting learners the two ways a host does (an SSO identity appearing, and
``api.link_program_enrollments``). The learners are a small pool shared by four
programs of two organizations that share course runs, some realized from the
start, some waiting, one user with two student keys, every key sent in a random
casing, so the requests collide all the time.

Afterwards, from the rows themselves rather than the API, the one-active rule
holds per person, per user and per course enrollment, every pointer and copied
identity is consistent, every live row has its history, the integrity audit is
clean; and every response had a documented status code and per-learner statuses,
none of them a server error or ``internal-error`` (nothing failed on purpose).

The run is bounded by a number of operations and a deadline, and seeded: the
seed fixes each client's sequence of operations (not the interleaving of the
threads) and is printed with any failure. Environment variables:

* ``STRESS_SEED``: the seed (default: a random one);
* ``STRESS_OPERATIONS``: operations over all clients (default 600);
* ``STRESS_CLIENTS``: concurrent HTTP clients (default 6);
* ``STRESS_SECONDS``: the deadline of the load, in seconds (default 30).

SQLite serializes writers, so the run needs PostgreSQL or MariaDB.
"""

from __future__ import annotations

import itertools
import os
import random
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field

import pytest
import requests
from django.contrib.auth import get_user_model
from django.db import connection, connections
from edx_rest_framework_extensions.auth.jwt.tests.utils import generate_jwt

from program_enrollments import api
from program_enrollments.constants import (
    ProgramCourseEnrollmentStatus,
    ProgramEnrollmentStatus,
    TransferStatus,
    WriteStatus,
)
from tests import catalog as c
from tests import hosts
from tests.factories import SupportStaffFactory
from tests.rest_api.invariants import ORGANIZATION_OF, table_problems

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.stress,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor == "sqlite",
        reason="SQLite serializes writers; the randomized stress run needs PostgreSQL or MariaDB "
        "(DATABASE_URL=postgres://... or mysql://...)",
    ),
]

BASE = "/api/program_enrollments/v1"
TIMEOUT = 30

SEED = int(os.environ.get("STRESS_SEED") or random.SystemRandom().randrange(10**9))
OPERATIONS = int(os.environ.get("STRESS_OPERATIONS", "600"))
CLIENTS = int(os.environ.get("STRESS_CLIENTS", "6"))
SECONDS = float(os.environ.get("STRESS_SECONDS", "30"))

GTX_PROGRAMS = (c.CYBERSECURITY, c.ANALYTICS, c.OTHER)
# The course runs that two or more programs share: where the rule is contested.
MIT_COURSE = c.SHARED_COURSE
COURSES_OF = {
    c.CYBERSECURITY: (c.SHARED_COURSE, c.SECOND_SHARED_COURSE),
    c.OTHER: (c.SHARED_COURSE, c.SECOND_SHARED_COURSE, c.ANALYTICS_COURSE),
    c.ANALYTICS: (c.ANALYTICS_COURSE,),
    c.MIT: (MIT_COURSE,),
}

# What the documentation promises (docs/concepts.rst, docs/rest_api.rst), per kind of request.
PROGRAM_STATUSES = set(ProgramEnrollmentStatus.values)
COURSE_STATUSES = set(ProgramCourseEnrollmentStatus.values)
DOCUMENTED = {
    "program": PROGRAM_STATUSES
    | {
        WriteStatus.DUPLICATED,
        WriteStatus.INVALID_STATUS,
        WriteStatus.CONFLICT,
        WriteStatus.NOT_IN_PROGRAM,
        WriteStatus.USER_ALREADY_ENROLLED,
        WriteStatus.INVALID_CURRICULUM,
        WriteStatus.INTERNAL_ERROR,
    },
    "course": COURSE_STATUSES
    | {
        WriteStatus.DUPLICATED,
        WriteStatus.INVALID_STATUS,
        WriteStatus.NOT_IN_PROGRAM,
        WriteStatus.CONFLICT,
        WriteStatus.NOT_FOUND,
        WriteStatus.ILLEGAL_OPERATION,
        WriteStatus.CONFLICTED,
        WriteStatus.INTERNAL_ERROR,
    },
    "transfer": {
        TransferStatus.TRANSFERRED,
        TransferStatus.WOULD_TRANSFER,
        TransferStatus.ALREADY_TRANSFERRED,
        TransferStatus.NOTHING_TO_TRANSFER,
        TransferStatus.NOT_IN_PROGRAM,
        TransferStatus.COURSE_NOT_IN_TARGET,
        TransferStatus.CONFLICTED,
        TransferStatus.ILLEGAL_OPERATION,
        TransferStatus.USER_ALREADY_ENROLLED,
        TransferStatus.DUPLICATED,
        TransferStatus.INTERNAL_ERROR,
    },
}
SUCCESSES = {
    "program": PROGRAM_STATUSES,
    "course": COURSE_STATUSES,
    "transfer": {TransferStatus.TRANSFERRED, TransferStatus.WOULD_TRANSFER, TransferStatus.ALREADY_TRANSFERRED},
}
WRITE_CODES = {200, 204, 207, 422}


@dataclass
class Person:
    """One human: their student key at each organization, and their account (if any)."""

    name: str
    keys: dict[str, list[str]]
    user: object = None
    # Linked during the load: by an SSO identity appearing ("sso"), or by username ("username").
    linked_by: str = ""


@dataclass
class Exchange:
    """One request of the load and what came back."""

    client: int
    number: int
    kind: str
    method: str
    path: str
    body: object
    code: int | None = None
    payload: object = None
    text: str = ""
    error: str = ""
    headers: dict = field(default_factory=dict)

    def describe(self) -> str:
        return (
            f"client {self.client} op {self.number}: {self.method} {self.path} {self.body!r} -> "
            f"{self.code} {self.text[:500] if self.code is None or self.payload is None else self.payload!r}"
            f"{' ' + self.error if self.error else ''}"
        )


@dataclass
class Load:
    """The shared state of the run: the operation budget, the deadline and what happened."""

    budget: int
    deadline: float
    lock: threading.Lock = field(default_factory=threading.Lock)
    started: int = 0
    exchanges: list[Exchange] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)

    def take(self) -> int | None:
        with self.lock:
            if self.started >= self.budget or time.monotonic() > self.deadline:
                return None
            self.started += 1
            return self.started

    def done(self) -> int:
        with self.lock:
            return len(self.exchanges)


def spelling(rng: random.Random, key: str) -> str:
    """The key in a random casing: every spelling names the same learner."""
    return "".join(rng.choice((char.lower(), char.upper())) for char in key)


def make_people() -> list[Person]:
    """Eight people: realized at both organizations, one with two GTx keys, waiting ones, some linked later."""
    user_model = get_user_model()
    people = []
    for index in range(8):
        base = f"Ab-{index:02d}"
        keys = {"GTx": [base], "MITx": [base]}
        if index == 4:
            keys["GTx"].append(f"Cd-{index:02d}")
        person = Person(name=f"person{index}", keys=keys)
        if index <= 6:
            person.user = user_model.objects.create(username=f"stress-{index}", email=f"stress-{index}@example.com")
        if index <= 4:
            for organization, organization_keys in keys.items():
                hosts.add_sso_identities(organization, dict.fromkeys(organization_keys, person.user))
        elif index == 5:
            person.linked_by = "sso"
        elif index == 6:
            person.linked_by = "username"
        people.append(person)
    return people


class Client:
    """One HTTP client of the load, with its own seeded sequence of operations."""

    def __init__(self, number, *, url, headers, people, load):
        self.number = number
        self.rng = random.Random(f"{SEED}-client-{number}")
        self.url = url
        self.people = people
        self.load = load
        self.session = requests.Session()
        self.session.headers.update(headers)

    def keys(self, organization, *, most=4) -> list[str]:
        chosen = self.rng.sample(self.people, self.rng.randint(1, most))
        keys = [spelling(self.rng, self.rng.choice(person.keys[organization])) for person in chosen]
        if self.rng.random() < 0.08:
            keys.append(spelling(self.rng, keys[0]))  # the same learner twice in one request
        return keys

    def program_write(self):
        program = self.rng.choice(list(ORGANIZATION_OF))
        method = self.rng.choice(("post", "put", "patch"))
        statuses = ["enrolled"] * 5 + ["pending"] * 2 + ["suspended", "canceled", "ended"]
        body = [
            {
                "student_key": key,
                "status": self.rng.choice(statuses),
                "curriculum_uuid": str(c.CURRICULUM_OF[program]),
            }
            for key in self.keys(ORGANIZATION_OF[program])
        ]
        return "program", method, f"{BASE}/programs/{program}/enrollments/", body

    def course_write(self):
        program = self.rng.choice(list(ORGANIZATION_OF))
        course = self.rng.choice(COURSES_OF[program])
        method = self.rng.choice(("post", "put", "put", "patch"))
        body = [
            {"student_key": key, "status": self.rng.choice(("active", "active", "active", "inactive"))}
            for key in self.keys(ORGANIZATION_OF[program])
        ]
        return "course", method, f"{BASE}/programs/{program}/courses/{course}/enrollments/", body

    def transfer(self):
        source, target = self.rng.sample(list(ORGANIZATION_OF), 2)
        if self.rng.random() < 0.8:
            # Mostly within GTx, where the keys name the same learners in both programs.
            source, target = self.rng.sample(GTX_PROGRAMS, 2)
        body = {"to_program_uuid": str(target), "student_keys": self.keys(ORGANIZATION_OF[source], most=3)}
        shared = sorted(set(COURSES_OF[source]) & set(COURSES_OF[target]))
        if shared and self.rng.random() < 0.4:
            body["course_keys"] = [self.rng.choice(shared)]
        if self.rng.random() < 0.3:
            body["source_status"] = self.rng.choice(("canceled", "suspended", "ended"))
        if self.rng.random() < 0.1:
            body["dry_run"] = True
        return "transfer", "post", f"{BASE}/programs/{source}/transfers/", body

    def read(self):
        program = self.rng.choice(list(ORGANIZATION_OF))
        if self.rng.random() < 0.5:
            path = f"{BASE}/programs/{program}/enrollments/?page_size=5"
        else:
            path = f"{BASE}/programs/{program}/courses/{self.rng.choice(COURSES_OF[program])}/enrollments/?page_size=5"
        return "read", "get", path, None

    def operations(self) -> list:
        """The operations to pick from, each as often as it is to be picked."""
        return [self.program_write] * 5 + [self.course_write] * 7 + [self.transfer] * 3 + [self.read] * 3

    def run(self):
        operations = self.operations()
        try:
            while (number := self.load.take()) is not None:
                kind, method, path, body, *headers = self.rng.choice(operations)()
                exchange = Exchange(self.number, number, kind, method.upper(), path, body, headers=dict(*headers))
                try:
                    response = self.session.request(
                        method, self.url + path, json=body, headers=exchange.headers, timeout=TIMEOUT
                    )
                except requests.RequestException as error:
                    exchange.error = repr(error)
                else:
                    exchange.code = response.status_code
                    exchange.text = response.text
                    try:
                        exchange.payload = response.json() if response.content else None
                    except ValueError:
                        exchange.payload = None
                with self.load.lock:
                    self.load.exchanges.append(exchange)
        except Exception:  # noqa: BLE001 - reported by the test
            with self.load.lock:
                self.load.problems.append(f"client {self.number} crashed:\n{traceback.format_exc()}")


def link_during_load(people, load: Load):
    """Link the people meant to be linked while the clients write, at seeded points of the load."""
    rng = random.Random(f"{SEED}-link")
    events = []
    for person in people:
        if person.linked_by == "sso":
            # A first SSO login at each organization links the waiting enrollments there.
            events += [("sso", person, "GTx"), ("sso", person, "MITx")]
        elif person.linked_by == "username":
            events += [("username", person, program) for program in rng.sample(GTX_PROGRAMS, 2)]
    rng.shuffle(events)
    marks = sorted(rng.uniform(0.15, 0.85) * load.budget for _ in events)
    try:
        for (how, person, where), mark in zip(events, marks, strict=True):
            while load.done() < mark and time.monotonic() < load.deadline:
                time.sleep(0.01)
            key = spelling(rng, person.keys["GTx" if how == "username" else where][0])
            if how == "sso":
                hosts.add_sso_identity(person.user, where, key)
                load.links.append(f"SSO identity {where}:{key} -> {person.user.username} at op {load.done()}")
            else:
                outcome = api.link_program_enrollments(
                    program_uuid=where, usernames_by_student_key={key: person.user.username}
                )[key]
                load.links.append(
                    f"link {key} -> {person.user.username} in {where} at op {load.done()}: "
                    f"{outcome.error or 'linked'} {outcome.deactivated_courses or ''}"
                )
    except Exception:  # noqa: BLE001 - reported by the test
        load.problems.append(f"linking crashed:\n{traceback.format_exc()}")
    finally:
        connections.close_all()


# --- what the responses must look like ---------------------------------------------------------------


def response_problems(exchange: Exchange) -> list[str]:
    """What is wrong with one response: an error, an undocumented code or status, an inconsistent code."""
    if exchange.error:
        return [f"no response: {exchange.describe()}"]
    if exchange.code >= 500:
        return [f"server error: {exchange.describe()}"]
    if exchange.kind == "read":
        page = exchange.payload
        if exchange.code != 200 or not isinstance(page, dict) or set(page) != {"next", "previous", "results"}:
            return [f"read failed: {exchange.describe()}"]
        documented = COURSE_STATUSES if "/courses/" in exchange.path else PROGRAM_STATUSES
        if any(row.get("status") not in documented for row in page["results"]):
            return [f"a row read with an undocumented status: {exchange.describe()}"]
        return []
    if exchange.code not in WRITE_CODES:
        return [f"undocumented status code {exchange.code}: {exchange.describe()}"]
    sent = (
        exchange.body["student_keys"]
        if exchange.kind == "transfer"
        else [item["student_key"] for item in exchange.body]
    )
    if exchange.code == 204:
        return [] if not sent else [f"204 for a non-empty batch: {exchange.describe()}"]
    results = exchange.payload
    problems = []
    if not isinstance(results, dict) or set(results) != set(sent):
        return [f"the response does not map each sent key to one status: {exchange.describe()}"]
    undocumented = {status for status in results.values() if status not in DOCUMENTED[exchange.kind]}
    if undocumented:
        problems.append(f"undocumented per-learner statuses {sorted(undocumented)}: {exchange.describe()}")
    if WriteStatus.INTERNAL_ERROR in results.values():
        problems.append(f"internal-error (nothing failed on purpose): {exchange.describe()}")
    successes = sum(status in SUCCESSES[exchange.kind] for status in results.values())
    expected = 200 if successes == len(results) else 422 if successes == 0 else 207
    if exchange.code != expected:
        problems.append(f"status code {exchange.code}, expected {expected} from the statuses: {exchange.describe()}")
    if exchange.kind != "transfer":
        requested = {item["student_key"]: item["status"] for item in exchange.body}
        wrong = {
            key: status
            for key, status in results.items()
            if status in SUCCESSES[exchange.kind] and status != requested[key]
        }
        if wrong:
            problems.append(f"success reported with another status than requested {wrong}: {exchange.describe()}")
    return problems


def test_random_mix_of_every_write_path_keeps_the_rules(catalog, live_server):
    staff = SupportStaffFactory(username="stress-registrar")
    headers = {"Authorization": f"JWT {generate_jwt(staff)}"}
    people = make_people()
    load = Load(budget=OPERATIONS, deadline=time.monotonic() + SECONDS)
    clients = [
        Client(number, url=live_server.url, headers=headers, people=people, load=load) for number in range(CLIENTS)
    ]
    threads = [threading.Thread(target=client.run) for client in clients]
    threads.append(threading.Thread(target=link_during_load, args=(people, load)))
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=SECONDS + 2 * TIMEOUT)
    elapsed = time.monotonic() - began

    problems = list(load.problems)
    problems += [f"thread {thread.name} still running" for thread in threads if thread.is_alive()]
    for exchange in load.exchanges:
        problems += response_problems(exchange)
    problems += table_problems()

    codes = Counter(exchange.code for exchange in load.exchanges)
    statuses = Counter(
        status
        for exchange in load.exchanges
        if isinstance(exchange.payload, dict) and exchange.kind != "read"
        for status in exchange.payload.values()
    )
    summary = (
        f"seed {SEED} (replay: STRESS_SEED={SEED} STRESS_OPERATIONS={OPERATIONS} STRESS_CLIENTS={CLIENTS}), "
        f"{len(load.exchanges)} requests in {elapsed:.1f}s on {connection.vendor}; codes {dict(codes)}; "
        f"statuses {dict(statuses)}; links {load.links}"
    )
    print(f"\nStress run: {summary}")
    assert not problems, "\n".join([f"{len(problems)} problems; {summary}", *itertools.islice(problems, 60)])
    assert len(load.exchanges) >= min(OPERATIONS, 50), f"too few requests ran before the deadline: {summary}"
    assert sum(codes[code] for code in (200, 207)) > 0, summary
