"""Create this app's tables, or adopt the tables of Open edX's built-in program_enrollments app.

The chain starts at 0013 so that no name collides with one of the built-in
app's migrations (0001_initial ... 0012_mariadb_uuid_conversion), which share
this app's label in ``django_migrations``. See _adoption.py and
docs/decisions/0005-open-edx-takeover.rst.
"""

import django.db.models.deletion
import django.db.models.functions.comparison
import django.db.models.functions.text
import django.utils.timezone
import model_utils.fields
import program_enrollments.fields
import simple_history.models
from django.conf import settings
from django.db import migrations, models
from opaque_keys.edx.django.models import CourseKeyField

from program_enrollments.migrations._adoption import (
    CreateOrAdopt,
    probe_trigger_privilege,
    refuse_to_unapply_an_adoption,
    resolve,
)


# The built-in app's schema after its migration 0012 (lms/djangoapps/program_enrollments/migrations/).
BUILTIN = [
    migrations.CreateModel(
        name="ProgramEnrollment",
        fields=[
            ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
            ("created", model_utils.fields.AutoCreatedField(default=django.utils.timezone.now, editable=False)),
            ("modified", model_utils.fields.AutoLastModifiedField(default=django.utils.timezone.now, editable=False)),
            ("external_user_key", models.CharField(db_index=True, max_length=255, null=True)),
            ("program_uuid", models.UUIDField(db_index=True)),
            ("curriculum_uuid", models.UUIDField(db_index=True)),
            ("status", models.CharField(max_length=9)),
            (
                "user",
                models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, to=settings.AUTH_USER_MODEL),
            ),
        ],
        options={
            "unique_together": {
                ("user", "program_uuid", "curriculum_uuid"),
                ("external_user_key", "program_uuid", "curriculum_uuid"),
            },
        },
    ),
    migrations.CreateModel(
        name="HistoricalProgramEnrollment",
        fields=[
            ("id", models.IntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID")),
            ("created", model_utils.fields.AutoCreatedField(default=django.utils.timezone.now, editable=False)),
            ("modified", model_utils.fields.AutoLastModifiedField(default=django.utils.timezone.now, editable=False)),
            ("external_user_key", models.CharField(db_index=True, max_length=255, null=True)),
            ("program_uuid", models.UUIDField(db_index=True)),
            ("curriculum_uuid", models.UUIDField(db_index=True)),
            ("status", models.CharField(max_length=9)),
            ("history_id", models.AutoField(primary_key=True, serialize=False)),
            ("history_date", models.DateTimeField()),
            ("history_change_reason", models.CharField(max_length=100, null=True)),
            ("history_type", models.CharField(max_length=1)),
            (
                "history_user",
                models.ForeignKey(
                    null=True,
                    on_delete=django.db.models.deletion.SET_NULL,
                    related_name="+",
                    to=settings.AUTH_USER_MODEL,
                ),
            ),
            (
                "user",
                models.ForeignKey(
                    blank=True,
                    db_constraint=False,
                    null=True,
                    on_delete=django.db.models.deletion.DO_NOTHING,
                    related_name="+",
                    to=settings.AUTH_USER_MODEL,
                ),
            ),
        ],
    ),
    migrations.CreateModel(
        name="ProgramCourseEnrollment",
        fields=[
            ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
            ("created", model_utils.fields.AutoCreatedField(default=django.utils.timezone.now, editable=False)),
            ("modified", model_utils.fields.AutoLastModifiedField(default=django.utils.timezone.now, editable=False)),
            ("course_key", CourseKeyField(max_length=255)),
            ("status", models.CharField(max_length=9)),
            (
                "course_enrollment",
                models.ForeignKey(
                    null=True,
                    on_delete=django.db.models.deletion.CASCADE,
                    to=settings.PROGRAM_ENROLLMENTS_COURSE_ENROLLMENT_MODEL,
                ),
            ),
            (
                "program_enrollment",
                models.ForeignKey(
                    on_delete=django.db.models.deletion.CASCADE,
                    related_name="program_course_enrollments",
                    to="program_enrollments.programenrollment",
                ),
            ),
        ],
        options={"unique_together": {("program_enrollment", "course_key")}},
    ),
    migrations.CreateModel(
        name="HistoricalProgramCourseEnrollment",
        fields=[
            ("id", models.IntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID")),
            ("created", model_utils.fields.AutoCreatedField(default=django.utils.timezone.now, editable=False)),
            ("modified", model_utils.fields.AutoLastModifiedField(default=django.utils.timezone.now, editable=False)),
            ("course_key", CourseKeyField(max_length=255)),
            ("status", models.CharField(max_length=9)),
            ("history_id", models.AutoField(primary_key=True, serialize=False)),
            ("history_date", models.DateTimeField()),
            ("history_change_reason", models.CharField(max_length=100, null=True)),
            ("history_type", models.CharField(max_length=1)),
            (
                "course_enrollment",
                models.ForeignKey(
                    blank=True,
                    db_constraint=False,
                    null=True,
                    on_delete=django.db.models.deletion.DO_NOTHING,
                    related_name="+",
                    to=settings.PROGRAM_ENROLLMENTS_COURSE_ENROLLMENT_MODEL,
                ),
            ),
            (
                "history_user",
                models.ForeignKey(
                    null=True,
                    on_delete=django.db.models.deletion.SET_NULL,
                    related_name="+",
                    to=settings.AUTH_USER_MODEL,
                ),
            ),
            (
                "program_enrollment",
                models.ForeignKey(
                    blank=True,
                    db_constraint=False,
                    null=True,
                    on_delete=django.db.models.deletion.DO_NOTHING,
                    related_name="+",
                    to="program_enrollments.programenrollment",
                ),
            ),
        ],
    ),
    migrations.CreateModel(
        name="CourseAccessRoleAssignment",
        fields=[
            ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
            ("created", model_utils.fields.AutoCreatedField(default=django.utils.timezone.now, editable=False)),
            ("modified", model_utils.fields.AutoLastModifiedField(default=django.utils.timezone.now, editable=False)),
            ("role", models.CharField(max_length=64)),
            (
                "enrollment",
                models.ForeignKey(
                    on_delete=django.db.models.deletion.CASCADE, to="program_enrollments.programcourseenrollment"
                ),
            ),
        ],
        options={"unique_together": {("role", "enrollment")}},
    ),
]

LEARNER_REF = "program_enrollments.fields.ProgramLearnerRefField"

# This app's constraints: part of a fresh creation, and added last when adopting the built-in tables.
CONSTRAINTS = [
    migrations.AddConstraint(
        model_name="programenrollment",
        constraint=models.UniqueConstraint(
            fields=("program_uuid", "external_user_key_normalized"),
            name="pe_unique_program_student_key",
            violation_error_message="This student key is already enrolled in the program.",
        ),
    ),
    migrations.AddConstraint(
        model_name="programenrollment",
        constraint=models.UniqueConstraint(
            fields=("program_uuid", "user"),
            name="pe_unique_program_user",
            violation_error_message="This user is already enrolled in the program.",
        ),
    ),
    migrations.AddConstraint(
        model_name="programenrollment",
        constraint=models.CheckConstraint(
            condition=models.Q(("user__isnull", False), ("external_user_key__isnull", False), _connector="OR"),
            name="pe_user_or_student_key",
            violation_error_message="A program enrollment needs a user or a student key.",
        ),
    ),
    migrations.AddConstraint(
        model_name="programenrollment",
        constraint=models.CheckConstraint(
            condition=models.Q(("status__in", ["enrolled", "pending", "suspended", "canceled", "ended"])),
            name="pe_status_valid",
        ),
    ),
    migrations.AddConstraint(
        model_name="programenrollment",
        constraint=models.CheckConstraint(
            condition=models.Q(
                models.Q(("learner_ref__startswith", "key:"), ("user__isnull", True)),
                models.Q(
                    (
                        "learner_ref",
                        django.db.models.functions.text.Concat(
                            models.Value("user:"),
                            django.db.models.functions.comparison.Cast("user", models.CharField()),
                        ),
                    ),
                    ("user__isnull", False),
                ),
                _connector="OR",
            ),
            name="pe_learner_ref_matches_user",
            violation_error_message="learner_ref must name the linked user, or the student key when unlinked.",
        ),
    ),
    migrations.AddConstraint(
        model_name="programcourseenrollment",
        constraint=models.UniqueConstraint(
            fields=("program_enrollment", "course_key"),
            name="pce_unique_program_enrollment_course",
            violation_error_message="The program already has an enrollment of this learner in this course.",
        ),
    ),
    migrations.AddConstraint(
        model_name="programcourseenrollment",
        constraint=models.UniqueConstraint(
            fields=("active_learner_ref", "course_key"),
            name="pce_one_active_per_learner_course",
            violation_error_message="The learner is already active in this course through another program.",
        ),
    ),
    migrations.AddConstraint(
        model_name="programcourseenrollment",
        constraint=models.CheckConstraint(
            condition=models.Q(("status__in", ["active", "inactive"])), name="pce_status_valid"
        ),
    ),
]

# From the built-in schema to this app's: first what the data resolution needs...
ADOPT_BEFORE = [
    migrations.AlterUniqueTogether(name="programenrollment", unique_together=set()),
    migrations.AlterUniqueTogether(name="programcourseenrollment", unique_together=set()),
    migrations.AddField(
        model_name="programenrollment",
        name="external_user_key_normalized",
        field=program_enrollments.fields.NormalizedStudentKeyField(
            max_length=255, null=True, source="external_user_key"
        ),
    ),
    # NOT NULL at once, with a placeholder filled below: on MySQL, making a column NOT NULL later
    # (MODIFY) would drop the column's binary collation.
    migrations.AddField(
        model_name="programenrollment",
        name="learner_ref",
        field=program_enrollments.fields.ProgramLearnerRefField(default="", max_length=72),
        preserve_default=False,
    ),
    migrations.AddField(
        model_name="programcourseenrollment",
        name="learner_ref",
        field=program_enrollments.fields.CourseLearnerRefField(default="", max_length=72),
        preserve_default=False,
    ),
    migrations.AddField(
        model_name="programcourseenrollment", name="course_staff", field=models.BooleanField(default=False)
    ),
    migrations.AddField(
        model_name="historicalprogramcourseenrollment", name="course_staff", field=models.BooleanField(default=False)
    ),
    migrations.AlterField(
        model_name="historicalprogramenrollment", name="history_change_reason", field=models.TextField(null=True)
    ),
    migrations.AlterField(
        model_name="historicalprogramcourseenrollment", name="history_change_reason", field=models.TextField(null=True)
    ),
]

# ... then, once the data obeys this app's rules, its columns and constraints.
ADOPT_AFTER = [
    migrations.AlterField(
        model_name="programcourseenrollment",
        name="course_key",
        field=program_enrollments.fields.ExactCourseKeyField(max_length=255),
    ),
    migrations.AlterField(
        model_name="historicalprogramcourseenrollment",
        name="course_key",
        field=program_enrollments.fields.ExactCourseKeyField(max_length=255),
    ),
    migrations.AlterField(
        model_name="programcourseenrollment",
        name="course_enrollment",
        field=models.ForeignKey(
            blank=True,
            null=True,
            on_delete=django.db.models.deletion.SET_NULL,
            to=settings.PROGRAM_ENROLLMENTS_COURSE_ENROLLMENT_MODEL,
        ),
    ),
    migrations.AlterField(
        model_name="programenrollment",
        name="learner_ref",
        field=program_enrollments.fields.ProgramLearnerRefField(db_index=True, max_length=72),
    ),
    migrations.AlterField(
        model_name="programcourseenrollment",
        name="learner_ref",
        field=program_enrollments.fields.CourseLearnerRefField(db_index=True, max_length=72),
    ),
    migrations.AddField(
        model_name="programcourseenrollment",
        name="active_learner_ref",
        field=models.GeneratedField(
            db_persist=True,
            expression=models.Case(
                models.When(status="active", then=models.F("learner_ref")),
                default=models.Value(None),
                output_field=models.CharField(max_length=72, null=True),
            ),
            output_field=models.CharField(max_length=72, null=True),
        ),
    ),
    *CONSTRAINTS,
]


# A program course enrollment keeps a copy of its program enrollment's learner_ref
# (a database cannot index across tables). This trigger rewrites the copies whenever
# the original changes, by whatever path (an ORM save() that links a user included),
# so that the unique index on (active_learner_ref, course_key) sees the new identity
# and refuses a change that would make a learner active twice in one course.
# Created last: on SQLite, adding constraints rebuilds a table, which drops its triggers.
TRIGGER = "pe_learner_ref_to_pce"
PE = "program_enrollments_programenrollment"
PCE = "program_enrollments_programcourseenrollment"

CREATE = {
    "sqlite": [
        f"""CREATE TRIGGER {TRIGGER} AFTER UPDATE OF learner_ref ON {PE}
        FOR EACH ROW WHEN OLD.learner_ref IS NOT NEW.learner_ref
        BEGIN
            UPDATE {PCE} SET learner_ref = NEW.learner_ref WHERE program_enrollment_id = NEW.id;
        END""",
    ],
    "postgresql": [
        f"""CREATE FUNCTION {TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE {PCE} SET learner_ref = NEW.learner_ref WHERE program_enrollment_id = NEW.id;
            RETURN NULL;
        END $$""",
        f"""CREATE TRIGGER {TRIGGER} AFTER UPDATE OF learner_ref ON {PE}
        FOR EACH ROW WHEN (OLD.learner_ref IS DISTINCT FROM NEW.learner_ref)
        EXECUTE FUNCTION {TRIGGER}()""",
    ],
    "mysql": [
        f"""CREATE TRIGGER {TRIGGER} AFTER UPDATE ON {PE} FOR EACH ROW
        UPDATE {PCE} SET learner_ref = NEW.learner_ref
        WHERE program_enrollment_id = NEW.id AND NOT (OLD.learner_ref <=> NEW.learner_ref)""",
    ],
}

DROP = {
    "sqlite": [f"DROP TRIGGER IF EXISTS {TRIGGER}"],
    "postgresql": [f"DROP TRIGGER IF EXISTS {TRIGGER} ON {PE}", f"DROP FUNCTION IF EXISTS {TRIGGER}()"],
    "mysql": [f"DROP TRIGGER IF EXISTS {TRIGGER}"],
}


def _run(statements):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor not in statements:
            raise NotImplementedError(f"program_enrollments has no {TRIGGER} trigger for the {vendor} backend")
        for statement in statements[vendor]:
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        migrations.swappable_dependency(settings.PROGRAM_ENROLLMENTS_COURSE_ENROLLMENT_MODEL),
    ]

    operations = [
        # First: on MySQL, where DDL is not transactional, a missing right to create the trigger
        # must stop the migration before it changes anything.
        migrations.RunPython(probe_trigger_privilege, migrations.RunPython.noop, elidable=False),
        migrations.CreateModel(
            name="AdoptionRecord",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("created", models.DateTimeField(auto_now_add=True)),
                ("table", models.CharField(max_length=64)),
                ("row_id", models.IntegerField(db_index=True, null=True)),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("adopted", "tables adopted (summary)"),
                            ("archived", "row moved out of the live table"),
                            ("moved", "program course enrollment moved to the kept program enrollment"),
                            ("deactivated", "made inactive (one active program per course run)"),
                            ("detached", "course enrollment pointer cleared or corrected"),
                            ("linked", "waiting learner linked to the user of their course enrollments"),
                            ("unknown-program", "program not in the catalog"),
                        ],
                        max_length=32,
                    ),
                ),
                ("kept_row_id", models.IntegerField(null=True)),
                ("reason", models.TextField()),
                ("data", models.JSONField(default=dict)),
            ],
            options={
                "ordering": ["id"],
            },
        ),
        CreateOrAdopt(
            create=[
                migrations.CreateModel(
                    name="HistoricalProgramEnrollment",
                    fields=[
                        ("id", models.IntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID")),
                        (
                            "created",
                            model_utils.fields.AutoCreatedField(
                                default=django.utils.timezone.now, editable=False, verbose_name="created"
                            ),
                        ),
                        (
                            "modified",
                            model_utils.fields.AutoLastModifiedField(
                                default=django.utils.timezone.now, editable=False, verbose_name="modified"
                            ),
                        ),
                        ("external_user_key", models.CharField(blank=True, db_index=True, max_length=255, null=True)),
                        ("program_uuid", models.UUIDField(db_index=True)),
                        ("curriculum_uuid", models.UUIDField(db_index=True)),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("enrolled", "Enrolled"),
                                    ("pending", "Pending"),
                                    ("suspended", "Suspended"),
                                    ("canceled", "Canceled"),
                                    ("ended", "Ended"),
                                ],
                                max_length=9,
                            ),
                        ),
                        ("history_change_reason", models.TextField(null=True)),
                        ("history_id", models.AutoField(primary_key=True, serialize=False)),
                        ("history_date", models.DateTimeField()),
                        (
                            "history_type",
                            models.CharField(
                                choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                            ),
                        ),
                        (
                            "history_user",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "historical program enrollment",
                        "verbose_name_plural": "historical program enrollments",
                        "ordering": ("-history_date", "-history_id"),
                        "get_latest_by": ("history_date", "history_id"),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name="ProgramEnrollment",
                    fields=[
                        (
                            "id",
                            models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"),
                        ),
                        (
                            "created",
                            model_utils.fields.AutoCreatedField(
                                default=django.utils.timezone.now, editable=False, verbose_name="created"
                            ),
                        ),
                        (
                            "modified",
                            model_utils.fields.AutoLastModifiedField(
                                default=django.utils.timezone.now, editable=False, verbose_name="modified"
                            ),
                        ),
                        ("external_user_key", models.CharField(blank=True, db_index=True, max_length=255, null=True)),
                        (
                            "external_user_key_normalized",
                            program_enrollments.fields.NormalizedStudentKeyField(
                                max_length=255, null=True, source="external_user_key"
                            ),
                        ),
                        ("program_uuid", models.UUIDField(db_index=True)),
                        ("curriculum_uuid", models.UUIDField(db_index=True)),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("enrolled", "Enrolled"),
                                    ("pending", "Pending"),
                                    ("suspended", "Suspended"),
                                    ("canceled", "Canceled"),
                                    ("ended", "Ended"),
                                ],
                                max_length=9,
                            ),
                        ),
                        (
                            "learner_ref",
                            program_enrollments.fields.ProgramLearnerRefField(db_index=True, max_length=72),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                ),
                migrations.CreateModel(
                    name="ProgramCourseEnrollment",
                    fields=[
                        (
                            "id",
                            models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"),
                        ),
                        (
                            "created",
                            model_utils.fields.AutoCreatedField(
                                default=django.utils.timezone.now, editable=False, verbose_name="created"
                            ),
                        ),
                        (
                            "modified",
                            model_utils.fields.AutoLastModifiedField(
                                default=django.utils.timezone.now, editable=False, verbose_name="modified"
                            ),
                        ),
                        ("course_key", program_enrollments.fields.ExactCourseKeyField(max_length=255)),
                        (
                            "status",
                            models.CharField(choices=[("active", "Active"), ("inactive", "Inactive")], max_length=9),
                        ),
                        ("course_staff", models.BooleanField(default=False)),
                        ("learner_ref", program_enrollments.fields.CourseLearnerRefField(db_index=True, max_length=72)),
                        (
                            "active_learner_ref",
                            models.GeneratedField(
                                db_persist=True,
                                expression=models.Case(
                                    models.When(status="active", then=models.F("learner_ref")),
                                    default=models.Value(None),
                                    output_field=models.CharField(max_length=72, null=True),
                                ),
                                output_field=models.CharField(max_length=72, null=True),
                            ),
                        ),
                        (
                            "course_enrollment",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                to=settings.PROGRAM_ENROLLMENTS_COURSE_ENROLLMENT_MODEL,
                            ),
                        ),
                        (
                            "program_enrollment",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="program_course_enrollments",
                                to="program_enrollments.programenrollment",
                            ),
                        ),
                    ],
                ),
                migrations.CreateModel(
                    name="HistoricalProgramCourseEnrollment",
                    fields=[
                        ("id", models.IntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID")),
                        (
                            "created",
                            model_utils.fields.AutoCreatedField(
                                default=django.utils.timezone.now, editable=False, verbose_name="created"
                            ),
                        ),
                        (
                            "modified",
                            model_utils.fields.AutoLastModifiedField(
                                default=django.utils.timezone.now, editable=False, verbose_name="modified"
                            ),
                        ),
                        ("course_key", program_enrollments.fields.ExactCourseKeyField(max_length=255)),
                        (
                            "status",
                            models.CharField(choices=[("active", "Active"), ("inactive", "Inactive")], max_length=9),
                        ),
                        ("course_staff", models.BooleanField(default=False)),
                        ("history_change_reason", models.TextField(null=True)),
                        ("history_id", models.AutoField(primary_key=True, serialize=False)),
                        ("history_date", models.DateTimeField()),
                        (
                            "history_type",
                            models.CharField(
                                choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                            ),
                        ),
                        (
                            "course_enrollment",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to=settings.PROGRAM_ENROLLMENTS_COURSE_ENROLLMENT_MODEL,
                            ),
                        ),
                        (
                            "history_user",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "program_enrollment",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to="program_enrollments.programenrollment",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "historical program course enrollment",
                        "verbose_name_plural": "historical program course enrollments",
                        "ordering": ("-history_date", "-history_id"),
                        "get_latest_by": ("history_date", "history_id"),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name="CourseAccessRoleAssignment",
                    fields=[
                        (
                            "id",
                            models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"),
                        ),
                        (
                            "created",
                            model_utils.fields.AutoCreatedField(
                                default=django.utils.timezone.now, editable=False, verbose_name="created"
                            ),
                        ),
                        (
                            "modified",
                            model_utils.fields.AutoLastModifiedField(
                                default=django.utils.timezone.now, editable=False, verbose_name="modified"
                            ),
                        ),
                        ("role", models.CharField(choices=[("staff", "Staff")], max_length=64)),
                        (
                            "enrollment",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                to="program_enrollments.programcourseenrollment",
                            ),
                        ),
                    ],
                    options={
                        "unique_together": {("role", "enrollment")},
                    },
                ),
                *CONSTRAINTS,
            ],
            builtin=BUILTIN,
            adopt_before=ADOPT_BEFORE,
            adopt_after=ADOPT_AFTER,
            resolve=resolve,
        ),
        migrations.RunPython(_run(CREATE), _run(DROP), atomic=False, elidable=False),
        migrations.CreateModel(
            name="HistoricalOrganizationGrant",
            fields=[
                ("id", models.IntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID")),
                (
                    "created",
                    model_utils.fields.AutoCreatedField(
                        default=django.utils.timezone.now, editable=False, verbose_name="created"
                    ),
                ),
                (
                    "modified",
                    model_utils.fields.AutoLastModifiedField(
                        default=django.utils.timezone.now, editable=False, verbose_name="modified"
                    ),
                ),
                (
                    "organization_key",
                    models.CharField(help_text="The authoring organization's key, e.g. GTx.", max_length=255),
                ),
                (
                    "access",
                    models.CharField(choices=[("read", "Read"), ("write", "Write")], default="read", max_length=5),
                ),
                ("history_change_reason", models.TextField(null=True)),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField()),
                (
                    "history_type",
                    models.CharField(choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1),
                ),
                (
                    "history_user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "historical organization grant",
                "verbose_name_plural": "historical organization grants",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="OrganizationGrant",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "created",
                    model_utils.fields.AutoCreatedField(
                        default=django.utils.timezone.now, editable=False, verbose_name="created"
                    ),
                ),
                (
                    "modified",
                    model_utils.fields.AutoLastModifiedField(
                        default=django.utils.timezone.now, editable=False, verbose_name="modified"
                    ),
                ),
                (
                    "organization_key",
                    models.CharField(help_text="The authoring organization's key, e.g. GTx.", max_length=255),
                ),
                (
                    "access",
                    models.CharField(choices=[("read", "Read"), ("write", "Write")], default="read", max_length=5),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="organization_grants",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("user", "organization_key"), name="grant_unique_user_organization"),
                    models.CheckConstraint(
                        condition=models.Q(("access__in", ["read", "write"])), name="grant_access_valid"
                    ),
                ],
            },
        ),
        # Last, so that it runs first when the migration is unapplied: on MySQL, where DDL is not
        # transactional, nothing may be dropped before an adoption is found irreversible.
        migrations.RunPython(migrations.RunPython.noop, refuse_to_unapply_an_adoption, elidable=False),
    ]
