"""A read replica: the REST API's GETs read it, everything else uses the default database.

The end-to-end tests run the standalone host in subprocesses over two real databases of the
suite's kind (two SQLite files, or two PostgreSQL or MariaDB databases) whose contents differ:
the primary holds the learner ``on-primary`` and the API user, the "replica" the learner
``on-replica`` only. A real replica is a copy kept by replication; different contents show which
database answered each query.
"""

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import DEFAULT_DB_ALIAS, connection
from django.test import override_settings

from program_enrollments import routers

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = ROOT / "program_enrollments" / "standalone" / "settings.py"


def _environment(tmp_path, database, replica):
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "program_enrollments.standalone.settings",
        "DJANGO_DEBUG": "1",
        "PROGRAM_ENROLLMENTS_VAR_DIR": str(tmp_path),
        "DATABASE_URL": database,
    }
    environment.pop("DATABASE_REPLICA_URL", None)
    environment.pop("CELERY_BROKER_URL", None)
    if replica:
        environment["DATABASE_REPLICA_URL"] = replica
    return environment


def _run(tmp_path, *runs):
    """Run ``(command, database, replica)`` subprocesses side by side; their results, in order."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.standalone.replica_host", *command],
            cwd=ROOT,
            env=_environment(tmp_path, database, replica),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for command, database, replica in runs
    ]
    results = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=600)
        assert process.returncode == 0, stderr[-4000:]
        lines = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
        results.append(json.loads(lines[-1].removeprefix("RESULT ")))
    return results


@pytest.fixture
def databases(tmp_path, django_db_blocker):
    """URLs of two empty databases of the suite's kind, dropped afterwards: (primary, replica)."""
    settings = connection.settings_dict
    vendor = connection.vendor
    if vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'primary.sqlite3'}", f"sqlite:///{tmp_path / 'replica.sqlite3'}"
        return
    base = settings["TEST"].get("NAME") or f"test_{settings['NAME']}"
    names = [f"{base}_primary", f"{base}_replica"]
    scheme = "postgres" if vendor == "postgresql" else "mysql"
    credentials = settings["USER"] + (f":{settings['PASSWORD']}" if settings.get("PASSWORD") else "")
    location = f"{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or (5432 if scheme == 'postgres' else 3306)}"
    create = "CREATE DATABASE {} CHARACTER SET utf8mb4" if vendor == "mysql" else "CREATE DATABASE {}"

    def execute(statements):
        with django_db_blocker.unblock(), connection._nodb_cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

    quote = connection.ops.quote_name
    execute([f"DROP DATABASE IF EXISTS {quote(name)}" for name in names])
    execute([create.format(quote(name)) for name in names])
    yield tuple(f"{scheme}://{credentials}@{location}/{name}" for name in names)
    execute([f"DROP DATABASE IF EXISTS {quote(name)}" for name in names])


def test_gets_read_the_replica_and_everything_else_the_default_database(tmp_path, databases):
    primary, replica = databases
    # The replica: the same schema and catalog, another learner, and no API user.
    _run(tmp_path, (["prepare", "on-primary", "api-reader"], primary, None), (["prepare", "on-replica"], replica, None))

    [seen] = _run(tmp_path, (["requests", "api-reader"], primary, replica))

    assert seen["aliases"] == ["default", "read_replica"]
    # The GET authenticated its user on default (the replica has no such user) and read the page there.
    assert seen["get_status"] == 200 and seen["get"] == ["on-replica"]
    assert seen["get_queries"]["default"] >= 1 and seen["get_queries"]["read_replica"] == 1
    # The PUT, its reads included, went to default only.
    assert seen["put_status"] == 200 and seen["put"] == {"written": "enrolled"}
    assert seen["put_queries"]["read_replica"] == 0
    assert seen["get_after_put"] == ["on-replica"]
    # The learner view reads the replica, which has not received the write.
    assert seen["learner_view_programs"] == 0
    # Inside a replica block, a read is the replica's, but a read inside a write is default's.
    assert seen["read_in_block"] == ["on-replica"]
    assert seen["read_in_write"] == ["on-primary", "written"]
    # The admin reads default.
    assert seen["admin_status"] == 200 and seen["admin_lists"] == ["on-primary", "written"]

    on_primary, on_replica = _run(tmp_path, (["keys"], primary, None), (["keys"], replica, None))
    assert on_primary["keys"] == ["on-primary", "written"] and on_replica["keys"] == ["on-replica"]

    # Without DATABASE_REPLICA_URL, the same host reads and writes default only.
    [alone] = _run(tmp_path, (["requests", "api-reader"], primary, None))
    assert alone["aliases"] == ["default"]
    assert alone["get"] == alone["get_after_put"] == ["on-primary", "written"]
    assert alone["learner_view_programs"] == 1
    assert alone["read_in_block"] == alone["read_in_write"] == ["on-primary", "written"]


# --- the settings and the router -----------------------------------------------------------------


def _settings_with(monkeypatch, tmp_path, **environment):
    monkeypatch.setenv("PROGRAM_ENROLLMENTS_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_REPLICA_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS))


def test_the_replica_url_adds_the_alias_and_the_router(monkeypatch, tmp_path):
    values = _settings_with(
        monkeypatch,
        tmp_path,
        DATABASE_URL="postgres://app@db.example/enrollments",
        DATABASE_REPLICA_URL="postgres://reader@replica.example:6432/enrollments",
    )
    replica = values["DATABASES"]["read_replica"]
    assert (replica["HOST"], replica["PORT"], replica["USER"]) == ("replica.example", 6432, "reader")
    assert replica["TEST"]["MIRROR"] == "default"
    assert values["DATABASE_ROUTERS"] == ["program_enrollments.routers.ReadReplicaRouter"]


def test_without_the_replica_url_there_is_one_database_and_no_router(monkeypatch, tmp_path):
    values = _settings_with(monkeypatch, tmp_path, DATABASE_URL="postgres://app@db.example/enrollments")
    assert list(values["DATABASES"]) == ["default"]
    assert "DATABASE_ROUTERS" not in values


@pytest.mark.django_db
def test_without_a_replica_alias_the_block_changes_nothing():
    if routers.replica_alias() is not None:
        pytest.skip("the suite runs with DATABASE_REPLICA_URL: this host has a replica alias")
    router = routers.ReadReplicaRouter()
    assert routers.replica_alias() is None
    with routers.replica_reads():
        assert not routers.reading_from_replica()
        assert router.db_for_read(None) == DEFAULT_DB_ALIAS
    assert router.db_for_write(None) == DEFAULT_DB_ALIAS
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "program_enrollments") is None


def test_the_open_edx_routers_block_is_entered_where_its_router_is_installed():
    read_replica = pytest.importorskip("edx_django_utils.db.read_replica")
    with override_settings(DATABASE_ROUTERS=[routers.PLATFORM_ROUTER]), routers._platform_reads():
        assert read_replica._storage.db_name == read_replica.READ_REPLICA_NAME
    assert read_replica._storage.db_name is None
    with override_settings(DATABASE_ROUTERS=[]), routers._platform_reads():
        assert read_replica._storage.db_name is None


def test_the_alias_is_the_open_edx_one_unless_renamed():
    assert routers.DEFAULT_REPLICA_ALIAS == "read_replica"
    with override_settings(EDX_READ_REPLICA_DB_NAME=DEFAULT_DB_ALIAS):
        assert routers.replica_alias() == DEFAULT_DB_ALIAS
