"""Transfers racing each other on real concurrent connections: one program wins each learner's course.

Each thread has its own database connection and the threads start together (see
tests/test_concurrency.py). SQLite serializes writers, so the races run on PostgreSQL and MariaDB.
"""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from program_enrollments import api
from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment
from tests import hosts
from tests.api.helpers import enroll, enroll_course
from tests.races import race

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor == "sqlite",
        reason="SQLite serializes writers; the concurrency proof runs on PostgreSQL and MariaDB "
        "(DATABASE_URL=postgres://... or mysql://...)",
    ),
]


def _learners(catalog, prefix, count):
    """Realized learners of Cybersecurity (one account for their GTx and MITx keys), active in the shared course."""
    keys = [f"{prefix}-{index}" for index in range(count)]
    for key in keys:
        user = get_user_model().objects.create(username=f"mover-{key}")
        hosts.add_sso_identity(user, "GTx", key)
        hosts.add_sso_identity(user, "MITx", key)
    enroll(catalog.CYBERSECURITY, keys)
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, keys)
    return keys


def test_two_transfers_of_the_same_learners_to_different_programs_leave_one_winner(catalog):
    for round_ in range(3):
        keys = _learners(catalog, f"t{round_}", 30)
        targets = (catalog.OTHER, catalog.MIT)
        # Opposite orders make the two batches meet in the middle.
        orders = (keys, list(reversed(keys)))
        results, errors = race(
            *[
                lambda target=target, order=order: api.transfer_program_enrollments(
                    from_program_uuid=catalog.CYBERSECURITY, to_program_uuid=target, student_keys=order
                )
                for target, order in zip(targets, orders, strict=True)
            ]
        )
        assert errors == []
        statuses = [{outcome.student_key: outcome.status for outcome in report.outcomes} for report in results]
        for key in keys:
            outcomes = sorted(status[key] for status in statuses)
            assert outcomes == ["nothing-to-transfer", "transferred"], (round_, key, outcomes)
        refs = set(ProgramEnrollment.objects.filter(external_user_key__in=keys).values_list("learner_ref", flat=True))
        active = ProgramCourseEnrollment.objects.filter(active_learner_ref__in=refs, course_key=catalog.SHARED_COURSE)
        assert active.count() == len(keys)
        winners = {
            row.program_enrollment.external_user_key: row.program_enrollment.program_uuid
            for row in active.select_related("program_enrollment")
        }
        for key in keys:
            won = targets[[status[key] for status in statuses].index("transferred")]
            assert winners[key] == won, (round_, key)
    assert api.audit_program_enrollments().clean
