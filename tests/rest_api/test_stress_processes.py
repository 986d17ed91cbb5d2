"""The randomized stress run against a deployment's shape: gunicorn processes, Celery workers, a worker killed.

The seeded client threads of ``test_stress`` send their random mix of synchronous writes,
transfers and reads to a gunicorn server with three worker processes, and submit background
jobs besides (program and course enrollment writes of up to about thirty learners, transfers
of listed learners or of every learner), half of them with an ``Idempotency-Key``, some sent
again (under the same key, a new one, or none). The jobs
run on Celery workers on a Redis broker, in chunks of two learners with a pause in each
chunk's transaction, so that they overlap the synchronous writes of the same learners. While
the load runs, the first worker is SIGKILLed (its whole process group) as soon as a job is
part-way done, and two workers take its place; the broker's short visibility timeout delivers
the lost message again.

Afterwards every job has finished with one result per learner in its order, counted as its
results say, with documented statuses and no ``internal-error``; the same Idempotency-Key gave
the same job, also when every keyed submission is sent once more after the jobs ended; the
server answered no request with a server error; and the invariants of the tables hold,
recomputed from the rows. The seed and the load are set as for ``test_stress``
(``STRESS_SEED``, ``STRESS_OPERATIONS``, ``STRESS_CLIENTS``, ``STRESS_SECONDS``).

The server and workers are processes of their own on the test database: PostgreSQL or MariaDB,
and a Redis broker at 127.0.0.1:6379 (or ``PROGRAM_ENROLLMENTS_TEST_REDIS_URL``).
"""

from __future__ import annotations

import itertools
import threading
import time
import traceback
from collections import Counter, defaultdict
from uuid import uuid4

import pytest
from django.db import connection, connections

from program_enrollments.models import Job, JobResult
from tests import catalog as c
from tests.factories import SupportStaffFactory
from tests.rest_api.invariants import ORGANIZATION_OF, table_problems
from tests.rest_api.processes import CeleryWorker, GunicornServer, redis_url, skip_without_workers
from tests.rest_api.test_stress import (
    BASE,
    CLIENTS,
    COURSES_OF,
    DOCUMENTED,
    GTX_PROGRAMS,
    OPERATIONS,
    SECONDS,
    SEED,
    SUCCESSES,
    TIMEOUT,
    Client,
    Exchange,
    Load,
    link_during_load,
    make_people,
    response_problems,
)

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.stress,
    pytest.mark.faults,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor == "sqlite",
        reason="the server and the workers are processes of their own on the test database: PostgreSQL or MariaDB "
        "(DATABASE_URL=postgres://... or mysql://...)",
    ),
]

JOB_TIMEOUT = 240
# Job kinds of the load, and the kind of request whose statuses their results take.
RESULTS_OF = {"job-program": "program", "job-course": "course", "job-transfer": "transfer"}


@pytest.fixture(autouse=True)
def _broker_and_host(capsys):
    skip_without_workers(capsys, "stress run with real workers")


@pytest.fixture
def deployment(transactional_db, tmp_path):
    """A gunicorn server and Celery workers on a queue of the test's own; all killed at the end."""
    import redis

    queue = f"program-enrollments-stress-{uuid4().hex[:12]}"
    secret = f"stress-{uuid4().hex}"
    started = []

    def start(kind, **kwargs):
        process = kind(tmp_path / f"{kind.__name__.lower()}-{len(started)}.log", jwt_secret=secret, **kwargs)
        started.append(process)
        return process.start()

    broker = {"CELERY_BROKER_URL": redis_url(), "CELERY_TASK_DEFAULT_QUEUE": queue}
    server = start(GunicornServer, workers=3, environment=broker)

    def worker(name, concurrency=1):
        # Chunks of two learners, each held open a little: a job lasts while synchronous writes go on.
        return start(
            CeleryWorker,
            broker_url=redis_url(),
            queue=queue,
            name=name,
            visibility_timeout=4,
            chunk_size=2,
            pause=0.05,
            concurrency=concurrency,
        )

    yield server, worker, started
    for process in started:
        process.kill()
    redis.Redis.from_url(redis_url()).delete(queue)


class ProcessClient(Client):
    """A client of the load that also submits jobs, some of them twice under one Idempotency-Key."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.submitted = []

    def operations(self) -> list:
        return super().operations() + [self.job_write] * 3 + [self.job_transfer] + [self.job_again]

    def job_keys(self, organization) -> list[str]:
        """Known learners, and waiting ones of the client's own, some sent twice: a job of up to about 30."""
        keys = self.keys(organization, most=len(self.people))
        keys += [f"Ef-{self.number}-{index}" for index in self.rng.sample(range(40), self.rng.randint(0, 20))]
        self.rng.shuffle(keys)
        return keys

    def _job(self, kind, method, path, body, *, keyed: bool | None = None):
        if keyed is None:
            keyed = self.rng.random() < 0.5
        headers = {"Idempotency-Key": f"{SEED}-{self.number}-{uuid4().hex}"} if keyed else {}
        operation = (kind, method, path, body, headers)
        self.submitted.append(operation)
        return operation

    def job_write(self):
        program = self.rng.choice(list(ORGANIZATION_OF))
        keys = self.job_keys(ORGANIZATION_OF[program])
        method = self.rng.choice(("post", "put", "patch"))
        if self.rng.random() < 0.5:
            statuses = ["enrolled"] * 5 + ["pending"] * 2 + ["suspended", "canceled", "ended"]
            body = [
                {
                    "student_key": key,
                    "status": self.rng.choice(statuses),
                    "curriculum_uuid": str(c.CURRICULUM_OF[program]),
                }
                for key in keys
            ]
            return self._job("job-program", method, f"{BASE}/programs/{program}/enrollments/jobs/", body)
        course = self.rng.choice(COURSES_OF[program])
        body = [{"student_key": key, "status": self.rng.choice(("active", "active", "inactive"))} for key in keys]
        return self._job("job-course", method, f"{BASE}/programs/{program}/courses/{course}/enrollments/jobs/", body)

    def job_transfer(self):
        source, target = self.rng.sample(GTX_PROGRAMS, 2)
        body = {"to_program_uuid": str(target)}
        if self.rng.random() < 0.6:
            body["student_keys"] = self.job_keys(ORGANIZATION_OF[source])
        shared = sorted(set(COURSES_OF[source]) & set(COURSES_OF[target]))
        if shared and self.rng.random() < 0.3:
            body["course_keys"] = [self.rng.choice(shared)]
        if self.rng.random() < 0.5:
            body["source_status"] = self.rng.choice(("canceled", "suspended", "ended"))
        return self._job("job-transfer", "post", f"{BASE}/programs/{source}/transfers/jobs/", body)

    def job_again(self):
        """A job sent before, again: under its Idempotency-Key (the same job must come back), under a new key, or
        without one (an identical request while the first is pending returns it)."""
        if not self.submitted:
            return self.job_write()
        kind, method, path, body, headers = self.rng.choice(self.submitted)
        how = self.rng.choice(("same key", "new key", "no key"))
        if how == "same key" and headers:
            return kind, method, path, body, headers
        if how == "new key":
            return self._job(kind, method, path, body, keyed=True)
        return kind, method, path, body, {}


def kill_a_worker_mid_job(worker, load: Load, killed: list, problems: list):
    """SIGKILL the first worker as soon as a job is part-way done, then start two in its place."""
    first = worker("first", concurrency=2)
    try:
        while time.monotonic() < load.deadline:
            running = Job.objects.filter(status=Job.Status.RUNNING, processed__gt=0).defer("learners")
            job = next((job for job in running if job.total and job.processed < job.total), None)
            if job is not None:
                first.kill()
                killed.append(f"worker killed at op {load.done()} with job {job.kind} at {job.processed}/{job.total}")
                break
            time.sleep(0.05)
        else:
            problems.append("no job was part-way done while the load ran: no worker was killed mid-job")
            first.kill()
        worker("second")
        worker("third")
    except Exception:  # noqa: BLE001 - reported by the test
        problems.append(f"the worker thread crashed:\n{traceback.format_exc()}")
    finally:
        connections.close_all()


def submission_problems(exchange: Exchange) -> list[str]:
    """A job submission is accepted: 202 with the job's document."""
    if exchange.error or exchange.code != 202:
        return [f"job not accepted: {exchange.describe()}"]
    job = exchange.payload
    if not isinstance(job, dict) or not job.get("id") or job.get("status") not in set(Job.Status.values):
        return [f"no job document: {exchange.describe()}"]
    return []


def job_problems(exchanges: list[Exchange]) -> list[str]:
    """Every job finished, with one result per learner, as documented; one job per Idempotency-Key."""
    problems = []
    jobs_by_key = defaultdict(set)
    for exchange in exchanges:
        if exchange.headers.get("Idempotency-Key") and isinstance(exchange.payload, dict):
            jobs_by_key[exchange.headers["Idempotency-Key"]].add(exchange.payload.get("id"))
    problems += [f"Idempotency-Key {key} gave jobs {ids}" for key, ids in jobs_by_key.items() if len(ids) > 1]
    checked = set()
    for exchange in exchanges:
        job_id = exchange.payload["id"]
        if job_id in checked:
            continue
        checked.add(job_id)
        job = Job.objects.defer("learners").get(pk=job_id)
        results = list(
            JobResult.objects.filter(job_id=job_id)
            .order_by("position")
            .values_list("position", "student_key", "status")
        )
        what = f"job {job_id} ({job.kind}, {job.status}, {job.processed}/{job.total}, {job.attempts} deliveries)"
        if job.status != Job.Status.SUCCEEDED:
            problems.append(f"{what} did not succeed: {job.error!r} {exchange.describe()}")
            continue
        if [position for position, _, _ in results] != list(range(len(results))) or job.total != len(results):
            problems.append(f"{what} has {len(results)} results, not one per learner in order")
        sent = (
            exchange.body.get("student_keys")
            if exchange.kind == "job-transfer"
            else [item["student_key"] for item in exchange.body]
        )
        if sent is not None and [key for _, key, _ in results] != sent:
            problems.append(f"{what} results name other learners than sent: {exchange.describe()}")
        kind = RESULTS_OF[exchange.kind]
        statuses = [status for _, _, status in results]
        undocumented = set(statuses) - DOCUMENTED[kind]
        if undocumented:
            problems.append(f"{what} has undocumented statuses {sorted(undocumented)}")
        if "internal-error" in statuses:
            problems.append(f"{what} has internal-error results (nothing failed on purpose)")
        successes = sum(status in SUCCESSES[kind] for status in statuses)
        if (job.succeeded, job.failed, job.processed) != (successes, len(statuses) - successes, len(statuses)):
            problems.append(
                f"{what} counts {job.succeeded} succeeded and {job.failed} failed; its results say otherwise"
            )
        if kind != "transfer":
            wrong = [
                (item["student_key"], item["status"], status)
                for item, status in zip(exchange.body, statuses, strict=False)
                if status in SUCCESSES[kind] and status != item["status"]
            ]
            if wrong:
                problems.append(f"{what} reported success with another status than requested: {wrong}")
    return problems


def keys_sent_again_problems(url, session, exchanges: list[Exchange]) -> list[str]:
    """Once every job has ended, each keyed submission sent again gets its key's job, as long as jobs are kept."""
    problems = []
    first_job = {}
    for exchange in exchanges:
        first_job.setdefault(exchange.headers.get("Idempotency-Key"), exchange)
    first_job.pop(None, None)
    for key, exchange in first_job.items():
        response = session.request(
            exchange.method, url + exchange.path, json=exchange.body, headers=exchange.headers, timeout=TIMEOUT
        )
        if response.status_code != 202 or response.json().get("id") != exchange.payload["id"]:
            problems.append(
                f"Idempotency-Key {key} sent again after the jobs ended: {response.status_code} "
                f"{response.text[:200]}, not job {exchange.payload['id']}: {exchange.describe()}"
            )
    return problems


def _wait_for_jobs(job_ids, deadline) -> list[str]:
    while time.monotonic() < deadline:
        if (
            not Job.objects.filter(pk__in=job_ids)
            .exclude(status__in=[Job.Status.SUCCEEDED, Job.Status.FAILED])
            .exists()
        ):
            return []
        time.sleep(0.2)
    pending = Job.objects.filter(pk__in=job_ids, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).defer("learners")
    return [f"job {job.pk} ({job.kind}) still {job.status} at {job.processed}/{job.total}" for job in pending]


def test_random_mix_with_jobs_on_workers_one_killed_keeps_the_rules(catalog, deployment):
    server, worker, started = deployment
    staff = SupportStaffFactory(username="stress-registrar")
    people = make_people()
    load = Load(budget=OPERATIONS, deadline=time.monotonic() + SECONDS)
    clients = [
        ProcessClient(number, url=server.url, headers=server.headers(staff), people=people, load=load)
        for number in range(CLIENTS)
    ]
    killed, problems = [], []
    threads = [threading.Thread(target=client.run) for client in clients]
    threads.append(threading.Thread(target=link_during_load, args=(people, load)))
    threads.append(threading.Thread(target=kill_a_worker_mid_job, args=(worker, load, killed, problems)))
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=SECONDS + 2 * TIMEOUT)
    load_seconds = time.monotonic() - began

    problems += load.problems
    problems += [f"thread {thread.name} still running" for thread in threads if thread.is_alive()]
    jobs = [exchange for exchange in load.exchanges if exchange.kind in RESULTS_OF]
    for exchange in load.exchanges:
        problems += submission_problems(exchange) if exchange.kind in RESULTS_OF else response_problems(exchange)
    accepted = [exchange for exchange in jobs if not submission_problems(exchange)]
    job_ids = {exchange.payload["id"] for exchange in accepted}
    problems += _wait_for_jobs(job_ids, time.monotonic() + JOB_TIMEOUT)
    elapsed = time.monotonic() - began
    problems += keys_sent_again_problems(server.url, clients[0].session, accepted)
    problems += job_problems(accepted)
    problems += table_problems()
    problems += [f"server: {line}" for line in server.errors()]
    for process in started:
        if isinstance(process, CeleryWorker):
            problems += [
                f"worker {process.name}: {line}" for line in process.log(10**6).splitlines() if "Traceback" in line
            ]

    finished = Job.objects.filter(pk__in=job_ids)
    deliveries = sum(finished.values_list("attempts", flat=True))
    results = Counter(JobResult.objects.filter(job_id__in=job_ids).values_list("status", flat=True))
    codes = Counter(exchange.code for exchange in load.exchanges)
    summary = (
        f"seed {SEED} (replay: STRESS_SEED={SEED} STRESS_OPERATIONS={OPERATIONS} STRESS_CLIENTS={CLIENTS}), "
        f"{len(load.exchanges)} requests in {load_seconds:.1f}s, jobs done at {elapsed:.1f}s, on {connection.vendor}; "
        f"codes {dict(codes)}; {len(job_ids)} jobs, {deliveries} deliveries, results {dict(results)}; "
        f"{'; '.join(killed)}; server processes {len(server.worker_pids())}; links {load.links}"
    )
    print(f"\nStress run with workers: {summary}")
    assert not problems, "\n".join([f"{len(problems)} problems; {summary}", *itertools.islice(problems, 60)])
    assert killed, summary
    assert len(job_ids) >= 5 and len(server.worker_pids()) >= 2, summary
    assert deliveries > len(job_ids), f"no job message was delivered again: {summary}"
