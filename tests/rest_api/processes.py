"""Child processes on the test database: a gunicorn server with several workers, Celery workers on Redis.

They read and write the database pytest-django created (tests using them are transactional,
so what the test writes is committed and visible to them), with fresh development-free
secrets. Every process is started in its own session, so that killing it (``SIGKILL`` of the
whole group) also kills its worker processes, as a lost machine would.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from django.db import connection
from edx_rest_framework_extensions.auth.jwt.tests.utils import generate_jwt_token, generate_latest_version_payload

from tests import hosts

REPOSITORY = Path(__file__).resolve().parents[2]
TIMEOUT = 60

# A Redis database of its own per database vendor, so that the suites of two databases run side
# by side (as CI runs them) never share a broker database (15 is the housekeeping test's);
# PROGRAM_ENROLLMENTS_TEST_REDIS_URL names another Redis.
REDIS_DATABASES = {"sqlite": 11, "postgresql": 12, "mysql": 13}


def redis_url() -> str:
    default = f"redis://127.0.0.1:6379/{REDIS_DATABASES[connection.vendor]}"
    return os.environ.get("PROGRAM_ENROLLMENTS_TEST_REDIS_URL", default)


def redis_problem() -> str | None:
    """Why no Redis broker can be used, or None when one answers."""
    try:
        import redis

        redis.Redis.from_url(redis_url(), socket_connect_timeout=2).ping()
    except Exception as error:  # noqa: BLE001 - any failure means no broker to test against
        return f"no Redis broker at {redis_url()}: {error!r}"
    return None


def skip_without_workers(capsys, what: str) -> None:
    """Skip the test, printing why, unless Redis answers and the host is the standalone one the workers run."""
    problem = redis_problem()
    if problem is None and not hosts.is_standalone():
        problem = "the workers run the standalone host; in the Open edX harness LMS the in-process tests cover jobs"
    if problem:
        with capsys.disabled():
            print(f"\nSKIPPED ({what}): {problem}")
        pytest.skip(problem)


def child_database_url() -> str:
    """A ``DATABASE_URL`` naming the test database pytest-django created (not the configured one)."""
    database = connection.settings_dict
    scheme = {"postgresql": "postgres", "mysql": "mysql"}[connection.vendor]
    credentials = quote(database["USER"] or "", safe="")
    if database["PASSWORD"]:
        credentials += ":" + quote(database["PASSWORD"], safe="")
    port = f":{database['PORT']}" if database["PORT"] else ""
    return f"{scheme}://{credentials}@{database['HOST'] or '127.0.0.1'}{port}/{database['NAME']}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Process:
    """A child process of the standalone host, in its own session, logging to a file."""

    def __init__(self, log_path: Path, *, jwt_secret: str | None = None, environment: dict | None = None):
        self.log_path = log_path
        self.jwt_secret = jwt_secret or secrets.token_urlsafe(32)
        self.extra_environment = environment or {}
        self.process: subprocess.Popen | None = None

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "program_enrollments.standalone.settings",
            "DATABASE_URL": child_database_url(),
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "PROGRAM_ENROLLMENTS_JWT_SECRET_KEY": self.jwt_secret,
            "PYTHONPATH": str(REPOSITORY),
            "CELERY_BROKER_URL": "",
            **self.extra_environment,
        }

    def spawn(self, command: list[str]) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=REPOSITORY,
                env=self.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the process and every process of its group (a gunicorn's or a worker's children)."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=TIMEOUT)

    def stop(self) -> None:
        """Stop gracefully (SIGTERM), or kill after a while."""
        if not self.running():
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()

    def log(self, tail: int = 8000) -> str:
        return self.log_path.read_text(errors="replace")[-tail:] if self.log_path.exists() else ""

    def headers(self, user) -> dict[str, str]:
        token = generate_jwt_token(generate_latest_version_payload(user), signing_key=self.jwt_secret)
        return {"Authorization": f"JWT {token}"}


class GunicornServer(_Process):
    """The standalone host served by gunicorn with several worker processes on a free port.

    The access log names the worker process (``pid``) of each request, so that a test can
    tell that several processes served it.
    """

    # %(p)s is "<pid>".
    ACCESS_LOG_FORMAT = '%(p)s "%(r)s" %(s)s'

    def __init__(self, log_path: Path, *, workers: int = 3, **kwargs):
        super().__init__(log_path, **kwargs)
        self.workers = workers
        self.access_log_path = log_path.with_suffix(".access.log")
        self.url = ""

    def start(self) -> GunicornServer:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.spawn(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "program_enrollments.standalone.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(self.workers),
                "--timeout",
                str(TIMEOUT),
                "--access-logfile",
                str(self.access_log_path),
                "--access-logformat",
                self.ACCESS_LOG_FORMAT,
                "--error-logfile",
                "-",
            ]
        )
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if not self.running():
                raise AssertionError(f"gunicorn exited with {self.process.returncode}:\n{self.log()}")
            try:
                requests.get(self.url + "/oauth2/access_token", timeout=5)
                return self
            except requests.RequestException:  # not listening yet, or still starting on a busy machine
                time.sleep(0.2)
        raise AssertionError(f"gunicorn did not start:\n{self.log()}")

    def worker_pids(self) -> set[str]:
        """The worker processes that answered requests so far (from the access log)."""
        if not self.access_log_path.exists():
            return set()
        return set(re.findall(r"^<(\d+)> ", self.access_log_path.read_text(errors="replace"), flags=re.MULTILINE))

    def errors(self) -> list[str]:
        """Tracebacks and 5xx answers in the server's logs."""
        found = [line for line in self.log(200_000).splitlines() if "Traceback" in line or "[ERROR]" in line]
        if self.access_log_path.exists():
            found += [
                line
                for line in self.access_log_path.read_text(errors="replace").splitlines()
                if line.rsplit(" ", 1)[-1].startswith("5")
            ]
        return found


# Runs a Celery worker of the standalone host on one queue. Optional: smaller write chunks, and a
# pause in each chunk's transaction (after its writes, before it commits), so that a worker killed
# at a random moment is killed mid-chunk.
WORKER_SCRIPT = """
import sys
import time

import django
from django.conf import settings

django.setup()
chunk_size, pause = int(sys.argv[1]), float(sys.argv[2])
if chunk_size:
    settings.PROGRAM_ENROLLMENTS = {**settings.PROGRAM_ENROLLMENTS, "WRITE_CHUNK_SIZE": chunk_size}
if pause:
    from program_enrollments.api import jobs

    record = jobs._record

    def slow_record(*args, **kwargs):
        time.sleep(pause)
        return record(*args, **kwargs)

    jobs._record = slow_record

from program_enrollments.standalone.celery import app

app.worker_main(sys.argv[3:])
"""


class CeleryWorker(_Process):
    """A Celery worker (prefork pool) of the standalone host reading ``queue`` on a Redis broker."""

    def __init__(
        self,
        log_path: Path,
        *,
        broker_url: str,
        queue: str,
        name: str,
        visibility_timeout: int = 3600,
        chunk_size: int = 0,
        pause: float = 0.0,
        concurrency: int = 1,
        **kwargs,
    ):
        environment = {
            "CELERY_BROKER_URL": broker_url,
            "CELERY_TASK_DEFAULT_QUEUE": queue,
            "CELERY_VISIBILITY_TIMEOUT": str(visibility_timeout),
        }
        super().__init__(log_path, environment=environment, **kwargs)
        self.queue, self.name = queue, name
        self.chunk_size, self.pause, self.concurrency = chunk_size, pause, concurrency

    def start(self) -> CeleryWorker:
        self.spawn(
            [
                sys.executable,
                "-c",
                WORKER_SCRIPT,
                str(self.chunk_size),
                str(self.pause),
                "worker",
                "--queues",
                self.queue,
                "--hostname",
                f"{self.name}@%h",
                "--concurrency",
                str(self.concurrency),
                "--pool",
                "prefork",
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ]
        )
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if not self.running():
                raise AssertionError(f"the worker exited with {self.process.returncode}:\n{self.log()}")
            if " ready." in self.log():
                return self
            time.sleep(0.2)
        raise AssertionError(f"the worker did not start:\n{self.log()}")
