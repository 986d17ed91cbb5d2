"""Learners per second of REST API v1 course-enrollment PUTs, beside one-learner requests and a raw-SQL floor.

Runs the whole Django stack in-process (JWT authentication, permissions,
validation, the Python API, the database) on the configured database
(``DATABASE_URL``, SQLite by default) in a throwaway test database:

    python -m benchmarks.rest_writes [--learners N]

Each scenario activates N fresh realized learners in one course of a program:
PUT batches of 1000, PUT batches of 25 (what Open edX clients send), one
learner per request (the per-learner path), and a raw-SQL insert of the same
rows (the floor: no checks, no history, no side effects).
"""

import argparse
import os
import sys
import time

import django


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=1000, help="learners per scenario (default 1000)")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "program_enrollments.standalone.settings")
    django.setup()
    from django.db import connection
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases

    setup_test_environment()
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        rows = run(args.learners)
    finally:
        teardown_databases(old_config, verbosity=0)
    print(f"database: {connection.vendor}, {args.learners} learners per scenario, in-process HTTP")
    baseline = next(rate for name, rate in rows if name.startswith("one learner"))
    floor = rows[-1][1]
    print(f"{'scenario':<34}{'learners/s':>12}{'x per-learner':>15}{'/ raw floor':>13}")
    for name, rate in rows:
        print(f"{name:<34}{rate:>12.0f}{rate / baseline:>15.1f}{rate / floor:>13.2f}")


def run(count):
    from django.contrib.auth import get_user_model
    from django.test import Client
    from edx_rest_framework_extensions.auth.jwt.tests.utils import generate_jwt

    from benchmarks.bulk_writes import enrolled_learners, raw_insert
    from tests import catalog

    catalog.load()
    # Writes need the change permissions (docs/decisions/0006): a superuser has them all.
    staff = get_user_model().objects.create(username="bench-staff", is_staff=True, is_superuser=True)
    client = Client(HTTP_AUTHORIZATION=f"JWT {generate_jwt(staff)}")
    url = f"/api/program_enrollments/v1/programs/{catalog.CYBERSECURITY}/courses/{catalog.SHARED_COURSE}/enrollments/"

    def prepare(prefix):
        return enrolled_learners(prefix, count)

    rows = []
    for name, batch in (("PUT, batches of 1000", 1000), ("PUT, batches of 25", 25), ("one learner per request", 1)):
        keys = prepare(f"h{batch}")
        started = time.perf_counter()
        for start in range(0, count, batch):
            body = [{"student_key": key, "status": "active"} for key in keys[start : start + batch]]
            response = client.put(url, body, content_type="application/json")
            assert response.status_code == 200, response.content
        rows.append((name, count / (time.perf_counter() - started)))
    rows.append(("raw SQL insert (floor)", raw_insert(prepare("raw"), catalog)))
    return rows


if __name__ == "__main__":
    sys.path.insert(0, os.getcwd())
    main()
