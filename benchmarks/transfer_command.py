"""Speed and memory of the transfer_program_enrollments command on a large learners file.

Runs on the configured database (``DATABASE_URL``, SQLite by default) in a
throwaway test database:

    python -m benchmarks.transfer_command [--learners N]

N waiting learners of the Cybersecurity program, each active in one course it
shares with the Other program, are moved to Other by the command, from a CSV
file, with a report file and ``--source-status canceled``. Printed: the
command's wall time and learners per second, the growth of the process's peak
resident memory during the command, and the peak of Python allocations traced
during it (tracing slows Python code down, so it is measured in a second,
identical run on another cohort of N learners rather than in the timed one).
"""

import argparse
import csv
import io
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import django

# Rows per bulk_create while setting up: large enough to be quick, small enough to stay light.
SETUP_BATCH = 5000


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=100_000, help="learners to transfer (default 100000)")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "program_enrollments.standalone.settings")
    django.setup()
    from django.db import connection
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases

    # DEBUG would keep the text of recent queries in memory, which production runs do not.
    setup_test_environment(debug=False)
    with tempfile.TemporaryDirectory() as directory:
        if connection.vendor == "sqlite":
            # A test database in memory would grow this process by everything the transfer
            # writes; in a file, the resident memory measured is the command's own.
            connection.settings_dict["TEST"]["NAME"] = str(Path(directory) / "benchmark.sqlite3")
        old_config = setup_databases(verbosity=0, interactive=False)
        try:
            timed, traced = run(args.learners)
        finally:
            teardown_databases(old_config, verbosity=0)
    print(f"database: {connection.vendor}")
    print(f"learners:                         {args.learners}")
    print(f"seconds:                          {timed['seconds']:.1f}")
    print(f"learners per second:              {args.learners / timed['seconds']:.0f}")
    print(f"peak RSS growth during command:   {timed['rss_growth_mb']:.1f} MB")
    print(f"tracemalloc peak during command:  {traced['tracemalloc_peak_mb']:.1f} MB (second cohort, traced run)")
    print(f"verified:                         {timed['verified']}; {traced['verified']}")


def run(count):
    from tests import catalog

    catalog.load()
    with tempfile.TemporaryDirectory() as directory:
        timed = _transfer(count, "a", Path(directory), trace=False)
        traced = _transfer(count, "b", Path(directory), trace=True)
    return timed, traced


def _transfer(count, prefix, directory, *, trace):
    """Move a fresh cohort of ``count`` learners with the command; return its measurements."""
    from django.core.management import call_command

    from tests import catalog

    keys = _waiting_learners(prefix, count)
    learners = directory / f"{prefix}-learners.csv"
    with learners.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_key", "email"])
        writer.writerows((key, f"{key}@example.com") for key in keys)
    del keys
    args = [
        "transfer_program_enrollments",
        f"--from-program={catalog.CYBERSECURITY}",
        f"--to-program={catalog.OTHER}",
        f"--learners={learners}",
        f"--report={directory / f'{prefix}-report.csv'}",
        "--source-status=canceled",
    ]
    rss_before = _max_rss_mb()
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    call_command(*args, stdout=io.StringIO())
    seconds = time.perf_counter() - started
    result = {"seconds": seconds, "rss_growth_mb": _max_rss_mb() - rss_before}
    if trace:
        result["tracemalloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    result["verified"] = _verify(prefix, count)
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
    # ru_maxrss is in kilobytes on Linux (bytes on macOS).
    scale = 2**20 if sys.platform == "darwin" else 2**10
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


if __name__ == "__main__":
    sys.path.insert(0, os.getcwd())
    main()
