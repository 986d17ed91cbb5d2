"""
Mirrors the platform migration ``program_enrollments/0005_canceled_not_withdrawn``.

The status choice ``withdrawn`` becomes ``canceled`` on ProgramEnrollment and its history (choices
only: existing rows are not rewritten, as on the platform).
"""

from django.db import migrations, models

_STATUSES = [
    ("enrolled", "enrolled"),
    ("pending", "pending"),
    ("suspended", "suspended"),
    ("canceled", "canceled"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("program_enrollments", "0004_add_programcourseenrollment_relatedname"),
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
