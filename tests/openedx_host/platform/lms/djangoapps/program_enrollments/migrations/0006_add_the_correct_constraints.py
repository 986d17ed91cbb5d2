"""
Mirrors the platform migration ``program_enrollments/0006_add_the_correct_constraints``.

Replaces 0003's key with the two that stand at 0012: (user, program_uuid, curriculum_uuid) and
(external_user_key, program_uuid, curriculum_uuid).
"""

from django.conf import settings
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("program_enrollments", "0005_canceled_not_withdrawn"),
    ]

    operations = [
        migrations.AlterUniqueTogether(
            name="programenrollment",
            unique_together={
                ("user", "program_uuid", "curriculum_uuid"),
                ("external_user_key", "program_uuid", "curriculum_uuid"),
            },
        ),
    ]
