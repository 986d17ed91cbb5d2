"""PostgreSQL: the course enrollment check of migration 0015 reads the course enrollment by its primary key alone.

The function behind the trigger ``pce_course_enrollment_of_learner`` looked for a course
enrollment matching the new row's id, course run and user in one query. On a table
PostgreSQL has no statistics for yet (a new installation, a new test or benchmark
database), the plan cached for that query could find the row through the course run's
index and filter on the id, reading every enrollment of the course for each inserted
program course enrollment: a 1000-row insert into a course of 4,000 enrollments spent
over 2 s in the trigger. The function now reads the one row by primary key and compares
its course run and user in PL/pgSQL, which costs the same at any table size and with or
without statistics. What it refuses is unchanged.

MariaDB's trigger compares the course run as bytes (``CAST … AS BINARY``), which no index
serves, and SQLite looks a row up by its integer primary key first: both already read the
course enrollment by id and are left as they are.
"""

import importlib

from django.db import migrations

_check = importlib.import_module("program_enrollments.migrations.0015_course_access_grants")


def _function(table, user, course):
    return f"""CREATE OR REPLACE FUNCTION {_check.TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        enrollment_user text;
        enrollment_course text;
    BEGIN
        IF NEW.course_enrollment_id IS NULL THEN
            RETURN NEW;
        END IF;
        SELECT ce.{user}::text, ce.{course}::text INTO enrollment_user, enrollment_course
        FROM {table} ce WHERE ce.id = NEW.course_enrollment_id;
        IF NOT FOUND
            OR NEW.course_key IS DISTINCT FROM enrollment_course
            OR NEW.learner_ref IS DISTINCT FROM 'user:' || enrollment_user
        THEN
            RAISE EXCEPTION '{_check.MESSAGE}' USING ERRCODE = 'check_violation', CONSTRAINT = '{_check.TRIGGER}';
        END IF;
        RETURN NEW;
    END $$"""


def by_id(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_function(*_check._course_enrollment_columns(apps)), params=None)


def as_before(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        function = _check._statements("postgresql", *_check._course_enrollment_columns(apps))[0]
        schema_editor.execute(function.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1), params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("program_enrollments", "0018_paging_indexes"),
    ]

    operations = [
        migrations.RunPython(by_id, as_before, elidable=False),
    ]
