"""
Mirrors the platform migration ``program_enrollments/0010_add_courseaccessroleassignment``.

Creates CourseAccessRoleAssignment (a course role waiting for the learner of a program-course
enrollment to get an account), unique on (role, enrollment). It has no history table.
"""

import django.db.models.deletion
import django.utils.timezone
import model_utils.fields
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("program_enrollments", "0009_update_course_enrollment_field_to_foreign_key"),
    ]

    operations = [
        migrations.CreateModel(
            name="CourseAccessRoleAssignment",
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
                ("role", models.CharField(choices=[("staff", "staff")], max_length=64)),
                (
                    "enrollment",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        to="program_enrollments.ProgramCourseEnrollment",
                    ),
                ),
            ],
        ),
        migrations.AlterUniqueTogether(
            name="courseaccessroleassignment",
            unique_together={("role", "enrollment")},
        ),
    ]
