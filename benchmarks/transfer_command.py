"""Speed and memory of the transfer_program_enrollments command on a large learners file.

Runs on the configured database (``DATABASE_URL``, SQLite by default) in a
throwaway test database:

    python -m benchmarks.transfer_command [--learners N]

N waiting learners of the Cybersecurity program, each active in one course it
shares with the Other program, are moved to Other by the command, from a CSV
file, with a report file and ``--source-status canceled``. Printed: the
command's wall time and learners per second, the growth of peak resident
memory during the command, and the peak of Python allocations traced during
it. Tracing slows Python code down several times, so it is measured in a
second, identical run on another cohort of N learners, not in the timed one.

Each measured run is a fresh process, as when an operator runs the command:
a process's peak resident memory only ever rises, and building the test
database and the learners would already have set it higher than the command
goes. The peak is read before and after the command (VmHWM on Linux,
``ru_maxrss`` elsewhere).
"""

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import django

# Rows per bulk_create while setting up: large enough to be quick, small enough to stay light.
SETUP_BATCH = 5000
MODULE = "benchmarks.transfer_command"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=100_000, help="learners to transfer (default 100000)")
    # The measured run, in its own process (see the module docstring); not for people.
    parser.add_argument("--measure", nargs=2, metavar=("DATABASE", "COMMAND_JSON"), help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "program_enrollments.standalone.settings")
    # DEBUG would keep the text of recent queries in memory, which production runs do not.
    os.environ["DJANGO_DEBUG"] = "0"
    django.setup()
    if args.measure:
        print(json.dumps(measure(*args.measure, trace=args.trace)))
        return
    from django.db import connection
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases

    setup_test_environment(debug=False)
    with tempfile.TemporaryDirectory() as directory:
        if connection.vendor == "sqlite":
            # The measured process must reach the test database, which SQLite would otherwise
            # keep in this process's memory.
            connection.settings_dict["TEST"]["NAME"] = str(Path(directory) / "benchmark.sqlite3")
        old_config = setup_databases(verbosity=0, interactive=False)
        try:
            timed, traced = run(args.learners, Path(directory))
        finally:
            teardown_databases(old_config, verbosity=0)
    print(f"database: {connection.vendor}")
    print(f"learners:                         {args.learners}")
    print(f"seconds:                          {timed['seconds']:.1f}")
    print(f"learners per second:              {args.learners / timed['seconds']:.0f}")
    print(
        f"peak RSS growth during command:   {timed['rss_after_mb'] - timed['rss_before_mb']:.1f} MB "
        f"({timed['rss_before_mb']:.1f} -> {timed['rss_after_mb']:.1f} MB)"
    )
    print(f"tracemalloc peak during command:  {traced['tracemalloc_peak_mb']:.1f} MB (second cohort, traced run)")
    print(f"verified:                         {timed['verified']}; {traced['verified']}")


def run(count, directory):
    from tests import catalog

    catalog.load()
    timed = _transfer(count, "a", directory, trace=False)
    traced = _transfer(count, "b", directory, trace=True)
    return timed, traced


def _transfer(count, prefix, directory, *, trace):
    """Move a fresh cohort of ``count`` learners with the command in a new process; return its measurements."""
    from django.db import connection

    from tests import catalog

    keys = _waiting_learners(prefix, count)
    learners = directory / f"{prefix}-learners.csv"
    with learners.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_key", "email"])
        writer.writerows((key, f"{key}@example.com") for key in keys)
    command = [
        "transfer_program_enrollments",
        f"--from-program={catalog.CYBERSECURITY}",
        f"--to-program={catalog.OTHER}",
        f"--learners={learners}",
        f"--report={directory / f'{prefix}-report.csv'}",
        "--source-status=canceled",
    ]
    # This very module again, by name, whether it was started with ``python -m`` or as a file.
    child = [sys.executable, "-m", MODULE, "--measure", connection.settings_dict["NAME"], json.dumps(command)]
    if trace:
        child.append("--trace")
    finished = subprocess.run(child, check=True, capture_output=True, text=True, env=os.environ)
    result = json.loads(finished.stdout.splitlines()[-1])
    result["verified"] = _verify(prefix, count)
    return result


def measure(database, command_json, *, trace):
    """Run the command on the test database ``database``; return its time and memory."""
    from django.core.management import call_command
    from django.db import connection

    connection.settings_dict["NAME"] = database
    command = json.loads(command_json)
    # Imported and connected beforehand, so that the figures are the command's own.
    connection.ensure_connection()
    from program_enrollments.management.commands import transfer_program_enrollments  # noqa: F401

    rss_before = _max_rss_mb()
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    with open(os.devnull, "w") as devnull:
        call_command(*command, stdout=devnull)
    result = {"seconds": time.perf_counter() - started, "rss_before_mb": rss_before, "rss_after_mb": _max_rss_mb()}
    if trace:
        result["tracemalloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return result


def _waiting_learners(prefix, count):
    """Create ``count`` waiting learners of Cybersecurity, active in its first shared course."""
    from django.utils import timezone

    from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment
    from tests import catalog

    now = timezone.now()
    keys = [f"{prefix}-{index:07d}" for index in range(count)]
    for start in range(0, count, SETUP_BATCH):
        enrollments = []
        for key in keys[start : start + SETUP_BATCH]:
            enrollment = ProgramEnrollment(
                external_user_key=key,
                program_uuid=catalog.CYBERSECURITY,
                curriculum_uuid=catalog.CYBERSECURITY_CURRICULUM,
                status="enrolled",
                created=now,
                modified=now,
            )
            # Spares the learner_ref field one catalog lookup per row.
            enrollment._organization_key = "GTx"
            enrollments.append(enrollment)
        ProgramEnrollment.objects.bulk_create(enrollments)
        ProgramCourseEnrollment.objects.bulk_create(
            ProgramCourseEnrollment(
                program_enrollment=enrollment,
                course_key=catalog.SHARED_COURSE,
                status="active",
                created=now,
                modified=now,
            )
            for enrollment in enrollments
        )
    return keys


def _verify(prefix, count):
    """Check that the whole cohort is active in Other and none of it in Cybersecurity."""
    from program_enrollments.models import ProgramCourseEnrollment
    from tests import catalog

    cohort = ProgramCourseEnrollment.objects.active().filter(
        program_enrollment__external_user_key__startswith=f"{prefix}-"
    )
    in_other = cohort.for_program(catalog.OTHER).count()
    in_source = cohort.for_program(catalog.CYBERSECURITY).count()
    if (in_other, in_source) != (count, 0):
        raise SystemExit(
            f"cohort {prefix}: {in_other} active in Other, {in_source} in Cybersecurity; expected {count}, 0"
        )
    return f"cohort {prefix}: {in_other} active in Other, {in_source} in Cybersecurity"


def _max_rss_mb():
    """The peak resident memory of this process, in MB."""
    # On Linux a spawned process's ru_maxrss starts at its parent's peak (the kernel carries it
    # across exec); VmHWM is the peak of this process's own address space.
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 2**10
    except OSError:
        pass
    # ru_maxrss is in kilobytes on Linux, bytes on macOS.
    scale = 2**20 if sys.platform == "darwin" else 2**10
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


if __name__ == "__main__":
    sys.path.insert(0, os.getcwd())
    main()
