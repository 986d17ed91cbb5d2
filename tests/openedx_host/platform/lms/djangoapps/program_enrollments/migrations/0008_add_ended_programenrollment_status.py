"""
Mirrors the platform migration ``program_enrollments/0008_add_ended_programenrollment_status``.

Adds the status choice ``ended`` to ProgramEnrollment and its history (no DDL).
"""

from django.db import migrations, models

_STATUSES = [
    ("enrolled", "enrolled"),
    ("pending", "pending"),
    ("suspended", "suspended"),
    ("canceled", "canceled"),
    ("ended", "ended"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("program_enrollments", "0007_waiting_programcourseenrollment_constraint"),
    ]

    operations = [
        migrations.AlterField(
            model_name="historicalprogramenrollment",
            name="status",
            field=models.CharField(choices=_STATUSES, max_length=9),
        ),
        migrations.AlterField(
            model_name="programenrollment",
            name="status",
            field=models.CharField(choices=_STATUSES, max_length=9),
        ),
    ]
