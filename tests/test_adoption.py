"""Migration 0013 adopts the tables of Open edX's built-in app: same schema as a fresh one, nothing lost.

Each test drops the app's tables (migrating it to zero), creates the built-in
app's tables as its migration 0012 leaves them, fills them with what the
built-in app allowed (including what this app's rules forbid), then migrates
forward and checks the result. The harness LMS (tests/openedx) replays the
built-in migrations themselves; this runs the same conversion on the
standalone host, on every database of the suite.
"""

from __future__ import annotations

import importlib
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from program_enrollments import api
from program_enrollments.models import (
    AdoptionRecord,
    CourseAccessRoleAssignment,
    ProgramCourseEnrollment,
    ProgramEnrollment,
)
from tests import catalog

pytestmark = pytest.mark.django_db(transaction=True)

MIGRATION = ("program_enrollments", "0013_create_or_adopt")
adoption = importlib.import_module("program_enrollments.migrations.0013_create_or_adopt")
BUILTIN_TABLES = importlib.import_module("program_enrollments.migrations._adoption").BUILTIN_TABLES
UNKNOWN_PROGRAM = "0b4f0c7e-0000-4000-8000-00000000dead"
# The adopted tables are compared with fresh ones at the app's latest migration.
LATEST = max(name for name in (path.stem for path in Path(adoption.__file__).parent.glob("0*.py")))


def _schema():
    """Columns and constraints (names aside) of the app's tables, as the database reports them."""
    result = {}
    with connection.cursor() as cursor:
        for table in sorted(BUILTIN_TABLES):
            columns = sorted(_columns(cursor, table))
            result[table] = {"columns": columns, "constraints": sorted(_constraints(cursor, table))}
    return result


def _differences(adopted, fresh):
    """What the adopted tables have that fresh ones lack (+) and the reverse (-)."""
    lines = []
    for table in sorted(fresh):
        for part in ("columns", "constraints"):
            mine, theirs = set(adopted[table][part]), set(fresh[table][part])
            lines += [f"+ {table} {part} {item}" for item in sorted(mine - theirs, key=repr)]
            lines += [f"- {table} {part} {item}" for item in sorted(theirs - mine, key=repr)]
    return lines


def _constraints(cursor, table):
    if connection.vendor == "sqlite":
        # As for columns; the table's SQL gives the CHECK clauses, column order aside.
        quoted = connection.ops.quote_name(table)
        indexes = []
        for _seq, name, unique, origin, _partial in cursor.execute(f"PRAGMA index_list({quoted})").fetchall():
            info = cursor.execute(f"PRAGMA index_info({connection.ops.quote_name(name)})").fetchall()
            indexes.append(("index", tuple(row[2] for row in info), bool(unique), origin))
        keys = cursor.execute(f"PRAGMA foreign_key_list({quoted})").fetchall()
        indexes.extend(("foreign key", (row[3],), row[2], row[4]) for row in keys)
        sql = cursor.execute("SELECT sql FROM sqlite_master WHERE name = %s", [table]).fetchone()[0]
        indexes.extend(
            ("check", (clause,), False, "") for clause in sorted(re.findall(r"CHECK \((.*?)\)(?:,|\)$)", sql))
        )
        return indexes
    # Names aside: MySQL reports a foreign key and the index it uses as one entry when they share a
    # name (Django lets MySQL create the index of a new foreign key), as two otherwise.
    result = []
    for info in connection.introspection.get_constraints(cursor, table).values():
        columns = tuple(info["columns"] or ())
        if info["foreign_key"]:
            result.append(("foreign key", columns, tuple(info["foreign_key"])))
        if info["index"] or info["unique"] or info["primary_key"]:
            result.append(("index", columns, bool(info["unique"]), bool(info["primary_key"])))
        if info["check"]:
            result.append(("check", columns))
    return result


def _columns(cursor, table):
    if connection.vendor == "sqlite":
        # Django's SQLite introspection cannot parse tables with CHECK constraints for collations;
        # SQLite's own description (generated columns included) says the same and more.
        cursor.execute(f"PRAGMA table_xinfo({connection.ops.quote_name(table)})")
        return [
            (name, not notnull, kind.lower(), hidden) for _cid, name, kind, notnull, _default, _pk, hidden in cursor
        ]
    return [
        (column.name, bool(column.null_ok), str(column.type_code), getattr(column, "collation", None))
        for column in connection.introspection.get_table_description(cursor, table)
    ]


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.migrate([("program_enrollments", target)])


def _builtin_apps():
    """Drop the app's tables and create the built-in app's, as its migration 0012 leaves them."""
    _migrate(None)
    executor = MigrationExecutor(connection)
    state = executor.loader.project_state(MIGRATION, at_end=False)
    with connection.schema_editor() as editor:
        for operation in adoption.BUILTIN:
            new_state = state.clone()
            operation.state_forwards("program_enrollments", new_state)
            operation.database_forwards("program_enrollments", editor, state, new_state)
            state = new_state
    return state.apps


class BuiltinData:
    """Rows in the built-in tables, written the way the built-in app's models would."""

    def __init__(self, apps):
        self.PE = apps.get_model("program_enrollments", "ProgramEnrollment")
        self.PCE = apps.get_model("program_enrollments", "ProgramCourseEnrollment")
        self.CARA = apps.get_model("program_enrollments", "CourseAccessRoleAssignment")
        self.HPE = apps.get_model("program_enrollments", "HistoricalProgramEnrollment")
        self.HPCE = apps.get_model("program_enrollments", "HistoricalProgramCourseEnrollment")
        self.CE = apps.get_model("lms", "CourseEnrollment")
        self.now = timezone.now()

    def user(self, name):
        return get_user_model().objects.create(username=name, email=f"{name}@example.com")

    def pe(self, program, key=None, user=None, status="enrolled", curriculum=None, days_ago=10):
        when = self.now - timedelta(days=days_ago)
        row = self.PE.objects.create(
            program_uuid=program,
            curriculum_uuid=curriculum or catalog.CURRICULUM_OF.get(program, catalog.CYBERSECURITY_CURRICULUM),
            external_user_key=key,
            user_id=user.id if user else None,
            status=status,
        )
        self.PE.objects.filter(id=row.id).update(created=when, modified=when)
        self.HPE.objects.create(
            id=row.id,
            created=when,
            modified=when,
            external_user_key=key,
            program_uuid=program,
            curriculum_uuid=row.curriculum_uuid,
            status=status,
            user_id=row.user_id,
            history_date=when,
            history_type="+",
        )
        row.refresh_from_db()
        return row

    def pce(self, pe, course, status="active", course_enrollment=None, activated_days_ago=5):
        when = self.now - timedelta(days=activated_days_ago)
        row = self.PCE.objects.create(
            program_enrollment_id=pe.id,
            course_key=course,
            status=status,
            course_enrollment_id=course_enrollment.id if course_enrollment else None,
        )
        self.PCE.objects.filter(id=row.id).update(created=when, modified=when)
        self.HPCE.objects.create(
            id=row.id,
            created=when,
            modified=when,
            course_key=course,
            status=status,
            program_enrollment_id=pe.id,
            course_enrollment_id=row.course_enrollment_id,
            history_date=when,
            history_type="+",
        )
        return row

    def ce(self, user, course, mode="masters"):
        return self.CE.objects.create(user_id=user.id, course_id=course, mode=mode, is_active=True)

    def counts(self):
        return {
            "pe": self.PE.objects.count(),
            "pce": self.PCE.objects.count(),
            "cara": self.CARA.objects.count(),
            "hpe": set(self.HPE.objects.values_list("history_id", flat=True)),
            "hpce": set(self.HPCE.objects.values_list("history_id", flat=True)),
            "pe_ids": set(self.PE.objects.values_list("id", flat=True)),
            "pce_ids": set(self.PCE.objects.values_list("id", flat=True)),
            "cara_ids": set(self.CARA.objects.values_list("id", flat=True)),
        }


@pytest.fixture(autouse=True)
def _latest_schema_afterwards():
    """Leave the database at the app's latest migration, as the other tests expect it."""
    yield
    _migrate(LATEST)


@pytest.fixture
def adopted_schema_check():
    """The schema of the app's tables as a fresh database has them (the test database's)."""
    return _schema()


def test_clean_builtin_data_is_adopted_with_the_schema_of_a_fresh_database(catalog, adopted_schema_check):
    data = BuiltinData(_builtin_apps())
    alice = data.user("alice")
    realized = data.pe(catalog.CYBERSECURITY, key="GT-1", user=alice)
    course_enrollment = data.ce(alice, catalog.SHARED_COURSE)
    data.pce(realized, catalog.SHARED_COURSE, course_enrollment=course_enrollment)
    waiting = data.pe(catalog.OTHER, key="GT-2")
    staff_row = data.pce(waiting, catalog.ANALYTICS_COURSE)
    data.CARA.objects.create(role="staff", enrollment_id=staff_row.id)
    before = data.counts()

    _migrate(LATEST)

    assert _differences(_schema(), adopted_schema_check) == []
    assert set(ProgramEnrollment.objects.values_list("id", flat=True)) == before["pe_ids"]
    assert set(ProgramCourseEnrollment.objects.values_list("id", flat=True)) == before["pce_ids"]
    assert set(CourseAccessRoleAssignment.objects.values_list("id", flat=True)) == before["cara_ids"]
    assert before["hpe"] <= set(ProgramEnrollment.history.values_list("history_id", flat=True))
    linked = ProgramEnrollment.objects.get(id=realized.id)
    assert linked.learner_ref == f"user:{alice.id}"
    assert linked.external_user_key_normalized == "gt-1"
    assert ProgramCourseEnrollment.objects.get(id=staff_row.id).course_staff is True
    assert set(AdoptionRecord.objects.values_list("action", flat=True)) == {"adopted"}
    assert api.audit_program_enrollments().clean
    # The adopted tables hold the rule like fresh ones: a second active program is refused.
    result = api.write_program_course_enrollments(
        program_uuid=catalog.OTHER,
        course_key=catalog.SHARED_COURSE,
        requests=[{"student_key": "GT-1", "status": "active"}],
        create=True,
        update=True,
    )
    assert result == {"GT-1": "not-in-program"}
    api.write_program_enrollments(
        program_uuid=catalog.OTHER,
        requests=[{"student_key": "GT-1", "status": "enrolled", "curriculum_uuid": catalog.OTHER_CURRICULUM}],
        create=True,
        update=False,
    )
    from program_enrollments.standalone.lms.models import SSOIdentity

    SSOIdentity.objects.create(user=alice, organization_key="GTx", student_key="GT-1")
    result = api.write_program_course_enrollments(
        program_uuid=catalog.OTHER,
        course_key=catalog.SHARED_COURSE,
        requests=[{"student_key": "GT-1", "status": "active"}],
        create=True,
        update=True,
    )
    assert result == {"GT-1": "conflicted"}


def test_what_the_rules_forbid_is_resolved_reported_and_nothing_is_lost(catalog, adopted_schema_check):
    data = BuiltinData(_builtin_apps())
    bob, carol, dave, erin = (data.user(name) for name in ("bob", "carol", "dave", "erin"))

    # The same key in two curricula of one program, in two letter cases; the linked one is kept.
    kept_key = data.pe(catalog.CYBERSECURITY, key="DUP-1", user=bob, days_ago=20)
    bob_shared = data.ce(bob, catalog.SHARED_COURSE)
    kept_key_course = data.pce(kept_key, catalog.SHARED_COURSE, course_enrollment=bob_shared)
    merged_key = data.pe(catalog.CYBERSECURITY, key="dup-1", curriculum=catalog.ANALYTICS_CURRICULUM, days_ago=30)
    moved_course = data.pce(merged_key, catalog.SECOND_SHARED_COURSE)
    colliding_course = data.pce(merged_key, catalog.SHARED_COURSE, status="inactive")
    colliding_role = data.CARA.objects.create(role="staff", enrollment_id=colliding_course.id)

    # One user in two curricula of one program.
    kept_user = data.pe(catalog.ANALYTICS, key="CAROL", user=carol, days_ago=3)
    merged_user = data.pe(
        catalog.ANALYTICS,
        key="CAROL-OLD",
        user=carol,
        status="canceled",
        curriculum=catalog.OTHER_CURRICULUM,
        days_ago=40,
    )
    carol_course = data.ce(carol, catalog.ANALYTICS_COURSE)
    merged_user_course = data.pce(merged_user, catalog.ANALYTICS_COURSE, course_enrollment=carol_course)

    # One user active in one course through two programs: the one activated first stays active.
    dave_cyber = data.pe(catalog.CYBERSECURITY, key="DAVE", user=dave)
    dave_other = data.pe(catalog.OTHER, key="DAVE", user=dave)
    dave_shared = data.ce(dave, catalog.SHARED_COURSE)
    later = data.pce(dave_cyber, catalog.SHARED_COURSE, course_enrollment=dave_shared, activated_days_ago=2)
    earlier = data.pce(dave_other, catalog.SHARED_COURSE, course_enrollment=dave_shared, activated_days_ago=9)

    # One waiting learner (organization GTx, key W-9) active in one course through two programs.
    waiting_a = data.pe(catalog.CYBERSECURITY, key="W-9")
    waiting_b = data.pe(catalog.OTHER, key="w-9")
    waiting_first = data.pce(waiting_a, catalog.SHARED_COURSE, activated_days_ago=8)
    waiting_second = data.pce(waiting_b, catalog.SHARED_COURSE, activated_days_ago=1)

    # A waiting learner's course row pointing at a course enrollment (of a user who is not theirs).
    stray = data.pe(catalog.OTHER, key="STRAY")
    erin_course = data.ce(erin, catalog.ANALYTICS_COURSE, mode="audit")
    stray_course = data.pce(stray, catalog.ANALYTICS_COURSE, course_enrollment=erin_course)

    # A program enrollment with neither user nor key; a program the catalog does not know.
    nobody = data.pe(catalog.OTHER, key=None)
    nobody_course = data.pce(nobody, catalog.LONE_COURSE, status="inactive")
    data.pe(UNKNOWN_PROGRAM, key="LOST-1")
    before = data.counts()

    _migrate(LATEST)
    assert _differences(_schema(), adopted_schema_check) == []

    records = {(record.table, record.row_id): record for record in AdoptionRecord.objects.all()}
    archived = {(table, row_id) for (table, row_id), record in records.items() if record.action == "archived"}
    # Nothing lost: each row is live, or archived whole with its id; history is only added to.
    live_pe = set(ProgramEnrollment.objects.values_list("id", flat=True))
    live_pce = set(ProgramCourseEnrollment.objects.values_list("id", flat=True))
    live_cara = set(CourseAccessRoleAssignment.objects.values_list("id", flat=True))
    assert live_pe | {row for table, row in archived if table == "programenrollment"} == before["pe_ids"]
    assert live_pce | {row for table, row in archived if table == "programcourseenrollment"} == before["pce_ids"]
    assert live_cara | {row for table, row in archived if table == "courseaccessroleassignment"} == before["cara_ids"]
    assert before["hpe"] <= set(ProgramEnrollment.history.values_list("history_id", flat=True))
    assert before["hpce"] <= set(ProgramCourseEnrollment.history.values_list("history_id", flat=True))
    for table, row_id in archived:
        assert records[(table, row_id)].data["id"] == row_id

    # Key duplicates: the linked enrollment is kept; the other's course rows move or are archived.
    assert records[("programenrollment", merged_key.id)].kept_row_id == kept_key.id
    assert ProgramCourseEnrollment.objects.get(id=moved_course.id).program_enrollment_id == kept_key.id
    assert records[("programcourseenrollment", moved_course.id)].action == "moved"
    assert ("programcourseenrollment", colliding_course.id) in archived
    assert ("courseaccessroleassignment", colliding_role.id) in archived
    assert ProgramCourseEnrollment.objects.get(id=kept_key_course.id).status == "active"
    # User duplicates: the active enrollment is kept and receives the course row.
    assert records[("programenrollment", merged_user.id)].kept_row_id == kept_user.id
    assert ProgramCourseEnrollment.objects.get(id=merged_user_course.id).program_enrollment_id == kept_user.id
    # Two active rows of one learner: the first activated stays, the other is inactive, with history.
    assert ProgramCourseEnrollment.objects.get(id=earlier.id).status == "active"
    assert ProgramCourseEnrollment.objects.get(id=later.id).status == "inactive"
    assert records[("programcourseenrollment", later.id)].kept_row_id == earlier.id
    reason = ProgramCourseEnrollment.history.filter(id=later.id).latest().history_change_reason
    assert "made inactive" in reason and str(earlier.id) in reason
    assert ProgramCourseEnrollment.objects.get(id=waiting_first.id).status == "active"
    assert ProgramCourseEnrollment.objects.get(id=waiting_second.id).status == "inactive"
    # The stray pointer is cleared; the no-identity enrollment is archived; the unknown program reported.
    assert ProgramCourseEnrollment.objects.get(id=stray_course.id).course_enrollment_id is None
    assert records[("programcourseenrollment", stray_course.id)].action == "detached"
    assert ("programenrollment", nobody.id) in archived and ("programcourseenrollment", nobody_course.id) in archived
    assert AdoptionRecord.objects.filter(action="unknown-program", data__program_uuid=UNKNOWN_PROGRAM).exists()
    summary = AdoptionRecord.objects.get(action="adopted")
    assert summary.data["before"]["program_enrollments"] == before["pe"]

    report = api.audit_program_enrollments()
    assert not report.unresolved, report.findings

    out = _call("program_enrollments_adoption_report")
    assert f"archived: programenrollment {merged_key.id} (kept: {kept_key.id})" in out
    csv = _call("program_enrollments_adoption_report", "--csv", "--action", "deactivated")
    assert csv.splitlines()[0] == "id,created,table,row_id,action,kept_row_id,reason,data"
    assert len(csv.splitlines()) == 3


def test_a_half_undone_link_is_linked_again_when_the_sso_identity_agrees(catalog, adopted_schema_check):
    from program_enrollments.standalone.lms.models import SSOIdentity

    data = BuiltinData(_builtin_apps())
    frank = data.user("frank")
    SSOIdentity.objects.create(user_id=frank.id, organization_key="GTx", student_key="FRANK-1")
    half = data.pe(catalog.CYBERSECURITY, key="frank-1")
    course_enrollment = data.ce(frank, catalog.SHARED_COURSE)
    row = data.pce(half, catalog.SHARED_COURSE, course_enrollment=course_enrollment)

    _migrate(LATEST)

    enrollment = ProgramEnrollment.objects.get(id=half.id)
    assert enrollment.user_id == frank.id and enrollment.learner_ref == f"user:{frank.id}"
    assert ProgramCourseEnrollment.objects.get(id=row.id).course_enrollment_id == course_enrollment.id
    assert AdoptionRecord.objects.get(row_id=half.id, table="programenrollment").action == "linked"
    assert api.audit_program_enrollments().clean


def test_unapplying_an_adoption_is_refused(catalog, adopted_schema_check):
    from django.db.migrations.exceptions import IrreversibleError

    data = BuiltinData(_builtin_apps())
    data.pe(catalog.CYBERSECURITY, key="GT-1")
    _migrate(LATEST)
    with pytest.raises(IrreversibleError, match="restore"):
        _migrate(None)


def _call(*args):
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.skipif(
    connection.vendor != "mysql",
    reason="MySQL/MariaDB only: elsewhere DDL is transactional and creating a trigger needs no SUPER",
)
def test_without_the_right_to_create_triggers_mysql_stops_before_changing_anything(catalog, adopted_schema_check):
    """An account that may not create triggers (no TRIGGER here; no SUPER under binary logging) changes nothing."""
    from django.db.utils import ConnectionHandler

    settings = dict(connection.settings_dict)
    user = "pe_no_trigger"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP USER IF EXISTS '{user}'@'localhost', '{user}'@'127.0.0.1', '{user}'@'%'")
        for host in ("localhost", "127.0.0.1", "%"):
            cursor.execute(f"CREATE USER '{user}'@'{host}'")
            cursor.execute(f"GRANT ALL ON `{settings['NAME']}`.* TO '{user}'@'{host}'")
            cursor.execute(f"REVOKE TRIGGER ON `{settings['NAME']}`.* FROM '{user}'@'{host}'")
    _migrate(None)
    handler = ConnectionHandler({"default": {**settings, "USER": user, "PASSWORD": ""}})
    restricted = handler["default"]
    try:
        with pytest.raises(RuntimeError, match="may not create triggers.*Nothing was changed"):
            MigrationExecutor(restricted).migrate([MIGRATION])
        tables = set(connection.introspection.table_names())
        assert not {table for table in tables if table.startswith("program_enrollments_")}
        assert not MigrationExecutor(connection).loader.applied_migrations.get(MIGRATION)
    finally:
        restricted.close()
        _migrate(LATEST)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP USER IF EXISTS '{user}'@'localhost', '{user}'@'127.0.0.1', '{user}'@'%'")
