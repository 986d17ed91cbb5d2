"""
Mirrors the platform migration ``program_enrollments/0004_add_programcourseenrollment_relatedname``.

Gives ProgramCourseEnrollment.program_enrollment the reverse name ``program_course_enrollments``
(no DDL).
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("program_enrollments", "0003_auto_20190424_1622"),
    ]

    operations = [
        migrations.AlterField(
            model_name="programcourseenrollment",
            name="program_enrollment",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="program_course_enrollments",
                to="program_enrollments.ProgramEnrollment",
            ),
        ),
    ]
