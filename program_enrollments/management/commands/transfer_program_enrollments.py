"""Transfer learners from one program to another, from a CSV file of student keys or all of them."""

from __future__ import annotations

import csv
import sqlite3
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import ExitStack
from functools import partial
from itertools import islice
from pathlib import Path
from typing import BinaryIO, TypeVar
from uuid import UUID

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections
from tqdm import tqdm

from program_enrollments import api
from program_enrollments.constants import STUDENT_KEY_MAX_LENGTH, ProgramEnrollmentStatus, TransferStatus
from program_enrollments.data import TransferOutcome
from program_enrollments.exceptions import ProgramEnrollmentsError
from program_enrollments.identity import normalize_student_key, student_key_problem
from program_enrollments.management.spreadsheet_csv import SpreadsheetSafeWriter

STUDENT_KEY_COLUMN = "student_key"
REPORT_HEADER = ("student_key", "status", "courses", "detail")
SUCCEEDED = frozenset({TransferStatus.TRANSFERRED, TransferStatus.WOULD_TRANSFER, TransferStatus.ALREADY_TRANSFERRED})

# Learners in flight by default, divided among the workers (one batch each): each batch costs the
# same number of statements, whose cost grows linearly with the batch, so larger batches spend
# less on round trips, and memory grows with the learners in flight; see docs/operator_guide.rst
# (Memory and speed) for the figures this was chosen from.
DEFAULT_LEARNERS_IN_FLIGHT = 5000

# Batches written at once on PostgreSQL by default, each on its own database connection: while
# one batch's statements run in the database, the next is decided in Python, and the database
# works on two batches at once. Two batches of 2500 hold what one of 5000 did. On MySQL and
# MariaDB, concurrent batches deadlock each other on InnoDB's gap locks (the retries cost more
# than the overlap saves), and SQLite takes one writer at a time: one batch at a time there.
# See docs/operator_guide.rst (Memory and speed).
DEFAULT_WORKERS = {"postgresql": 2}

# Enough to show what is wrong with a file or a run without flooding the terminal.
MAX_PROBLEMS_SHOWN = 20

Item = TypeVar("Item")


class Command(BaseCommand):
    help = (
        "Move learners' active course enrollments from one program to another, keeping their course "
        "enrollments (progress and access). Learners come from --learners FILE.csv (a header row with a "
        "student_key column, in any letter case; other columns are ignored) or --all (every learner of the "
        "source program with a student key). The file is checked in full before anything is written: it must be UTF-8 "
        "CSV, and each student key non-blank, at most 255 characters and listed once (ignoring case); a "
        "repeated key is an error, not skipped. Learners are transferred in batches, each batch in one "
        "transaction, so re-running an interrupted or partly failed transfer resumes it: learners already "
        "moved are reported already-transferred. The exit status is non-zero when any learner was not "
        "transferred (any status other than transferred, would-transfer or already-transferred)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from-program", required=True, type=UUID, metavar="UUID", help="the source program")
        parser.add_argument("--to-program", required=True, type=UUID, metavar="UUID", help="the target program")
        parser.add_argument(
            "--to-curriculum",
            type=UUID,
            metavar="UUID",
            help="the target program's curriculum (default: its first active curriculum)",
        )
        parser.add_argument(
            "--course",
            action="append",
            dest="course_keys",
            metavar="KEY",
            help="transfer only this course run (repeat for several; default: every active course)",
        )
        learners = parser.add_mutually_exclusive_group(required=True)
        learners.add_argument("--learners", metavar="FILE.csv", help="CSV file with a student_key column")
        learners.add_argument(
            "--all", action="store_true", dest="all_learners", help="every learner of the source program"
        )
        parser.add_argument(
            "--source-status",
            metavar="STATUS",
            help=f"new status of each moved learner's source enrollment ({', '.join(ProgramEnrollmentStatus.values)})",
        )
        parser.add_argument("--dry-run", action="store_true", help="report what would be transferred; write nothing")
        parser.add_argument(
            "--report",
            metavar="OUT.csv",
            help="write each learner's outcome to OUT.csv (student_key,status,courses,detail), batch by batch",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            metavar="N",
            help=f"learners per transaction (default {DEFAULT_LEARNERS_IN_FLIGHT} divided among the workers: "
            f"{DEFAULT_LEARNERS_IN_FLIGHT // 2} with 2)",
        )
        parser.add_argument(
            "--workers",
            type=int,
            metavar="N",
            help="batches of a --learners file written at once, each in its own transaction on its own "
            "database connection (default 2 on PostgreSQL, 1 on other databases; SQLite takes only 1)",
        )

    def handle(
        self,
        *,
        from_program: UUID | str,
        to_program: UUID | str,
        to_curriculum: UUID | str | None,
        course_keys: list[str] | None,
        learners: str | None,
        all_learners: bool,
        source_status: str | None,
        dry_run: bool,
        report: str | None,
        batch_size: int | None = None,
        workers: int | None = None,
        **options,
    ):
        started = time.monotonic()
        if batch_size is not None and batch_size < 1:
            raise CommandError(f"--batch-size must be at least 1, not {batch_size}.")
        workers = _workers(workers, all_learners=all_learners)
        batch_size = batch_size or max(1, DEFAULT_LEARNERS_IN_FLIGHT // workers)
        transfer = partial(
            api.iter_transfer_program_enrollments,
            from_program_uuid=from_program,
            to_program_uuid=to_program,
            to_curriculum_uuid=to_curriculum,
            course_keys=course_keys,
            source_status=source_status,
            dry_run=dry_run,
            chunk_size=batch_size,
        )
        try:
            # The API checks its arguments when its iterator starts, before writing anything;
            # starting it on no learners checks them before the file is read or the report created.
            list(transfer(student_keys=[]))
        except ProgramEnrollmentsError as error:
            raise CommandError(str(error)) from error

        if learners is not None:
            path = Path(learners)
            total = _check_learners_file(path)
            if report is not None and Path(report).resolve() == path.resolve():
                raise CommandError("--report must not overwrite the --learners file.")
            keys = (student_key for _, student_key in _student_keys(path))
            # One API call per batch keeps memory bounded: the API holds the keys of a call in a list.
            batches = (partial(_transfer_batch, transfer, batch) for batch in _chunks(keys, batch_size))
        else:
            total = api.fetch_program_enrollments(program_uuids=[from_program]).exclude(external_user_key=None).count()
            # The API reads the program's learners and commits one chunk of batch_size at a time,
            # taking their keys as stored (a key adopted from the built-in app may be one that a
            # request could not give today).
            batches = (partial(_given, outcomes) for outcomes in _chunks(transfer(student_keys=None), batch_size))

        counts, failures = self._run(batches, workers=workers, total=total, report=report, dry_run=dry_run)
        self.stdout.write(_summary(counts, time.monotonic() - started, dry_run=dry_run))
        failed = sum(count for status, count in counts.items() if status not in SUCCEEDED)
        if failed:
            for outcome in failures:
                detail = f" ({outcome.detail})" if outcome.detail else ""
                self.stderr.write(f"{outcome.student_key}: {outcome.status}{detail}")
            if failed > len(failures):
                self.stderr.write(f"... and {failed - len(failures)} more.")
            where = f"see {report}" if report is not None else "give --report OUT.csv to list them all"
            raise CommandError(
                f"{failed} of {sum(counts.values())} learners {'would not be' if dry_run else 'were not'} "
                f"transferred ({_counts_text(counts, failed_only=True)}); {where}."
            )

    def _run(
        self,
        batches: Iterable[Callable[[], list[TransferOutcome]]],
        *,
        workers: int,
        total: int,
        report: str | None,
        dry_run: bool,
    ) -> tuple[Counter[str], list[TransferOutcome]]:
        """Run the batches, ``workers`` at a time; return the count of each status and the first failures.

        Outcomes are counted and reported batch by batch, in the order of the batches.

        Raises:
            CommandError: the API refused its arguments, or the run was interrupted.
        """
        counts: Counter[str] = Counter()
        failures: list[TransferOutcome] = []
        # A bar is for someone watching: redirected or scheduled runs keep their logs clean.
        interactive = self.stdout.isatty() and sys.stderr.isatty()
        with ExitStack() as stack:
            report_file = stack.enter_context(_open_report(Path(report))) if report is not None else None
            writer = SpreadsheetSafeWriter(report_file) if report_file is not None else None
            if writer is not None:
                writer.writerow(REPORT_HEADER)
            progress = stack.enter_context(
                tqdm(
                    total=total,
                    disable=not interactive,
                    file=sys.stderr,
                    unit="learner",
                    desc="Dry run" if dry_run else "Transferring",
                )
            )
            runner = stack.enter_context(_Batches(workers))

            def record(outcomes: list[TransferOutcome]) -> None:
                for outcome in outcomes:
                    counts[outcome.status] += 1
                    if outcome.status not in SUCCEEDED and len(failures) < MAX_PROBLEMS_SHOWN:
                        failures.append(outcome)
                if writer is not None:
                    writer.writerows(
                        (outcome.student_key, outcome.status, " ".join(outcome.courses), outcome.detail)
                        for outcome in outcomes
                    )
                    # Each batch is committed: its rows reach the disk before the next is reported,
                    # so an interrupted run leaves a report of everything it did.
                    report_file.flush()
                progress.update(len(outcomes))

            try:
                for outcomes in runner.run(batches):
                    record(outcomes)
            except ProgramEnrollmentsError as error:
                raise CommandError(str(error)) from error
            except KeyboardInterrupt as error:
                # The batches already started run to their end, each in its own transaction:
                # what they did is counted and reported like the rest.
                finished = runner.finish_started()
                for outcomes in finished:
                    record(outcomes)
                done = f"Interrupted after {sum(counts.values())} of {total} learners ({_counts_text(counts)})"
                if dry_run:
                    raise CommandError(f"{done}; nothing was written.") from error
                in_progress = (
                    "the batches in progress were finished first"
                    if finished
                    else "the batch in progress was rolled back"
                )
                raise CommandError(
                    f"{done}; {in_progress}. Run the same command again to resume: "
                    "learners already moved are reported already-transferred."
                ) from error
        return counts, failures


def _workers(requested: int | None, *, all_learners: bool = False) -> int:
    """The number of batches to write at once: ``--workers``, or the default for the database.

    Raises:
        CommandError: not a positive number, more than one with ``--all`` or on SQLite.
    """
    if requested is not None and requested < 1:
        raise CommandError(f"--workers must be at least 1, not {requested}.")
    if all_learners:
        if requested is not None and requested > 1:
            raise CommandError(
                "--workers applies to --learners: --all moves the program's learners one batch at a time."
            )
        return 1
    if connection.vendor == "sqlite":
        if requested is not None and requested > 1:
            raise CommandError("--workers: SQLite takes one writer at a time; leave --workers out or give 1.")
        return 1
    if connection.in_atomic_block:
        # The caller's transaction (a test's, say) is invisible to other connections.
        return 1
    return requested or DEFAULT_WORKERS.get(connection.vendor, 1)


class _Batches:
    """Runs batches on ``workers`` threads, each with its own database connection; results in batch order.

    At most ``workers`` batches are started and not yet reported, so memory stays bounded
    whatever the number of batches. With one worker the batches run in the calling thread,
    on its connection, one after the other.
    """

    # How long closing waits for a worker thread to take its turn (see __exit__).
    CLOSE_TIMEOUT_SECONDS = 60

    def __init__(self, workers: int):
        self.workers = workers
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="transfer") if workers > 1 else None
        self.started: deque[Future] = deque()

    def __enter__(self) -> _Batches:
        return self

    def run(self, batches: Iterable[Callable[[], Item]]) -> Iterator[Item]:
        if self.pool is None:
            for batch in batches:
                yield batch()
            return
        for batch in batches:
            self.started.append(self.pool.submit(batch))
            if len(self.started) == self.workers:
                yield self._next()
        while self.started:
            yield self._next()

    def _next(self):
        # Taken off the queue only once done: an interruption while waiting leaves it to finish_started.
        result = self.started[0].result()
        self.started.popleft()
        return result

    def finish_started(self) -> list:
        """Drop the batches not yet started; wait for the others and return the results of those that succeeded.

        A batch that failed was rolled back (its transaction): it has no outcomes to give.
        """
        for future in self.started:
            future.cancel()
        started = [future for future in self.started if not future.cancelled()]
        wait(started)
        self.started.clear()
        return [future.result() for future in started if future.exception() is None]

    def __exit__(self, *exc_info) -> None:
        if self.pool is None:
            return
        for future in self.started:
            future.cancel()
        # Each worker thread closes its own database connections (Django's connections belong to
        # the thread that opened them): one closing task per thread, which a barrier keeps from
        # running twice on one thread.
        barrier = threading.Barrier(self.workers)
        for _ in range(self.workers):
            self.pool.submit(_close_connections, barrier, self.CLOSE_TIMEOUT_SECONDS)
        self.pool.shutdown(wait=True)


def _close_connections(barrier: threading.Barrier, timeout: float) -> None:
    try:
        barrier.wait(timeout)
    except threading.BrokenBarrierError:
        pass
    connections.close_all()


def _transfer_batch(transfer: Callable[..., Iterator[TransferOutcome]], keys: list[str]) -> list[TransferOutcome]:
    return list(transfer(student_keys=keys))


def _given(outcomes: list[TransferOutcome]) -> list[TransferOutcome]:
    return outcomes


def _check_learners_file(path: Path) -> int:
    """Read the whole learners file once and return how many learners it lists.

    Memory stays bounded whatever the file's length: the keys are compared for repeats in a
    scratch database on disk (see ``_RepeatFinder``), not in a set in memory.

    Raises:
        CommandError: the file cannot be read, is not UTF-8 CSV with a student_key column, or
            lists a blank, too long or repeated student key (each problem with its line number).
    """
    # (line, problem) of the first rows found invalid, and how many there are.
    problems: list[tuple[int, str]] = []
    problem_count = 0
    learners = 0
    with _RepeatFinder() as repeats:
        for line, student_key in _student_keys(path):
            learners += 1
            problem = None
            if not student_key.strip():
                problem = "blank student_key"
            elif _plainly_valid(student_key):
                repeats.add(line, student_key)
            elif (refusal := student_key_problem(student_key, STUDENT_KEY_MAX_LENGTH)) is not None:
                problem = refusal
            else:
                repeats.add(line, student_key)
            if problem is not None:
                problem_count += 1
                if len(problems) < MAX_PROBLEMS_SHOWN:
                    problems.append((line, problem))
        repeated, repeat_count = repeats.first_repeats(MAX_PROBLEMS_SHOWN)
    problem_count += repeat_count
    shown = [
        f"line {line}: {problem}"
        for line, problem in sorted(
            [
                *problems,
                *(
                    (
                        line,
                        f"student_key {student_key!r} repeats line {first} "
                        "(case, width and Unicode normalization are ignored)",
                    )
                    for line, student_key, first in repeated
                ),
            ]
        )[:MAX_PROBLEMS_SHOWN]
    ]
    if problem_count:
        more = f"\n  ... and {problem_count - len(shown)} more" if problem_count > len(shown) else ""
        raise CommandError(
            f"{path}: {problem_count} invalid row(s); nothing was transferred:\n  " + "\n  ".join(shown) + more
        )
    if not learners:
        raise CommandError(f"{path} lists no learners.")
    return learners


def _plainly_valid(student_key: str) -> bool:
    """Whether a non-blank key is printable ASCII within the length limit, which ``student_key_problem`` accepts.

    A shortcut for the common key: such a key holds no invisible character and keeps its length
    when folded, and the full check costs several microseconds a key.
    """
    return student_key.isascii() and student_key.isprintable() and len(student_key) <= STUDENT_KEY_MAX_LENGTH


class _RepeatFinder:
    """Finds the student keys a file lists more than once, with memory bounded whatever its length.

    The API compares keys ignoring case (and width and Unicode normalization), and only within
    one call, so repeats across batches must be caught before the first batch. The folded keys
    go to a private SQLite database on disk, which keeps a few megabytes of it in memory,
    rather than into a set that would hold every key of a million-learner file.
    """

    # Rows per insert into the scratch database.
    BATCH = 5000
    # The scratch database's page cache, in KiB (SQLite's negative cache_size).
    CACHE_KIB = 4096

    def __enter__(self) -> _RepeatFinder:
        # An empty name: a temporary database in a file that SQLite deletes on close.
        self._db = sqlite3.connect("")
        self._db.execute(f"PRAGMA cache_size = -{self.CACHE_KIB}")
        self._db.execute("CREATE TABLE seen (folded TEXT NOT NULL, line INTEGER NOT NULL, student_key TEXT NOT NULL)")
        self._pending: list[tuple[str, int, str]] = []
        return self

    def __exit__(self, *exc_info) -> None:
        self._db.close()

    def add(self, line: int, student_key: str) -> None:
        # An ASCII key's compatibility case fold is its lower case.
        folded = student_key.lower() if student_key.isascii() else normalize_student_key(student_key)
        self._pending.append((folded, line, student_key))
        if len(self._pending) >= self.BATCH:
            self._flush()

    def _flush(self) -> None:
        self._db.executemany("INSERT INTO seen VALUES (?, ?, ?)", self._pending)
        self._pending = []

    def first_repeats(self, limit: int) -> tuple[list[tuple[int, str, int]], int]:
        """The first ``limit`` repeats as (line, student key, line it repeats), and how many there are."""
        self._flush()
        self._db.execute("CREATE INDEX seen_folded ON seen (folded, line)")
        repeats = (
            "SELECT seen.line, seen.student_key, firsts.line FROM seen JOIN "
            "(SELECT folded, MIN(line) AS line FROM seen GROUP BY folded HAVING COUNT(*) > 1) AS firsts "
            "ON seen.folded = firsts.folded AND seen.line > firsts.line"
        )
        (count,) = self._db.execute(f"SELECT COUNT(*) FROM ({repeats})").fetchone()
        first = self._db.execute(f"{repeats} ORDER BY seen.line LIMIT ?", (limit,)).fetchall() if count else []
        return first, count


def _student_keys(path: Path) -> Iterator[tuple[int, str]]:
    """Yield (line number, student key) for each data row of a learners file, reading it as a stream.

    Raises:
        CommandError: the file cannot be opened, a line is not UTF-8, the header has no
            student_key column, or a row is malformed CSV.
    """
    try:
        handle = path.open("rb")
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error.strerror or error}") from error
    with handle:
        # Strict: a stray quote would otherwise swallow the following lines into one key.
        reader = csv.reader(_decoded_lines(handle, path), strict=True)
        line = 1
        try:
            header = next(reader, None)
            if header is None:
                raise CommandError(f"{path} is empty: expected a header row with a {STUDENT_KEY_COLUMN} column.")
            column = _student_key_column(header, path)
            while True:
                line = reader.line_num + 1
                row = next(reader, None)
                if row is None:
                    return
                if row:  # csv gives blank lines as empty rows
                    yield line, row[column] if column < len(row) else ""
        except csv.Error as error:
            # A row spans several lines when a quote is left open: name where it starts.
            where = f"line {line}" if reader.line_num <= line else f"lines {line}-{reader.line_num}"
            raise CommandError(f"{path}: {where}: malformed CSV: {error}.") from error


def _student_key_column(header: list[str], path: Path) -> int:
    """The position of the student_key column, named in any letter case, with spaces around or not.

    Raises:
        CommandError: no column, or more than one, is named student_key.
    """
    columns = [name.strip() for name in header]
    matches = [index for index, name in enumerate(columns) if name.casefold() == STUDENT_KEY_COLUMN]
    if not matches:
        found = ", ".join(repr(name) for name in columns) or "none"
        raise CommandError(f"{path}: the header row has no {STUDENT_KEY_COLUMN} column (columns found: {found}).")
    if len(matches) > 1:
        named = ", ".join(f"{repr(columns[index])} (column {index + 1})" for index in matches)
        raise CommandError(f"{path}: the header row has {len(matches)} {STUDENT_KEY_COLUMN} columns: {named}.")
    return matches[0]


def _decoded_lines(handle: BinaryIO, path: Path) -> Iterator[str]:
    """Lines of a UTF-8 file, without the byte order mark spreadsheets write.

    Decoding line by line, rather than through a text stream, is what lets a bad byte be reported
    with its line number; splitting the bytes first is safe because no UTF-8 sequence contains a
    newline byte.
    """
    for number, raw in enumerate(handle, start=1):
        try:
            yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as error:
            raise CommandError(f"{path}: line {number} is not valid UTF-8 (byte {error.start + 1}).") from error


def _chunks(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _open_report(path: Path):
    try:
        return path.open("w", newline="", encoding="utf-8")
    except OSError as error:
        raise CommandError(f"Cannot write {path}: {error.strerror or error}") from error


def _counts_text(counts: Counter[str], *, failed_only: bool = False) -> str:
    shown = [(status, count) for status, count in counts.most_common() if not failed_only or status not in SUCCEEDED]
    return ", ".join(f"{status}: {count}" for status, count in shown) or "none"


def _summary(counts: Counter[str], elapsed: float, *, dry_run: bool) -> str:
    learners = sum(counts.values())
    rate = learners / elapsed if elapsed > 0 else 0.0
    lines = ["Dry run: nothing was written."] if dry_run else []
    lines.append(f"{learners} learners in {elapsed:.1f} s ({rate:.0f} learners/s):")
    lines.extend(f"  {status}: {count}" for status, count in counts.most_common())
    return "\n".join(lines)
