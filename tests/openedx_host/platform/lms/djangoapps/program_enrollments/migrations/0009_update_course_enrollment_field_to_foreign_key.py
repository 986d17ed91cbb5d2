"""
Mirrors the platform migration ``program_enrollments/0009_update_course_enrollment_field_to_foreign_key``.

ProgramCourseEnrollment.course_enrollment goes from a OneToOne to a nullable FK: its unique index on
``course_enrollment_id`` becomes a plain one, so two program-course enrollments may share a course
enrollment from here on. The history table already held a plain FK copy.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("program_enrollments", "0008_add_ended_programenrollment_status"),
    ]

    operations = [
        migrations.AlterField(
            model_name="programcourseenrollment",
            name="course_enrollment",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                to="student.CourseEnrollment",
            ),
        ),
    ]
