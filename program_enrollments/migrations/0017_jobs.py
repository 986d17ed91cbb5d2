"""Background jobs: big writes and transfers run chunk by chunk by Celery tasks.

* ``job``: one submitted job (what, by whom, its learners, its status, progress
  counters and the cursor after its last committed chunk). Its primary key is a
  random UUID: job URLs carry it, and it tells nothing about other jobs.
* ``jobresult``: one row per learner processed, written in the same transaction
  as the learner's chunk (see ``program_enrollments.api.jobs``).

New tables only; the constraints are created with them (no table rebuild on SQLite).
"""

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("program_enrollments", "0016_learner_ref_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Job",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("program-enrollments", "write program enrollments"),
                            ("program-course-enrollments", "write program course enrollments"),
                            ("transfer", "transfer learners to another program"),
                        ],
                        max_length=32,
                    ),
                ),
                ("program_uuid", models.UUIDField(db_index=True)),
                ("parameters", models.JSONField(default=dict)),
                ("learners", models.JSONField(default=list)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("queued", "Queued"),
                            ("running", "Running"),
                            ("succeeded", "Succeeded"),
                            ("failed", "Failed"),
                        ],
                        default="queued",
                        max_length=9,
                    ),
                ),
                ("total", models.PositiveIntegerField(blank=True, null=True)),
                ("processed", models.PositiveIntegerField(default=0)),
                ("succeeded", models.PositiveIntegerField(default=0)),
                ("failed", models.PositiveIntegerField(default=0)),
                ("cursor", models.BigIntegerField(default=0)),
                ("attempts", models.PositiveIntegerField(default=0)),
                ("error", models.TextField(blank=True)),
                ("idempotency_key", models.CharField(blank=True, max_length=255, null=True)),
                ("pending_fingerprint", models.CharField(blank=True, max_length=64, null=True, unique=True)),
                ("created", models.DateTimeField(auto_now_add=True, db_index=True)),
                ("updated", models.DateTimeField(auto_now=True)),
                ("started", models.DateTimeField(blank=True, null=True)),
                ("finished", models.DateTimeField(blank=True, db_index=True, null=True)),
                (
                    "requested_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-created"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("requested_by", "idempotency_key"),
                        name="job_unique_idempotency_key",
                        violation_error_message="This Idempotency-Key was already used.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("status__in", ["queued", "running", "succeeded", "failed"])),
                        name="job_status_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("kind__in", ["program-enrollments", "program-course-enrollments", "transfer"])
                        ),
                        name="job_kind_valid",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="JobResult",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("position", models.PositiveIntegerField()),
                ("student_key", models.CharField(max_length=255)),
                ("status", models.CharField(max_length=32)),
                ("detail", models.TextField(blank=True)),
                (
                    "job",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="results",
                        to="program_enrollments.job",
                    ),
                ),
            ],
            options={
                "ordering": ["job", "position"],
                "constraints": [
                    models.UniqueConstraint(fields=("job", "position"), name="job_result_unique_position"),
                ],
            },
        ),
    ]
