"""
Mirrors the platform migration ``program_enrollments/0003_auto_20190424_1622``.

First unique key on ProgramEnrollment: (user, external_user_key, program_uuid, curriculum_uuid).
0006 replaces it with the two keys that stand at 0012.
"""

from django.conf import settings
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("program_enrollments", "0002_historicalprogramcourseenrollment_programcourseenrollment"),
    ]

    operations = [
        migrations.AlterUniqueTogether(
            name="programenrollment",
            unique_together={("user", "external_user_key", "program_uuid", "curriculum_uuid")},
        ),
    ]
