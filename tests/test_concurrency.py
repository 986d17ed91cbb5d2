"""Real concurrent connections racing to activate one learner in one course through several programs.

Each thread has its own database connection (Django's connections are per
thread) and all of them start their write at the same instant (a barrier).
SQLite serializes writers, so these races are run on PostgreSQL and MariaDB.
"""

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction

from program_enrollments import api
from program_enrollments.identity import user_ref
from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment
from program_enrollments.standalone.lms.models import CourseEnrollment, SSOIdentity
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

ROUNDS = 100


def _realized_learner(catalog, key):
    user = get_user_model().objects.create(username=f"racer-{key}")
    SSOIdentity.objects.create(user=user, organization_key="GTx", student_key=key)
    SSOIdentity.objects.create(user=user, organization_key="MITx", student_key=key)
    for program in (catalog.CYBERSECURITY, catalog.OTHER, catalog.MIT):
        enroll(program, [key])
    return user


def test_programs_racing_for_a_realized_learner_leave_one_winner(catalog):
    programs = (catalog.CYBERSECURITY, catalog.OTHER, catalog.MIT)
    for round_ in range(ROUNDS):
        key = f"r{round_}"
        user = _realized_learner(catalog, key)
        results, errors = race(
            *[
                lambda program=program, key=key: enroll_course(program, catalog.SHARED_COURSE, [key])
                for program in programs
            ]
        )
        assert errors == []
        statuses = sorted(result[key] for result in results)
        assert statuses == ["active", "conflicted", "conflicted"], (round_, statuses)
        active = ProgramCourseEnrollment.objects.filter(learner_ref=user_ref(user.pk), status="active")
        assert active.count() == 1
        assert CourseEnrollment.objects.get(user=user).is_active


def test_programs_racing_for_a_waiting_learner_leave_one_winner(catalog):
    programs = (catalog.CYBERSECURITY, catalog.OTHER)
    for round_ in range(ROUNDS):
        key = f"w{round_}"
        for program in programs:
            enroll(program, [key])
        results, errors = race(
            *[
                lambda program=program, casing=casing: enroll_course(program, catalog.SHARED_COURSE, [casing])
                for program, casing in zip(programs, (key, key.upper()), strict=True)
            ]
        )
        assert errors == []
        statuses = sorted(next(iter(result.values())) for result in results)
        assert statuses == ["active", "conflicted"], (round_, statuses)
        ref = ProgramEnrollment.objects.filter(external_user_key=key).values_list("learner_ref", flat=True)[0]
        assert ProgramCourseEnrollment.objects.filter(active_learner_ref=ref).count() == 1


def test_overlapping_batches_leave_one_winner_per_learner(catalog):
    programs = (catalog.CYBERSECURITY, catalog.OTHER)
    for round_ in range(10):
        keys = [f"b{round_}-{index}" for index in range(50)]
        for program in programs:
            enroll(program, keys)
        # Opposite orders make the batches meet in the middle.
        orders = (keys, list(reversed(keys)))
        results, errors = race(
            *[
                lambda program=program, order=order: enroll_course(program, catalog.SHARED_COURSE, order)
                for program, order in zip(programs, orders, strict=True)
            ]
        )
        assert errors == []
        for key in keys:
            assert sorted(result[key] for result in results) == ["active", "conflicted"], (round_, key)
        refs = ProgramEnrollment.objects.filter(external_user_key__in=keys).values_list("learner_ref", flat=True)
        assert ProgramCourseEnrollment.objects.filter(active_learner_ref__in=set(refs)).count() == len(keys)


def test_linking_racing_an_activation_leaves_one_active_row(catalog):
    for round_ in range(50):
        key = f"l{round_}"
        user = get_user_model().objects.create(username=f"linker-{key}")
        # Waiting (by key) and active in program one; realized (by account) in program two.
        enroll(catalog.CYBERSECURITY, [key])
        enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, [key])
        ProgramEnrollment.objects.create(
            user=user,
            external_user_key=f"other-{key}",
            program_uuid=catalog.OTHER,
            curriculum_uuid=catalog.OTHER_CURRICULUM,
            status="enrolled",
        )
        results, errors = race(
            lambda key=key, user=user: api.link_program_enrollments(
                program_uuid=catalog.CYBERSECURITY, usernames_by_student_key={key: user.username}
            ),
            lambda key=key: enroll_course(catalog.OTHER, catalog.SHARED_COURSE, [f"other-{key}"]),
        )
        assert errors == []
        assert not results[0][key].error
        assert ProgramCourseEnrollment.objects.filter(active_learner_ref=user_ref(user.pk)).count() == 1
        # Linking first: the activation sees the account's active slot. Activation first: linking
        # keeps the earlier-activated row and makes the other inactive.
        activation = results[1][f"other-{key}"]
        assert activation in ("active", "conflicted")
        rows = ProgramCourseEnrollment.objects.filter(learner_ref=user_ref(user.pk))
        assert rows.count() == (2 if activation == "active" else 1)
        assert rows.get(status="active").program_enrollment.program_uuid == catalog.CYBERSECURITY


def test_concurrent_raw_inserts_are_refused_by_the_database(catalog):
    for round_ in range(20):
        key = f"raw{round_}"
        for program in (catalog.CYBERSECURITY, catalog.OTHER):
            enroll(program, [key])
        enrollments = list(ProgramEnrollment.objects.filter(external_user_key=key))

        def insert(enrollment):
            with transaction.atomic():
                ProgramCourseEnrollment.objects.bulk_create(
                    [
                        ProgramCourseEnrollment(
                            program_enrollment=enrollment, course_key=catalog.SHARED_COURSE, status="active"
                        )
                    ]
                )
            return "inserted"

        results, errors = race(*[lambda enrollment=enrollment: insert(enrollment) for enrollment in enrollments])
        assert results.count("inserted") == 1
        assert len(errors) == 1 and isinstance(errors[0], IntegrityError), errors
        assert ProgramCourseEnrollment.objects.filter(active_learner_ref=enrollments[0].learner_ref).count() == 1
