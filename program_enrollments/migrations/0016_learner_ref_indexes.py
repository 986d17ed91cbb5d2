"""Indexes of the learner identity columns that a query uses, and no others.

* ``programenrollment.learner_ref`` keeps a plain b-tree index (linking a waiting
  learner and the learner view look rows up by it), without the ``_like`` pattern
  index PostgreSQL adds to an indexed ``CharField``: no query matches it by pattern.
* ``programcourseenrollment.learner_ref`` loses its indexes: no query looks rows up
  by it (the one-active rule's unique index is on ``active_learner_ref``), and each
  index costs every insert.

On SQLite, altering a column rebuilds the table, which drops its triggers and fails
while another table's trigger names it: the app's triggers (migrations 0013 and
0015) are dropped first and created again at the end.
"""

import importlib

import program_enrollments.fields
from django.conf import settings
from django.db import migrations, models

_identity = importlib.import_module("program_enrollments.migrations.0013_create_or_adopt")
_course_enrollment = importlib.import_module("program_enrollments.migrations.0015_course_access_grants")


def _drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in _identity.DROP["sqlite"]:
            schema_editor.execute(statement, params=None)
        _course_enrollment.drop_trigger(apps, schema_editor)


def _create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in _identity.CREATE["sqlite"]:
            schema_editor.execute(statement, params=None)
        _course_enrollment.create_trigger(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("program_enrollments", "0015_course_access_grants"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(_drop_triggers, _create_triggers, atomic=False, elidable=False),
        migrations.AlterField(
            model_name="programcourseenrollment",
            name="learner_ref",
            field=program_enrollments.fields.CourseLearnerRefField(max_length=72),
        ),
        migrations.AlterField(
            model_name="programenrollment",
            name="learner_ref",
            field=program_enrollments.fields.ProgramLearnerRefField(max_length=72),
        ),
        migrations.AddIndex(
            model_name="programenrollment",
            index=models.Index(fields=["learner_ref"], name="pe_learner_ref"),
        ),
        migrations.RunPython(_create_triggers, _drop_triggers, atomic=False, elidable=False),
    ]
