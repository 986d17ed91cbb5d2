"""Drop the indexes that no query uses and that every write pays for; the folded student key leads its index.

Each index of a table costs every inserted row, and every updated row whose new version
PostgreSQL cannot keep on the same page. A transfer writes and updates tens of thousands
of program enrollments, and a REST batch a thousand program course enrollments.

* ``programenrollment.program_uuid``: every query of a program reads ``pe_program_uuid_id``
  (program, id) or one of the unique indexes starting with the program.
* ``programenrollment.curriculum_uuid``: a curriculum is only looked for among a program's
  or a learner's enrollments, which those indexes and ``user_id`` find.
* ``programenrollment.external_user_key`` (and PostgreSQL's ``_like`` pattern index of it):
  a student key is looked up by its folded copy, ``external_user_key_normalized``. The unique
  index ``pe_unique_program_student_key`` now starts with the folded key (then the program):
  it serves the reads of one program's keys as before, and also the reads of a student key
  across programs (the built-in app's by-student reads, the organizations of a student key,
  the learner page), which found no index starting with it and read the whole index. The
  index is built again: on a large table this migration takes as long as building it.
* ``programcourseenrollment.program_enrollment_id``: the unique index on
  (``program_enrollment_id``, ``course_key``) starts with it, and serves the foreign key.
* The history of program enrollments loses the same indexes (simple-history copies them),
  and the history of program course enrollments those of its program enrollment and course
  enrollment: history rows are looked up by the row's id (and a user's, for retirement).

The plans of the queries that use the indexes that stay are in docs/scale.rst.

On SQLite, altering a column rebuilds the table, which drops its triggers and fails while
another table's trigger names it: the app's triggers (migrations 0013 and 0015) are dropped
first and created again at the end, as in migration 0016.
"""

import importlib

from django.conf import settings
from django.db import migrations, models
from django.db.models import deletion

_triggers = importlib.import_module("program_enrollments.migrations.0016_learner_ref_indexes")


class Migration(migrations.Migration):
    dependencies = [
        ("program_enrollments", "0019_course_enrollment_check_by_id"),
        migrations.swappable_dependency(settings.PROGRAM_ENROLLMENTS_COURSE_ENROLLMENT_MODEL),
    ]

    operations = [
        migrations.RunPython(_triggers._drop_triggers, _triggers._create_triggers, atomic=False, elidable=False),
        migrations.AlterField(
            model_name="historicalprogramenrollment",
            name="curriculum_uuid",
            field=models.UUIDField(),
        ),
        migrations.AlterField(
            model_name="historicalprogramenrollment",
            name="external_user_key",
            field=models.CharField(blank=True, max_length=255, null=True),
        ),
        migrations.AlterField(
            model_name="historicalprogramenrollment",
            name="program_uuid",
            field=models.UUIDField(),
        ),
        migrations.AlterField(
            model_name="programcourseenrollment",
            name="program_enrollment",
            field=models.ForeignKey(
                db_index=False,
                on_delete=deletion.CASCADE,
                related_name="program_course_enrollments",
                to="program_enrollments.programenrollment",
            ),
        ),
        migrations.AlterField(
            model_name="programenrollment",
            name="curriculum_uuid",
            field=models.UUIDField(),
        ),
        migrations.AlterField(
            model_name="programenrollment",
            name="external_user_key",
            field=models.CharField(blank=True, max_length=255, null=True),
        ),
        migrations.AlterField(
            model_name="programenrollment",
            name="program_uuid",
            field=models.UUIDField(),
        ),
        migrations.AlterField(
            model_name="historicalprogramcourseenrollment",
            name="course_enrollment",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=deletion.DO_NOTHING,
                related_name="+",
                to=settings.PROGRAM_ENROLLMENTS_COURSE_ENROLLMENT_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="historicalprogramcourseenrollment",
            name="program_enrollment",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=deletion.DO_NOTHING,
                related_name="+",
                to="program_enrollments.programenrollment",
            ),
        ),
        migrations.RemoveConstraint(
            model_name="programenrollment",
            name="pe_unique_program_student_key",
        ),
        migrations.AddConstraint(
            model_name="programenrollment",
            constraint=models.UniqueConstraint(
                fields=("external_user_key_normalized", "program_uuid"),
                name="pe_unique_program_student_key",
                violation_error_message="This student key is already enrolled in the program.",
            ),
        ),
        migrations.RunPython(_triggers._create_triggers, _triggers._drop_triggers, atomic=False, elidable=False),
    ]
