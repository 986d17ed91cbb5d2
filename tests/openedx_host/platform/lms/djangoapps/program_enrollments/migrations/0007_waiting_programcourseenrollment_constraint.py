"""
Mirrors the platform migration ``program_enrollments/0007_waiting_programcourseenrollment_constraint``.

ProgramCourseEnrollment becomes unique on (program_enrollment, course_key).
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("program_enrollments", "0006_add_the_correct_constraints"),
    ]

    operations = [
        migrations.AlterUniqueTogether(
            name="programcourseenrollment",
            unique_together={("program_enrollment", "course_key")},
        ),
    ]
