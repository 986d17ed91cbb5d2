"""
Mirrors the platform migration ``program_enrollments/0001_initial``.

Creates ProgramEnrollment (statuses enrolled, pending, suspended, withdrawn; no unique keys yet) and
its simple-history table.
"""

import django.db.models.deletion
import django.utils.timezone
import model_utils.fields
import simple_history.models
from django.conf import settings
from django.db import migrations, models

_STATUSES = [
    ("enrolled", "enrolled"),
    ("pending", "pending"),
    ("suspended", "suspended"),
    ("withdrawn", "withdrawn"),
]


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


def _enrollment_columns():
    return [
        ("external_user_key", models.CharField(db_index=True, max_length=255, null=True)),
        ("program_uuid", models.UUIDField(db_index=True)),
        ("curriculum_uuid", models.UUIDField(db_index=True)),
        ("status", models.CharField(choices=_STATUSES, max_length=9)),
    ]


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="HistoricalProgramEnrollment",
            fields=[
                ("id", models.IntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID")),
                *_timestamps(),
                *_enrollment_columns(),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                # Not indexed: the platform runs with SIMPLE_HISTORY_DATE_INDEX = False.
                ("history_date", models.DateTimeField()),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
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
                "verbose_name": "historical program enrollment",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": "history_date",
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="ProgramEnrollment",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                *_timestamps(),
                *_enrollment_columns(),
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
    ]
