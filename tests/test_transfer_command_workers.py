"""The transfer command's --workers: batches written at once on connections of their own, reported in order.

The batches run on real threads, each with its own database connection, so the learners must be
committed before the command starts (``transaction=True``). SQLite takes one writer at a time:
there the command refuses more than one worker (tested in tests/test_transfer_command.py).
"""

import threading

import pytest
from django.core.management import CommandError
from django.db import DEFAULT_DB_ALIAS, connection, connections

from program_enrollments import api
from program_enrollments.management.commands import transfer_program_enrollments as command
from tests.test_transfer_command import (  # noqa: F401 - learners is a fixture
    KEYS,
    active_programs,
    learners,
    learners_file,
    read_report,
    run,
)

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("learners"),
    pytest.mark.skipif(
        connection.vendor == "sqlite",
        reason="SQLite takes one writer at a time, so the command runs one batch at a time there; "
        "--workers runs on PostgreSQL and MariaDB (DATABASE_URL=postgres://... or mysql://...)",
    ),
]

# How long a batch waits for another to start before the test gives up on seeing them overlap.
WAIT_SECONDS = 20


@pytest.fixture
def batches(monkeypatch):
    """Record each batch's keys, thread and database connection; ``before`` runs at the start of each batch."""
    transfer = api.iter_transfer_program_enrollments
    seen = []
    lock = threading.Lock()
    hooks = {"before": lambda keys: None}

    def recorded(**kwargs):
        keys = kwargs["student_keys"]
        if keys:
            with lock:
                seen.append((tuple(keys), threading.current_thread(), connections[DEFAULT_DB_ALIAS]))
            hooks["before"](keys)
        return transfer(**kwargs)

    monkeypatch.setattr(api, "iter_transfer_program_enrollments", recorded)
    recorded.seen = seen
    recorded.hooks = hooks
    return recorded


def test_the_default_is_two_workers_on_postgresql_and_one_on_mysql():
    assert command._workers(None) == (2 if connection.vendor == "postgresql" else 1)
    assert command._workers(3) == 3


def test_batches_overlap_on_their_own_connections_and_are_reported_in_order(catalog, tmp_path, batches):
    # The first two batches each wait for the other to start: they finish only if they run at once.
    both_started = threading.Barrier(2, timeout=WAIT_SECONDS)
    batches.hooks["before"] = lambda keys: both_started.wait() if keys[0] in {"k0", "k2"} else None
    report = str(tmp_path / "report.csv")
    stdout, _ = run(
        catalog, "--learners", learners_file(tmp_path, KEYS), "--workers", "2", "--batch-size", "2", "--report", report
    )

    assert "  transferred: 5" in stdout
    assert [row[:2] for row in read_report(report)[1:]] == [[key, "transferred"] for key in KEYS]
    assert set(active_programs(catalog).values()) == {"other"}
    assert sorted(keys for keys, _, _ in batches.seen) == [("k0", "k1"), ("k2", "k3"), ("k4",)]
    threads = {thread for _, thread, _ in batches.seen}
    assert threading.main_thread() not in threads
    assert len(threads) == 2
    # Each worker's connection is closed once the run ends; the threads are gone.
    assert all(used.connection is None for _, _, used in batches.seen)
    assert not any(thread.is_alive() for thread in threads)


def test_all_learners_of_a_program_move_one_batch_at_a_time(catalog, tmp_path, monkeypatch):
    # --all takes the program's keys as stored, through the API's own reading of the program.
    transfer = api.iter_transfer_program_enrollments
    threads = []

    def recorded(**kwargs):
        threads.append(threading.current_thread())
        return transfer(**kwargs)

    monkeypatch.setattr(api, "iter_transfer_program_enrollments", recorded)
    with pytest.raises(CommandError, match="--workers applies to --learners: --all moves"):
        run(catalog, "--all", "--workers", "2")
    assert set(active_programs(catalog).values()) == {"cybersecurity"}
    report = str(tmp_path / "report.csv")
    run(catalog, "--all", "--batch-size", "2", "--report", report)
    assert [row[:2] for row in read_report(report)[1:]] == [[key, "transferred"] for key in KEYS]
    assert set(active_programs(catalog).values()) == {"other"}
    assert set(threads) == {threading.main_thread()}


def test_an_interruption_lets_the_started_batches_finish_and_reports_them(catalog, tmp_path, batches):
    third_started = threading.Event()

    def before(keys):
        if keys[0] == "k4":
            third_started.set()
        elif keys[0] == "k2":
            # Interrupted while the third batch runs: that one commits and must be reported.
            assert third_started.wait(WAIT_SECONDS)
            raise KeyboardInterrupt

    batches.hooks["before"] = before
    path, report = learners_file(tmp_path, KEYS), str(tmp_path / "report.csv")
    with pytest.raises(CommandError) as raised:
        run(catalog, "--learners", path, "--workers", "2", "--batch-size", "2", "--report", report)
    assert str(raised.value).startswith("Interrupted after 3 of 5 learners (transferred: 3)")
    assert "the batches in progress were finished first" in str(raised.value)
    assert [row[:2] for row in read_report(report)[1:]] == [
        ["k0", "transferred"],
        ["k1", "transferred"],
        ["k4", "transferred"],
    ]
    moved = {key for (key, _), program in active_programs(catalog).items() if program == "other"}
    assert moved == {"k0", "k1", "k4"}

    batches.hooks["before"] = lambda keys: None
    run(catalog, "--learners", path, "--workers", "2", "--batch-size", "2", "--report", report)
    assert [row[:2] for row in read_report(report)[1:]] == [
        ["k0", "already-transferred"],
        ["k1", "already-transferred"],
        ["k2", "transferred"],
        ["k3", "transferred"],
        ["k4", "already-transferred"],
    ]
