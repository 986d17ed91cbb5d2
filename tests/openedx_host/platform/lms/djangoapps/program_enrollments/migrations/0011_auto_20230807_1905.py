"""
Mirrors the platform migration ``program_enrollments/0011_auto_20230807_1905``.

The model options simple-history 3.x gives history models: ``get_latest_by`` on (history_date,
history_id) and a plural verbose name (no DDL).
"""

from django.db import migrations


def _history_options(verbose_name):
    return {
        "get_latest_by": ("history_date", "history_id"),
        "ordering": ("-history_date", "-history_id"),
        "verbose_name": verbose_name,
        "verbose_name_plural": f"{verbose_name}s",
    }


class Migration(migrations.Migration):
    dependencies = [
        ("program_enrollments", "0010_add_courseaccessroleassignment"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="historicalprogramcourseenrollment",
            options=_history_options("historical program course enrollment"),
        ),
        migrations.AlterModelOptions(
            name="historicalprogramenrollment",
            options=_history_options("historical program enrollment"),
        ),
    ]
