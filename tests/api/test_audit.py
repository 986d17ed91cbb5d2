"""The integrity audit: each kind of drift is found exactly, repaired when it can be, and found set-wise."""

import importlib
from contextlib import contextmanager
from datetime import timedelta
from io import StringIO
from unittest import mock

import pytest
from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from program_enrollments import api
from program_enrollments.api.audit import REPAIR_REASON_PREFIX, AuditKind
from program_enrollments.exceptions import InvalidRequest
from program_enrollments.identity import user_ref
from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment
from tests import hosts
from tests.api.helpers import enroll, enroll_course
from tests.factories import CourseEnrollmentFactory, SSOIdentityFactory, UserFactory

# Transactional: drifting an identity behind the app's back lifts a trigger for a moment, and on
# MySQL/MariaDB that DDL commits whatever transaction is open.
pytestmark = pytest.mark.django_db(transaction=True)

CourseEnrollment = hosts.course_enrollment_model()

PCE_TABLE = ProgramCourseEnrollment._meta.db_table


_grants_migration = importlib.import_module("program_enrollments.migrations.0015_course_access_grants")


@contextmanager
def _without_course_enrollment_check():
    """Lift the trigger that ties a row's course enrollment to its learner, as a restored dump could."""
    with connection.schema_editor(atomic=False) as editor:
        for statement in _grants_migration.DROP[connection.vendor]:
            editor.execute(statement)
    try:
        yield
    finally:
        columns = _grants_migration._course_enrollment_columns(django_apps)
        with connection.schema_editor(atomic=False) as editor:
            for statement in _grants_migration._statements(connection.vendor, *columns):
                editor.execute(statement)


def _set_learner_ref(row_id, ref):
    """Change a copy of the learner identity behind the app's back, as raw SQL could."""
    with _without_course_enrollment_check(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {connection.ops.quote_name(PCE_TABLE)} SET learner_ref = %s WHERE id = %s",
            [ref, row_id],
        )


def _row(program, student_key, course):
    return ProgramCourseEnrollment.objects.get(
        program_enrollment__program_uuid=program,
        program_enrollment__external_user_key=student_key,
        course_key=course,
    )


def _kinds(report):
    return sorted(
        (finding.kind, finding.program_course_enrollment_ids, finding.repaired) for finding in report.findings
    )


def _latest_history(row):
    return ProgramCourseEnrollment.history.filter(id=row.id).order_by("-history_date", "-history_id").first()


@pytest.fixture
def realized(catalog):
    """Realized learners r1..r3 of Cybersecurity, active in the shared course (masters course enrollments)."""
    keys = ["r1", "r2", "r3"]
    users = {key: SSOIdentityFactory(student_key=key, user=UserFactory(username=f"user-{key}")).user for key in keys}
    enroll(catalog.CYBERSECURITY, keys)
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, keys)
    return users


@pytest.fixture
def waiting(catalog):
    """Waiting learners w1, w2 of Cybersecurity: w1 active in the shared course, w2 inactive."""
    enroll(catalog.CYBERSECURITY, ["w1", "w2"])
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["w1"])
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["w2"], status="inactive")
    return ["w1", "w2"]


# --- a clean database ---------------------------------------------------------------------------


def test_clean_database_gives_an_empty_report(catalog, realized, waiting):
    # Legitimate states: released learners, a paid enrollment kept, the same learner in two programs.
    enroll(catalog.OTHER, ["r1"])
    enroll_course(catalog.OTHER, catalog.SHARED_COURSE, ["r1"], status="inactive")
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["r2"], status="inactive")
    CourseEnrollmentFactory(user=realized["r3"], course_id=catalog.LONE_COURSE, mode="verified")
    CourseEnrollmentFactory(user=realized["r3"], course_id=catalog.ANALYTICS_COURSE, mode="masters", is_active=False)

    report = api.audit_program_enrollments(waiting_older_than_days=30)

    assert report.clean
    assert report.unresolved == ()
    assert report.summary() == {kind: (0, 0) for kind in AuditKind.ALL}


def test_audit_without_fix_writes_nothing(catalog, realized):
    CourseEnrollment.objects.filter(user=realized["r1"]).update(is_active=False)
    CourseEnrollmentFactory(user=realized["r2"], course_id=catalog.LONE_COURSE, mode="masters")
    before = list(CourseEnrollment.objects.order_by("id").values_list("id", "is_active", "mode"))
    history = ProgramCourseEnrollment.history.count()

    report = api.audit_program_enrollments()

    assert len(report.unresolved) == 2
    assert list(CourseEnrollment.objects.order_by("id").values_list("id", "is_active", "mode")) == before
    assert ProgramCourseEnrollment.history.count() == history


# --- rule violations and identity drift ---------------------------------------------------------


def test_identity_drift_is_found_and_rewritten(catalog, realized, waiting):
    active = _row(catalog.CYBERSECURITY, "r1", catalog.SHARED_COURSE)
    inactive = _row(catalog.CYBERSECURITY, "w2", catalog.SHARED_COURSE)
    _set_learner_ref(active.id, "user:999999")
    _set_learner_ref(inactive.id, "key:not-the-right-one")

    report = api.audit_program_enrollments()
    assert _kinds(report) == [
        (AuditKind.IDENTITY_DRIFT, (active.id,), False),
        (AuditKind.IDENTITY_DRIFT, (inactive.id,), False),
    ]
    finding = report.findings[0]
    assert (finding.student_key, finding.user_id, finding.course_key) == (
        "r1",
        realized["r1"].id,
        catalog.SHARED_COURSE,
    )
    assert finding.program_enrollment_ids == (active.program_enrollment_id,)
    assert "'user:999999'" in finding.detail

    actor = UserFactory(username="auditor")
    fixed = api.audit_program_enrollments(fix=True, actor=actor)

    assert _kinds(fixed) == [
        (AuditKind.IDENTITY_DRIFT, (active.id,), True),
        (AuditKind.IDENTITY_DRIFT, (inactive.id,), True),
    ]
    active.refresh_from_db()
    inactive.refresh_from_db()
    assert active.learner_ref == active.active_learner_ref == user_ref(realized["r1"].id)
    assert inactive.learner_ref == inactive.program_enrollment.learner_ref
    assert inactive.active_learner_ref is None
    history = _latest_history(active)
    assert history.history_change_reason.startswith(REPAIR_REASON_PREFIX)
    assert "'user:999999'" in history.history_change_reason
    assert history.history_user == actor
    assert api.audit_program_enrollments().clean


def test_drift_hiding_a_second_active_row_is_a_rule_violation_and_not_rewritten(catalog, realized):
    held = _row(catalog.CYBERSECURITY, "r1", catalog.SHARED_COURSE)
    enroll(catalog.OTHER, ["r1"])
    enroll_course(catalog.OTHER, catalog.SHARED_COURSE, ["r1"], status="inactive")
    hidden = _row(catalog.OTHER, "r1", catalog.SHARED_COURSE)
    # With its identity changed, the unique index no longer sees the second active row.
    _set_learner_ref(hidden.id, "user:999999")
    ProgramCourseEnrollment.objects.filter(id=hidden.id).update(status="active")

    for fix in (False, True):
        report = api.audit_program_enrollments(fix=fix)
        assert _kinds(report) == [
            (AuditKind.IDENTITY_DRIFT, (hidden.id,), False),
            (AuditKind.RULE_VIOLATION, (held.id, hidden.id), False),
        ]
        violation = report.of_kind(AuditKind.RULE_VIOLATION)[0]
        assert violation.user_id == realized["r1"].id
        assert violation.course_key == catalog.SHARED_COURSE
        assert set(violation.program_enrollment_ids) == {held.program_enrollment_id, hidden.program_enrollment_id}
        drift = report.of_kind(AuditKind.IDENTITY_DRIFT)[0]
        assert f"program course enrollment {held.id}" in drift.detail
        assert len(report.unresolved) == 2

    hidden.refresh_from_db()
    assert hidden.learner_ref == "user:999999"


def test_drifted_rows_moving_into_one_slot_are_rewritten_one_at_most(catalog, realized):
    enroll(catalog.OTHER, ["r1"])
    enroll_course(catalog.OTHER, catalog.SHARED_COURSE, ["r1"], status="inactive")
    first = _row(catalog.CYBERSECURITY, "r1", catalog.SHARED_COURSE)
    second = _row(catalog.OTHER, "r1", catalog.SHARED_COURSE)
    _set_learner_ref(first.id, "user:999998")
    _set_learner_ref(second.id, "user:999999")
    ProgramCourseEnrollment.objects.filter(id=second.id).update(status="active")

    report = api.audit_program_enrollments(fix=True)

    assert _kinds(report) == [
        (AuditKind.IDENTITY_DRIFT, (first.id,), True),
        (AuditKind.IDENTITY_DRIFT, (second.id,), False),
        (AuditKind.RULE_VIOLATION, (first.id, second.id), False),
    ]
    first.refresh_from_db()
    assert first.active_learner_ref == user_ref(realized["r1"].id)


# --- course enrollments -------------------------------------------------------------------------


def test_inactive_and_missing_course_enrollments_are_found_and_enrolled_again(catalog, realized, waiting):
    rows = {key: _row(catalog.CYBERSECURITY, key, catalog.SHARED_COURSE) for key in ("r1", "r2", "r3")}
    CourseEnrollment.objects.filter(user=realized["r1"]).update(is_active=False)
    CourseEnrollment.objects.filter(user=realized["r2"]).delete()  # the row's pointer becomes NULL
    # A waiting learner's active row has no course enrollment, legitimately.

    report = api.audit_program_enrollments()

    assert _kinds(report) == [
        (AuditKind.MISSING_COURSE_ENROLLMENT, (rows["r1"].id,), False),
        (AuditKind.MISSING_COURSE_ENROLLMENT, (rows["r2"].id,), False),
    ]
    inactive, missing = sorted(report.findings, key=lambda finding: finding.program_course_enrollment_ids)
    assert (inactive.student_key, inactive.user_id, inactive.course_key) == (
        "r1",
        realized["r1"].id,
        catalog.SHARED_COURSE,
    )
    assert inactive.course_enrollment_id == rows["r1"].course_enrollment_id
    assert "inactive" in inactive.detail
    assert missing.course_enrollment_id is None
    assert "no course enrollment" in missing.detail

    fixed = api.audit_program_enrollments(fix=True)

    assert [finding.repaired for finding in fixed.findings] == [True, True]
    for key in ("r1", "r2"):
        enrollment = CourseEnrollment.objects.get(user=realized[key], course_id=catalog.SHARED_COURSE)
        assert (enrollment.mode, enrollment.is_active) == ("masters", True)
        rows[key].refresh_from_db()
        assert rows[key].course_enrollment_id == enrollment.id
        assert _latest_history(rows[key]).history_change_reason.startswith(REPAIR_REASON_PREFIX)
    assert api.audit_program_enrollments().clean


def test_row_pointing_at_another_course_enrollment_is_pointed_back(catalog, realized):
    row = _row(catalog.CYBERSECURITY, "r1", catalog.SHARED_COURSE)
    own = row.course_enrollment_id
    other = CourseEnrollment.objects.get(user=realized["r2"]).id
    with _without_course_enrollment_check():
        ProgramCourseEnrollment.objects.filter(id=row.id).update(course_enrollment_id=other)

    report = api.audit_program_enrollments()
    assert _kinds(report) == [(AuditKind.MISSING_COURSE_ENROLLMENT, (row.id,), False)]
    assert f"points at course enrollment {other} instead of the learner's {own}" in report.findings[0].detail

    api.audit_program_enrollments(fix=True)
    row.refresh_from_db()
    assert row.course_enrollment_id == own
    assert api.audit_program_enrollments().clean


def test_a_waiting_learners_active_row_holding_a_course_enrollment_is_reported_and_never_cut_off(catalog, realized):
    """The state a transfer into a waiting enrollment once made: one course enrollment behind two people's rows."""
    enroll(catalog.OTHER, ["w-9"])
    enroll_course(catalog.OTHER, catalog.SHARED_COURSE, ["w-9"])
    waiting_row = _row(catalog.OTHER, "w-9", catalog.SHARED_COURSE)
    owners = _row(catalog.CYBERSECURITY, "r1", catalog.SHARED_COURSE)
    ProgramCourseEnrollment.objects.filter(id=owners.id).update(status="inactive")
    with _without_course_enrollment_check():
        ProgramCourseEnrollment.objects.filter(id=waiting_row.id).update(
            course_enrollment_id=owners.course_enrollment_id
        )

    for fix in (False, True):
        report = api.audit_program_enrollments(fix=fix)
        assert _kinds(report) == [(AuditKind.FOREIGN_COURSE_ENROLLMENT, (waiting_row.id,), False)]
        finding = report.of_kind(AuditKind.FOREIGN_COURSE_ENROLLMENT)[-1]
        assert "waiting learner" in finding.detail and "left to its user" in finding.detail
        # The course enrollment stays active: someone may be learning through it.
        assert CourseEnrollment.objects.get(id=owners.course_enrollment_id).is_active
        assert not report.of_kind(AuditKind.UNBACKED_COURSE_ENROLLMENT)


def test_an_inactive_row_pointing_at_another_users_course_enrollment_is_cleared(catalog, realized):
    row = _row(catalog.CYBERSECURITY, "r1", catalog.SHARED_COURSE)
    ProgramCourseEnrollment.objects.filter(id=row.id).update(status="inactive")
    CourseEnrollment.objects.filter(id=row.course_enrollment_id).update(is_active=False)
    others = CourseEnrollment.objects.get(user=realized["r2"], course_id=catalog.SHARED_COURSE)
    with _without_course_enrollment_check():
        ProgramCourseEnrollment.objects.filter(id=row.id).update(course_enrollment_id=others.id)

    report = api.audit_program_enrollments()
    assert _kinds(report) == [(AuditKind.FOREIGN_COURSE_ENROLLMENT, (row.id,), False)]
    assert f"course enrollment {others.id} of user {realized['r2'].id}" in report.findings[0].detail
    fixed = api.audit_program_enrollments(fix=True)
    assert _kinds(fixed) == [(AuditKind.FOREIGN_COURSE_ENROLLMENT, (row.id,), True)]
    row.refresh_from_db()
    assert row.course_enrollment_id is None
    assert CourseEnrollment.objects.get(id=others.id).is_active  # left as it was
    assert api.audit_program_enrollments().clean


def test_a_refused_repair_is_rolled_back_and_reported_unrepaired(catalog, realized):
    CourseEnrollment.objects.filter(user__in=[realized["r1"], realized["r2"]]).delete()
    drifted = _row(catalog.CYBERSECURITY, "r3", catalog.SHARED_COURSE)
    _set_learner_ref(drifted.id, "user:999999")

    backend, refused = hosts.lms_backend_class(), IntegrityError("refused")
    with (
        mock.patch.object(backend, "enroll", side_effect=refused),
        mock.patch.object(backend, "enroll_from", side_effect=refused),
    ):
        report = api.audit_program_enrollments(fix=True)

    assert [(f.kind, f.repaired) for f in report.findings] == [
        (AuditKind.IDENTITY_DRIFT, True),
        (AuditKind.MISSING_COURSE_ENROLLMENT, False),
        (AuditKind.MISSING_COURSE_ENROLLMENT, False),
    ]
    assert not CourseEnrollment.objects.filter(user__in=[realized["r1"], realized["r2"]]).exists()
    assert not ProgramCourseEnrollment.history.filter(history_change_reason__contains="no course enrollment").exists()
    assert len(api.audit_program_enrollments().unresolved) == 2


def test_inactive_program_course_enrollment_needs_no_course_enrollment(catalog, realized):
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["r1"], status="inactive")
    CourseEnrollment.objects.filter(user=realized["r1"]).delete()
    assert api.audit_program_enrollments().clean


def test_unbacked_masters_enrollments_are_found_and_deactivated(catalog, realized):
    lone = CourseEnrollmentFactory(user=realized["r1"], course_id=catalog.LONE_COURSE, mode="masters")
    # r2 was released from the course, but the release never reached the LMS.
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["r2"], status="inactive")
    CourseEnrollment.objects.filter(user=realized["r2"]).update(is_active=True)
    released = CourseEnrollment.objects.get(user=realized["r2"])
    # Not findings: a paid mode, an inactive masters enrollment, a masters enrollment backed by a program.
    CourseEnrollmentFactory(user=realized["r1"], course_id=catalog.ANALYTICS_COURSE, mode="verified")
    CourseEnrollmentFactory(user=realized["r2"], course_id=catalog.ANALYTICS_COURSE, mode="masters", is_active=False)

    report = api.audit_program_enrollments()

    assert sorted((f.kind, f.course_enrollment_id, f.user_id, f.course_key) for f in report.findings) == sorted(
        [
            (AuditKind.UNBACKED_COURSE_ENROLLMENT, lone.id, realized["r1"].id, catalog.LONE_COURSE),
            (AuditKind.UNBACKED_COURSE_ENROLLMENT, released.id, realized["r2"].id, catalog.SHARED_COURSE),
        ]
    )

    fixed = api.audit_program_enrollments(fix=True)

    assert [finding.repaired for finding in fixed.findings] == [True, True]
    assert set(CourseEnrollment.objects.filter(is_active=False).values_list("id", flat=True)) >= {lone.id, released.id}
    assert CourseEnrollment.objects.get(user=realized["r3"], course_id=catalog.SHARED_COURSE).is_active
    assert CourseEnrollment.objects.get(user=realized["r1"], course_id=catalog.ANALYTICS_COURSE).is_active
    assert api.audit_program_enrollments().clean


def test_masters_enrollment_backed_by_a_drifted_row_is_kept(catalog, realized):
    row = _row(catalog.CYBERSECURITY, "r1", catalog.SHARED_COURSE)
    _set_learner_ref(row.id, "user:999999")

    report = api.audit_program_enrollments()

    assert _kinds(report) == [(AuditKind.IDENTITY_DRIFT, (row.id,), False)]
    assert CourseEnrollment.objects.get(user=realized["r1"]).is_active


# --- waiting learners ---------------------------------------------------------------------------


def test_old_waiting_enrollments_are_reported_for_information(catalog, waiting, realized):
    old = ProgramEnrollment.objects.get(external_user_key="w1")
    ProgramEnrollment.objects.filter(id=old.id).update(created=timezone.now() - timedelta(days=40))
    # A realized learner is never waiting, however old.
    ProgramEnrollment.objects.filter(user__isnull=False).update(created=timezone.now() - timedelta(days=400))

    report = api.audit_program_enrollments(waiting_older_than_days=30)

    assert [(f.kind, f.program_enrollment_ids, f.student_key) for f in report.findings] == [
        (AuditKind.WAITING_TOO_LONG, (old.id,), "w1")
    ]
    assert "40 days" in report.findings[0].detail
    assert report.unresolved == ()
    assert api.audit_program_enrollments(waiting_older_than_days=50).clean
    unchecked = api.audit_program_enrollments()
    assert unchecked.clean
    assert AuditKind.WAITING_TOO_LONG not in unchecked.summary()


@pytest.mark.parametrize(
    "arguments",
    [{"waiting_older_than_days": -1}, {"waiting_older_than_days": "3"}, {"chunk_size": 0}, {"chunk_size": True}],
)
def test_malformed_arguments_are_invalid(db, arguments):
    with pytest.raises(InvalidRequest):
        api.audit_program_enrollments(**arguments)


# --- chunks and query counts --------------------------------------------------------------------


def _drift_everything(catalog, size, prefix):
    """``size`` realized learners with one of each repairable problem, and as many old waiting learners."""
    User = get_user_model()
    keys = [f"{prefix}-{index}" for index in range(size)]
    users = User.objects.bulk_create(User(username=f"u-{key}") for key in keys)
    hosts.add_sso_identities("GTx", dict(zip(keys, users, strict=True)))
    enroll(catalog.CYBERSECURITY, keys)
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, keys)
    enroll_course(catalog.CYBERSECURITY, catalog.SECOND_SHARED_COURSE, keys, status="inactive")
    CourseEnrollment.objects.filter(user__in=users, course_id=catalog.SHARED_COURSE).update(is_active=False)
    CourseEnrollment.objects.bulk_create(
        CourseEnrollment(user=user, course_id=catalog.LONE_COURSE, mode="masters", is_active=True) for user in users
    )
    with _without_course_enrollment_check(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {connection.ops.quote_name(PCE_TABLE)} SET learner_ref = 'key:drifted' "
            "WHERE course_key = %s AND learner_ref IN (" + ", ".join(["%s"] * size) + ")",
            [catalog.SECOND_SHARED_COURSE, *(user_ref(user.id) for user in users)],
        )
    waiting_keys = [f"{prefix}-waiting-{index}" for index in range(size)]
    enroll(catalog.ANALYTICS, waiting_keys)
    ProgramEnrollment.objects.filter(external_user_key__in=waiting_keys).update(
        created=timezone.now() - timedelta(days=40)
    )
    return users


def _counted(**kwargs):
    with CaptureQueriesContext(connection) as queries:
        report = api.audit_program_enrollments(waiting_older_than_days=30, **kwargs)
    return len(queries), report


def test_audit_query_count_does_not_grow_with_learners(catalog):
    from tests.api.test_query_counts import assert_query_counts

    # In the Open edX host, repairs re-enroll and deactivate course enrollments one learner at a time
    # (see tests/api/test_query_counts.py): three sizes show that each learner costs the same.
    sizes = (10, 200) if hosts.is_standalone() else (10, 50, 200)
    counts = {}
    for size in sizes:
        _drift_everything(catalog, size, f"q{size}")
        audit_queries, report = _counted()
        assert report.summary() == {
            AuditKind.RULE_VIOLATION: (0, 0),
            AuditKind.STALE_IDENTITY: (0, 0),
            AuditKind.IDENTITY_DRIFT: (size, 0),
            AuditKind.FOREIGN_COURSE_ENROLLMENT: (0, 0),
            AuditKind.MISSING_COURSE_ENROLLMENT: (size, 0),
            AuditKind.UNBACKED_COURSE_ENROLLMENT: (size, 0),
            # The learners of the earlier size are still waiting.
            AuditKind.WAITING_TOO_LONG: (sum(s for s in sizes if s <= size), 0),
        }
        fix_queries, fixed = _counted(fix=True)
        assert len(fixed.unresolved) == 0
        assert fixed.summary()[AuditKind.IDENTITY_DRIFT] == (size, size)
        counts[size] = {"audit": audit_queries, "fix": fix_queries}
    assert_query_counts(counts, per_learner=["fix"])


def test_small_chunks_find_and_repair_the_same(catalog):
    _drift_everything(catalog, 7, "c")
    whole = api.audit_program_enrollments(waiting_older_than_days=30)
    chunked = api.audit_program_enrollments(waiting_older_than_days=30, chunk_size=2)
    assert chunked.findings == whole.findings

    fixed = api.audit_program_enrollments(waiting_older_than_days=30, chunk_size=2, fix=True)

    assert fixed.summary() == {
        AuditKind.RULE_VIOLATION: (0, 0),
        AuditKind.STALE_IDENTITY: (0, 0),
        AuditKind.IDENTITY_DRIFT: (7, 7),
        AuditKind.FOREIGN_COURSE_ENROLLMENT: (0, 0),
        AuditKind.MISSING_COURSE_ENROLLMENT: (7, 7),
        AuditKind.UNBACKED_COURSE_ENROLLMENT: (7, 7),
        AuditKind.WAITING_TOO_LONG: (7, 0),
    }
    assert api.audit_program_enrollments(chunk_size=2).clean


# --- the management command ---------------------------------------------------------------------


def _command(*args):
    out = StringIO()
    try:
        call_command("audit_program_enrollments", *args, stdout=out)
    except CommandError as error:
        return out.getvalue(), str(error)
    return out.getvalue(), None


def test_command_on_a_clean_database_succeeds(catalog, realized):
    output, error = _command()
    assert error is None
    assert f"{AuditKind.IDENTITY_DRIFT}: 0 found, 0 repaired" in output
    assert AuditKind.WAITING_TOO_LONG not in output
    assert output.strip().endswith("No problems remain.")


def test_command_fails_while_problems_remain_and_succeeds_once_fixed(catalog, realized):
    CourseEnrollment.objects.filter(user=realized["r1"]).update(is_active=False)
    row = _row(catalog.CYBERSECURITY, "r1", catalog.SHARED_COURSE)

    output, error = _command()

    assert error == "1 problems remain unrepaired (run with --fix to repair what can be repaired)"
    lines = output.splitlines()
    assert lines[0].startswith(
        f"{AuditKind.MISSING_COURSE_ENROLLMENT} program_course_enrollment={row.id} "
        f"program_enrollment={row.program_enrollment_id} course_enrollment={row.course_enrollment_id} "
        f"student_key=r1 user={realized['r1'].id} course={catalog.SHARED_COURSE}: "
    )
    assert lines[0].endswith("[not repaired]")
    assert f"{AuditKind.MISSING_COURSE_ENROLLMENT}: 1 found, 0 repaired" in lines

    output, error = _command("--fix")

    assert error is None
    assert output.splitlines()[0].endswith("[repaired]")
    assert f"{AuditKind.MISSING_COURSE_ENROLLMENT}: 1 found, 1 repaired" in output
    assert CourseEnrollment.objects.get(user=realized["r1"]).is_active
    assert _command()[1] is None


def test_command_with_fix_still_fails_on_a_rule_violation(catalog, realized):
    enroll(catalog.OTHER, ["r1"])
    enroll_course(catalog.OTHER, catalog.SHARED_COURSE, ["r1"], status="inactive")
    hidden = _row(catalog.OTHER, "r1", catalog.SHARED_COURSE)
    _set_learner_ref(hidden.id, "user:999999")
    ProgramCourseEnrollment.objects.filter(id=hidden.id).update(status="active")

    output, error = _command("--fix")

    assert error == "2 problems remain unrepaired"
    assert f"{AuditKind.RULE_VIOLATION}: 1 found, 0 repaired" in output
    assert f"{AuditKind.IDENTITY_DRIFT}: 1 found, 0 repaired" in output


def test_command_reports_old_waiting_learners_without_failing(catalog, waiting):
    ProgramEnrollment.objects.update(created=timezone.now() - timedelta(days=10))

    output, error = _command("--waiting-older-than", "7")

    assert error is None
    assert output.count("[informational]") == 2
    assert f"{AuditKind.WAITING_TOO_LONG}: 2 found, 0 repaired" in output


@pytest.mark.parametrize("days", ["-1", "seven"])
def test_command_refuses_bad_days(db, days):
    with pytest.raises(CommandError):
        call_command("audit_program_enrollments", "--waiting-older-than", days, stdout=StringIO())


# --- identities written before the catalog knew the program -----------------------------------

LATE_PROGRAM = "c0ffee00-0000-4000-8000-000000000001"
LATE_CURRICULUM = "c0ffee00-0000-4000-8000-000000000002"


def _late_program():
    """A GTx program that reaches the catalog only after its learners were written (or adopted)."""
    return {
        "uuid": LATE_PROGRAM,
        "title": "Late program",
        "type": "Masters",
        "authoring_organizations": [{"key": "GTx", "name": "GTx"}],
        "curricula": [
            {
                "uuid": LATE_CURRICULUM,
                "name": "2020",
                "is_active": True,
                "courses": [{"key": "GTx+CS6035", "course_runs": [{"key": "course-v1:GTx+CS6035+2020_Spring"}]}],
            }
        ],
    }


def _written_before_the_catalog(student_key, course_key, status="active"):
    enrollment = ProgramEnrollment.objects.create(
        program_uuid=LATE_PROGRAM, curriculum_uuid=LATE_CURRICULUM, external_user_key=student_key, status="enrolled"
    )
    ProgramCourseEnrollment.objects.create(program_enrollment=enrollment, course_key=course_key, status=status)
    return enrollment


def test_identity_of_a_program_the_catalog_learned_later_is_found_and_rewritten(catalog):
    from program_enrollments.identity import learner_ref

    enrollment = _written_before_the_catalog("late-1", catalog.SHARED_COURSE)
    unknown = enrollment.learner_ref
    assert api.audit_program_enrollments().clean  # unknown to the catalog: nothing better to say
    hosts.add_programs([_late_program()])

    report = api.audit_program_enrollments()
    assert [(finding.kind, finding.program_enrollment_ids) for finding in report.findings] == [
        (AuditKind.STALE_IDENTITY, (enrollment.id,))
    ]
    fixed = api.audit_program_enrollments(fix=True)
    assert fixed.summary()[AuditKind.STALE_IDENTITY] == (1, 1)

    enrollment.refresh_from_db()
    expected = learner_ref(user_id=None, organization_key="GTx", student_key="late-1")
    assert enrollment.learner_ref == expected != unknown
    # The database copied the identity to the course row, so the rule now judges the right learner.
    assert set(enrollment.program_course_enrollments.values_list("learner_ref", flat=True)) == {expected}
    assert (
        ProgramEnrollment.history.filter(id=enrollment.id)
        .latest()
        .history_change_reason.startswith(REPAIR_REASON_PREFIX)
    )
    assert api.audit_program_enrollments().clean


def test_a_rewrite_that_would_make_the_learner_active_twice_is_reported_not_made(catalog):
    enroll(catalog.CYBERSECURITY, ["late-2"])
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["late-2"])
    # Under the unknown organization this was another learner, so the database let both be active.
    enrollment = _written_before_the_catalog("LATE-2", catalog.SHARED_COURSE)
    before = enrollment.learner_ref
    hosts.add_programs([_late_program()])

    fixed = api.audit_program_enrollments(fix=True)

    (finding,) = fixed.of_kind(AuditKind.STALE_IDENTITY)
    assert not finding.repaired and "already active" in finding.detail
    enrollment.refresh_from_db()
    assert enrollment.learner_ref == before
    assert [f.kind for f in fixed.unresolved] == [AuditKind.STALE_IDENTITY]
