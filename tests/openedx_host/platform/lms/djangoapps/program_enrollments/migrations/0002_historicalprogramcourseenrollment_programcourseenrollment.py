"""
Mirrors the platform migration ``program_enrollments/0002_historicalprogramcourseenrollment_programcourseenrollment``.

Creates ProgramCourseEnrollment, whose ``course_enrollment`` is still a OneToOne to
``student.CourseEnrollment`` (0009 turns it into a plain FK), and its simple-history table.
"""

import django.db.models.deletion
import django.utils.timezone
import model_utils.fields
import opaque_keys.edx.django.models
import simple_history.models
from django.conf import settings
from django.db import migrations, models

_STATUSES = [("active", "active"), ("inactive", "inactive")]


def _timestamps():
    return [
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
    ]


def _history_copy_of(target):
    """The FK simple-history copies into a history table: no constraint, no reverse accessor."""
    return models.ForeignKey(
        blank=True,
        db_constraint=False,
        null=True,
        on_delete=django.db.models.deletion.DO_NOTHING,
        related_name="+",
        to=target,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("student", "0020_auto_20190227_2019"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("program_enrollments", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="HistoricalProgramCourseEnrollment",
            fields=[
                ("id", models.IntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID")),
                *_timestamps(),
                ("course_key", opaque_keys.edx.django.models.CourseKeyField(max_length=255)),
                ("status", models.CharField(choices=_STATUSES, max_length=9)),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField()),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1),
                ),
                ("course_enrollment", _history_copy_of("student.CourseEnrollment")),
                (
                    "history_user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                ("program_enrollment", _history_copy_of("program_enrollments.ProgramEnrollment")),
            ],
            options={
                "verbose_name": "historical program course enrollment",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": "history_date",
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="ProgramCourseEnrollment",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                *_timestamps(),
                ("course_key", opaque_keys.edx.django.models.CourseKeyField(max_length=255)),
                ("status", models.CharField(choices=_STATUSES, max_length=9)),
                (
                    "course_enrollment",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        to="student.CourseEnrollment",
                    ),
                ),
                (
                    "program_enrollment",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        to="program_enrollments.ProgramEnrollment",
                    ),
                ),
            ],
        ),
    ]
