"""Learners per second of bulk writes through the Python API, beside a per-learner baseline and a raw-SQL floor.

Runs on the configured database (``DATABASE_URL``, SQLite by default) in a
throwaway test database, and prints one table measured in one run:

    python -m benchmarks.bulk_writes [--learners N]

Each scenario activates N fresh learners (realized: linked to accounts) in one
course of a program: in batches of 1000, in batches of 25 (what partner
clients send), one learner per call (the per-learner path), and a raw-SQL
insert of the same rows (the floor: no checks, no history, no side effects).
"""

import argparse
import os
import sys
import time

import django
import django.utils.timezone


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=1000, help="learners per scenario (default 1000)")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "program_enrollments.standalone.settings")
    django.setup()
    from django.test.utils import setup_databases, teardown_databases

    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        rows = run(args.learners)
    finally:
        teardown_databases(old_config, verbosity=0)
    from django.db import connection

    print(f"database: {connection.vendor}, {args.learners} learners per scenario")
    floor = rows[-1][1]
    print(f"{'scenario':<34}{'learners/s':>12}{'x per-learner':>15}{'/ raw floor':>13}")
    baseline = next(rate for name, rate in rows if name.startswith("one learner"))
    for name, rate in rows:
        print(f"{name:<34}{rate:>12.0f}{rate / baseline:>15.1f}{rate / floor:>13.2f}")


def _learners(prefix, count):
    from django.contrib.auth import get_user_model

    from program_enrollments.standalone.lms.models import SSOIdentity

    keys = [f"{prefix}-{index}" for index in range(count)]
    users = get_user_model().objects.bulk_create(get_user_model()(username=f"bench-{key}") for key in keys)
    SSOIdentity.objects.bulk_create(
        SSOIdentity(user=user, organization_key="GTx", student_key=key, student_key_normalized=key.casefold())
        for user, key in zip(users, keys, strict=True)
    )
    return keys


def enrolled_learners(prefix, count):
    """Create ``count`` realized learners enrolled in the Cybersecurity program; return their keys."""
    from program_enrollments import api
    from tests import catalog

    keys = _learners(prefix, count)
    for start in range(0, count, 1000):
        api.write_program_enrollments(
            program_uuid=catalog.CYBERSECURITY,
            requests=[
                {"student_key": key, "status": "enrolled", "curriculum_uuid": catalog.CYBERSECURITY_CURRICULUM}
                for key in keys[start : start + 1000]
            ],
            create=True,
            update=True,
        )
    return keys


def raw_insert(keys, catalog):
    """Insert the learners' active rows with plain SQL; return learners per second."""
    from django.db import connection

    from program_enrollments.models import ProgramEnrollment

    enrollments = list(ProgramEnrollment.objects.filter(external_user_key__in=keys).values_list("id", "learner_ref"))
    table = "program_enrollments_programcourseenrollment"
    now = django.utils.timezone.now()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (created, modified, program_enrollment_id, course_key, status, course_staff, "
            "learner_ref, access_grant) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            [(now, now, pk, catalog.SHARED_COURSE, "active", False, ref, "none") for pk, ref in enrollments],
        )
    return len(keys) / (time.perf_counter() - started)


def run(count):

    from program_enrollments import api
    from tests import catalog

    catalog.load()

    def prepare(prefix):
        return enrolled_learners(prefix, count)

    def activate(keys, batch):
        for start in range(0, len(keys), batch):
            result = api.write_program_course_enrollments(
                program_uuid=catalog.CYBERSECURITY,
                course_key=catalog.SHARED_COURSE,
                requests=[{"student_key": key, "status": "active"} for key in keys[start : start + batch]],
                create=True,
                update=True,
            )
            assert set(result.values()) == {"active"}, result

    rows = []
    for name, batch in (
        ("Python API, batches of 1000", 1000),
        ("Python API, batches of 25", 25),
        ("one learner per call", 1),
    ):
        keys = prepare(f"b{batch}")
        started = time.perf_counter()
        activate(keys, batch)
        rows.append((name, count / (time.perf_counter() - started)))

    rows.append(("raw SQL insert (floor)", raw_insert(prepare("raw"), catalog)))
    return rows


if __name__ == "__main__":
    sys.path.insert(0, os.getcwd())
    main()
