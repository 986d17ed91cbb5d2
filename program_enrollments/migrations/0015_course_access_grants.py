"""Record what a program changed of a course enrollment; refuse a course enrollment of another person.

* ``access_grant``, ``prior_mode``, ``prior_is_active``: what the program
  changed when it made the learner active, so that making them inactive takes
  back only that (rows written before are ``unknown``: treated as given by the
  program, as before).
* The trigger ``pce_course_enrollment_of_learner`` refuses, on every insert and
  on every update of ``course_enrollment_id``, ``learner_ref`` or ``course_key``,
  a program course enrollment whose course enrollment is not of its program
  enrollment's linked user in the same course run (a waiting learner's row has
  none). With the unique constraint on (``active_learner_ref``, ``course_key``),
  at most one active program course enrollment can then point at one course
  enrollment. The trigger is created last: on SQLite, adding a constraint
  rebuilds the table, which drops its triggers; a later migration that rebuilds
  the table must create it again (``create_trigger``).
"""

import importlib

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import migrations, models

TRIGGER = "pce_course_enrollment_of_learner"
PCE = "program_enrollments_programcourseenrollment"
MESSAGE = "pce_course_enrollment_of_learner: the course enrollment is not of the linked user in this course run"


def _course_enrollment_columns(apps):
    """The course enrollment table, and its user and course run columns (the host's model)."""
    model = apps.get_model(settings.PROGRAM_ENROLLMENTS_COURSE_ENROLLMENT_MODEL)
    try:
        course = model._meta.get_field("course")  # Open edX: a foreign key to CourseOverview (column course_id)
    except FieldDoesNotExist:
        course = model._meta.get_field("course_id")
    return model._meta.db_table, model._meta.get_field("user").column, course.column


def _statements(vendor, table, user, course):
    mismatch = (
        "NEW.course_enrollment_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {table} ce "
        "WHERE ce.id = NEW.course_enrollment_id AND {same_course} AND {same_user})"
    )
    if vendor == "sqlite":
        condition = mismatch.format(
            table=table,
            same_course=f"ce.{course} = NEW.course_key",
            same_user=f"NEW.learner_ref = 'user:' || ce.{user}",
        )
        return [
            f"""CREATE TRIGGER {TRIGGER}_insert BEFORE INSERT ON {PCE} FOR EACH ROW WHEN {condition}
            BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
            f"""CREATE TRIGGER {TRIGGER}_update BEFORE UPDATE OF course_enrollment_id, learner_ref, course_key
            ON {PCE} FOR EACH ROW WHEN {condition}
            BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
        ]
    if vendor == "postgresql":
        condition = mismatch.format(
            table=table,
            same_course=f"ce.{course} = NEW.course_key",
            same_user=f"NEW.learner_ref = 'user:' || ce.{user}::text",
        )
        return [
            f"""CREATE FUNCTION {TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF {condition} THEN
                    RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'check_violation', CONSTRAINT = '{TRIGGER}';
                END IF;
                RETURN NEW;
            END $$""",
            f"""CREATE TRIGGER {TRIGGER} BEFORE INSERT OR UPDATE OF course_enrollment_id, learner_ref, course_key
            ON {PCE} FOR EACH ROW EXECUTE FUNCTION {TRIGGER}()""",
        ]
    if vendor == "mysql":
        # Compared as bytes: the host's table may use another character set or collation.
        condition = mismatch.format(
            table=table,
            same_course=f"CAST(ce.{course} AS BINARY) = CAST(NEW.course_key AS BINARY)",
            same_user=f"CAST(NEW.learner_ref AS BINARY) = CAST(CONCAT('user:', ce.{user}) AS BINARY)",
        )
        # Error 4025 (a failed CONSTRAINT) is what Django reports as an IntegrityError.
        signal = f"SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = '{MESSAGE}', MYSQL_ERRNO = 4025"
        unchanged = (
            "NEW.course_enrollment_id <=> OLD.course_enrollment_id AND NEW.learner_ref <=> OLD.learner_ref "
            "AND NEW.course_key <=> OLD.course_key"
        )
        return [
            f"""CREATE TRIGGER {TRIGGER}_insert BEFORE INSERT ON {PCE} FOR EACH ROW
            BEGIN IF {condition} THEN {signal}; END IF; END""",
            f"""CREATE TRIGGER {TRIGGER}_update BEFORE UPDATE ON {PCE} FOR EACH ROW
            BEGIN IF NOT ({unchanged}) AND {condition} THEN {signal}; END IF; END""",
        ]
    raise NotImplementedError(f"program_enrollments has no {TRIGGER} trigger for the {vendor} backend")


DROP = {
    "sqlite": [f"DROP TRIGGER IF EXISTS {TRIGGER}_insert", f"DROP TRIGGER IF EXISTS {TRIGGER}_update"],
    "postgresql": [f"DROP TRIGGER IF EXISTS {TRIGGER} ON {PCE}", f"DROP FUNCTION IF EXISTS {TRIGGER}()"],
    "mysql": [f"DROP TRIGGER IF EXISTS {TRIGGER}_insert", f"DROP TRIGGER IF EXISTS {TRIGGER}_update"],
}


# On SQLite, rebuilding the program course enrollment table (adding a column with a default, a
# constraint) fails while the program enrollment table's trigger of migration 0013 names it:
# that trigger is dropped first and created again at the end.
_identity_trigger = importlib.import_module("program_enrollments.migrations.0013_create_or_adopt")


def _on_sqlite(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            for statement in statements["sqlite"]:
                schema_editor.execute(statement, params=None)

    return run


def create_trigger(apps, schema_editor):
    for statement in _statements(schema_editor.connection.vendor, *_course_enrollment_columns(apps)):
        schema_editor.execute(statement, params=None)


def drop_trigger(apps, schema_editor):
    for statement in DROP.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("program_enrollments", "0014_refold_student_keys"),
        migrations.swappable_dependency(settings.PROGRAM_ENROLLMENTS_COURSE_ENROLLMENT_MODEL),
    ]

    operations = [
        migrations.RunPython(_on_sqlite(_identity_trigger.DROP), _on_sqlite(_identity_trigger.CREATE), atomic=False, elidable=False),
        migrations.AddField(
            model_name="historicalprogramcourseenrollment",
            name="access_grant",
            field=models.CharField(
                choices=[
                    ("unknown", "not recorded (written before this was kept): treated as given by the program"),
                    ("none", "nothing: the learner's own course enrollment, left as it was"),
                    ("created", "created by the program"),
                    ("changed", "upgraded to masters and/or reactivated by the program"),
                ],
                default="unknown",
                max_length=8,
            ),
        ),
        migrations.AddField(
            model_name="historicalprogramcourseenrollment",
            name="prior_is_active",
            field=models.BooleanField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="historicalprogramcourseenrollment",
            name="prior_mode",
            field=models.CharField(blank=True, max_length=100, null=True),
        ),
        migrations.AddField(
            model_name="programcourseenrollment",
            name="access_grant",
            field=models.CharField(
                choices=[
                    ("unknown", "not recorded (written before this was kept): treated as given by the program"),
                    ("none", "nothing: the learner's own course enrollment, left as it was"),
                    ("created", "created by the program"),
                    ("changed", "upgraded to masters and/or reactivated by the program"),
                ],
                default="unknown",
                max_length=8,
            ),
        ),
        migrations.AddField(
            model_name="programcourseenrollment",
            name="prior_is_active",
            field=models.BooleanField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="programcourseenrollment",
            name="prior_mode",
            field=models.CharField(blank=True, max_length=100, null=True),
        ),
        migrations.AddConstraint(
            model_name="programcourseenrollment",
            constraint=models.CheckConstraint(
                condition=models.Q(("access_grant__in", ["unknown", "none", "created", "changed"])),
                name="pce_access_grant_valid",
            ),
        ),
        migrations.RunPython(create_trigger, drop_trigger, atomic=False, elidable=False),
        migrations.RunPython(_on_sqlite(_identity_trigger.CREATE), _on_sqlite(_identity_trigger.DROP), atomic=False, elidable=False),
    ]
