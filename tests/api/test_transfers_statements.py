"""Transfers write set-wise: every path of their statements, on every database, keeps each outcome.

The statements differ by database (arrays on PostgreSQL, lists of placeholders elsewhere, split at
SQLite's limit; rows read back where an insert returns none), so each path is driven here and its
result compared with what the transfer must leave: the rows, the course enrollments they point at,
and one history row per row written.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from program_enrollments import api
from program_enrollments.api import transfers
from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment
from tests import hosts
from tests.api.helpers import enroll, enroll_course
from tests.factories import SSOIdentityFactory, UserFactory

pytestmark = pytest.mark.django_db

COURSES_ATTRIBUTES = ("course_enrollment_id", "access_grant", "prior_mode", "prior_is_active", "course_staff")


def transfer(catalog, keys, *, source, target, **kwargs):
    report = api.transfer_program_enrollments(
        from_program_uuid=source, to_program_uuid=target, student_keys=keys, **kwargs
    )
    return {outcome.student_key: outcome.status for outcome in report.outcomes}


def cohort(catalog, size, prefix="k"):
    """``size`` learners of Cybersecurity, every other one realized, active in the two shared courses."""
    keys = [f"{prefix}-{index}" for index in range(size)]
    for key in keys[::2]:
        SSOIdentityFactory(student_key=key, user=UserFactory(username=f"user-{key}"))
    enroll(catalog.CYBERSECURITY, keys)
    for course in (catalog.SHARED_COURSE, catalog.SECOND_SHARED_COURSE):
        enroll_course(catalog.CYBERSECURITY, course, keys)
    return keys


def rows_of(program):
    """{(student key, course key): row} of a program's course enrollments."""
    return {
        (row.program_enrollment.external_user_key, str(row.course_key)): row
        for row in ProgramCourseEnrollment.objects.filter(program_enrollment__program_uuid=program).select_related(
            "program_enrollment"
        )
    }


def assert_moved(catalog, keys, *, source, target, before):
    """Every course of ``keys`` is active in ``target`` on the course enrollment it had in ``source``."""
    after_source, after_target = rows_of(source), rows_of(target)
    for (key, course), row in before.items():
        if key not in keys:
            continue
        assert after_source[(key, course)].status == "inactive"
        moved = after_target[(key, course)]
        assert moved.status == "active"
        assert [getattr(moved, name) for name in COURSES_ATTRIBUTES] == [
            getattr(row, name) for name in COURSES_ATTRIBUTES
        ]
        assert moved.learner_ref == moved.program_enrollment.learner_ref
    assert api.audit_program_enrollments().clean


def test_a_round_trip_reactivates_the_rows_left_behind_with_their_course_enrollments(catalog):
    keys = cohort(catalog, 6)
    before = rows_of(catalog.CYBERSECURITY)
    statuses = transfer(catalog, keys, source=catalog.CYBERSECURITY, target=catalog.OTHER, source_status="canceled")
    assert set(statuses.values()) == {"transferred"}
    assert_moved(catalog, keys, source=catalog.CYBERSECURITY, target=catalog.OTHER, before=before)
    ids = {key: row.id for key, row in rows_of(catalog.CYBERSECURITY).items()}

    before = rows_of(catalog.OTHER)
    statuses = transfer(catalog, keys, source=catalog.OTHER, target=catalog.CYBERSECURITY)
    assert set(statuses.values()) == {"transferred"}
    assert_moved(catalog, keys, source=catalog.OTHER, target=catalog.CYBERSECURITY, before=before)
    # The rows left behind became active again: none was created.
    assert {key: row.id for key, row in rows_of(catalog.CYBERSECURITY).items()} == ids
    # The canceled source enrollments, now the target's, are enrolled again.
    assert set(
        ProgramEnrollment.objects.filter(program_uuid=catalog.CYBERSECURITY).values_list("status", flat=True)
    ) == {"enrolled"}


def test_an_active_target_in_another_curriculum_moves_to_the_chosen_one_and_keeps_its_status(catalog):
    program, first, second = (
        "aaaaaaaa-0000-0000-0000-00000000000a",
        "aaaaaaaa-0000-0000-0000-00000000000b",
        "aaaaaaaa-0000-0000-0000-00000000000c",
    )
    hosts.add_programs(
        [
            catalog.program_document(
                program,
                title="Two curricula",
                organization_key="GTx",
                curricula=[
                    catalog.curriculum_document(first, [catalog.SHARED_COURSE]),
                    catalog.curriculum_document(second, [catalog.SHARED_COURSE]),
                ],
            )
        ]
    )
    enroll(catalog.CYBERSECURITY, ["p-1"])
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["p-1"])
    api.write_program_enrollments(
        program_uuid=program,
        requests=[{"student_key": "p-1", "status": "pending", "curriculum_uuid": first}],
        create=True,
        update=True,
    )

    statuses = transfer(catalog, ["p-1"], source=catalog.CYBERSECURITY, target=program, to_curriculum_uuid=second)

    assert statuses == {"p-1": "transferred"}
    target = ProgramEnrollment.objects.get(program_uuid=program)
    assert (str(target.curriculum_uuid), target.status) == (second, "pending")
    assert target.history.latest().history_type == "~"


def test_each_row_written_gets_one_history_row_with_its_values_author_and_reason(catalog):
    keys = cohort(catalog, 4)
    actor = UserFactory(username="support")
    pe_history, pce_history = ProgramEnrollment.history.count(), ProgramCourseEnrollment.history.count()

    transfer(
        catalog,
        keys,
        source=catalog.CYBERSECURITY,
        target=catalog.OTHER,
        source_status="canceled",
        actor=actor,
        reason="Cohort moved to Other",
    )

    # Written: 4 source and 4 new target program enrollments; 8 source rows left, 8 target rows created.
    assert ProgramEnrollment.history.count() - pe_history == 8
    assert ProgramCourseEnrollment.history.count() - pce_history == 16
    for model, fields in (
        (ProgramEnrollment, ("user_id", "external_user_key", "program_uuid", "curriculum_uuid", "status", "modified")),
        (ProgramCourseEnrollment, ("program_enrollment_id", "course_key", "status", *COURSES_ATTRIBUTES, "modified")),
    ):
        entries = list(model.history.filter(history_change_reason="Cohort moved to Other"))
        assert len({entry.id for entry in entries}) == len(entries)
        live = model.objects.in_bulk([entry.id for entry in entries])
        for entry in entries:
            row = live[entry.id]
            assert entry.history_user == actor
            assert entry.history_date == row.modified
            program = row.program_uuid if model is ProgramEnrollment else row.program_enrollment.program_uuid
            assert entry.history_type == ("+" if program == catalog.OTHER else "~")
            assert [getattr(entry, name) for name in fields] == [getattr(row, name) for name in fields]


def test_rows_are_read_back_where_a_multi_row_insert_returns_nothing(catalog, monkeypatch):
    """MySQL returns no ids from a multi-row INSERT: the new rows are found again by their unique keys."""
    keys = cohort(catalog, 5)
    before = rows_of(catalog.CYBERSECURITY)
    features = connection.features
    monkeypatch.setattr(type(features), "can_return_rows_from_bulk_insert", False)
    if "can_return_rows_from_bulk_insert" in vars(features):  # a cached_property already read
        monkeypatch.setitem(vars(features), "can_return_rows_from_bulk_insert", False)
    history = ProgramCourseEnrollment.history.count()

    statuses = transfer(catalog, keys, source=catalog.CYBERSECURITY, target=catalog.OTHER)

    assert set(statuses.values()) == {"transferred"}
    assert_moved(catalog, keys, source=catalog.CYBERSECURITY, target=catalog.OTHER, before=before)
    assert ProgramCourseEnrollment.history.count() - history == 20
    assert ProgramEnrollment.history.filter(history_type="+", program_uuid=catalog.OTHER).count() == 5


def test_statements_are_split_at_the_database_limit_of_placeholders(catalog, monkeypatch, vendor):
    if vendor == "postgresql":
        pytest.skip("PostgreSQL takes every list as one array parameter: its statements are never split")
    keys = cohort(catalog, 12)
    before = rows_of(catalog.CYBERSECURITY)
    # 30 placeholders a statement: every list of this transfer is split in several statements.
    monkeypatch.setattr(connection.features, "max_query_params", 30)

    statuses = transfer(catalog, keys, source=catalog.CYBERSECURITY, target=catalog.OTHER, source_status="ended")

    assert set(statuses.values()) == {"transferred"}
    assert_moved(catalog, keys, source=catalog.CYBERSECURITY, target=catalog.OTHER, before=before)
    back = transfer(catalog, keys, source=catalog.OTHER, target=catalog.CYBERSECURITY)
    assert set(back.values()) == {"transferred"}
    assert {row.status for row in rows_of(catalog.CYBERSECURITY).values()} == {"active"}


def test_a_learner_whose_write_fails_is_an_internal_error_and_the_others_move(catalog, monkeypatch):
    keys = cohort(catalog, 4)
    apply_moves = transfers._apply_moves

    def failing_for_k2(sql, plan, accepted, rows, now):
        if any(move.key == "k-2" for move in accepted):
            raise RuntimeError("the database went away for k-2")
        return apply_moves(sql, plan, accepted, rows, now)

    monkeypatch.setattr(transfers, "_apply_moves", failing_for_k2)
    before = rows_of(catalog.CYBERSECURITY)

    statuses = transfer(catalog, keys, source=catalog.CYBERSECURITY, target=catalog.OTHER)

    assert statuses == {"k-0": "transferred", "k-1": "transferred", "k-2": "internal-error", "k-3": "transferred"}
    assert_moved(catalog, ["k-0", "k-1", "k-3"], source=catalog.CYBERSECURITY, target=catalog.OTHER, before=before)
    assert {row.status for (key, _), row in rows_of(catalog.CYBERSECURITY).items() if key == "k-2"} == {"active"}
    assert not ProgramEnrollment.objects.filter(program_uuid=catalog.OTHER, external_user_key="k-2").exists()


def test_keys_given_in_another_case_and_width_move_their_learners(catalog):
    enroll(catalog.CYBERSECURITY, ["Ab-1", "straße-2"])
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["Ab-1", "straße-2"])

    statuses = transfer(catalog, ["aB-1", "STRASSE-2"], source=catalog.CYBERSECURITY, target=catalog.OTHER)

    assert statuses == {"aB-1": "transferred", "STRASSE-2": "transferred"}
    targets = ProgramEnrollment.objects.filter(program_uuid=catalog.OTHER)
    # The target keeps the source's key as it was enrolled, folded as every write folds it.
    assert sorted(targets.values_list("external_user_key", "external_user_key_normalized")) == [
        ("Ab-1", "ab-1"),
        ("straße-2", "strasse-2"),
    ]


@pytest.mark.parametrize("direction", ["there", "there and back"])
def test_query_count_does_not_grow_with_the_chunk(catalog, direction):
    """One chunk of 2, 10 or 60 learners costs the same statements (half realized, half waiting)."""
    counts = {}
    for size in (2, 10, 60):
        keys = cohort(catalog, size, prefix=f"q{size}")
        transfer_there = dict(source=catalog.CYBERSECURITY, target=catalog.OTHER, source_status="canceled")
        if direction == "there and back":
            transfer(catalog, keys, **transfer_there)
            transfer_there = dict(source=catalog.OTHER, target=catalog.CYBERSECURITY, source_status="canceled")
        with CaptureQueriesContext(connection) as queries:
            statuses = transfer(catalog, keys, **transfer_there)
        assert set(statuses.values()) == {"transferred"}
        counts[size] = len(queries)
    assert counts[2] == counts[10] == counts[60], counts
