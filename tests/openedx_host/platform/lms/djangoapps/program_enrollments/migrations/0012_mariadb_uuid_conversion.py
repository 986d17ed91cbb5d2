"""
Mirrors the platform migration ``program_enrollments/0012_mariadb_uuid_conversion``.

Django 5 maps UUIDField to MariaDB's native ``uuid`` type (MariaDB 10.7+) where it used ``char(32)``
before, and does not migrate existing columns itself. On MariaDB only, this converts the program and
curriculum UUID columns of ProgramEnrollment and its history table to ``uuid``; the reverse goes back to
``char(32)``. Every other database (MySQL included) is left alone.
"""

from django.db import migrations

_TABLES = ("program_enrollments_programenrollment", "program_enrollments_historicalprogramenrollment")
_COLUMNS = ("program_uuid", "curriculum_uuid")


def _is_mariadb(connection):
    if connection.vendor != "mysql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT VERSION()")
        (version,) = cursor.fetchone()
    return "mariadb" in version.lower()


def _modify_uuid_columns(schema_editor, column_type):
    if not _is_mariadb(schema_editor.connection):
        return
    with schema_editor.connection.cursor() as cursor:
        for table in _TABLES:
            for column in _COLUMNS:
                cursor.execute(f"ALTER TABLE {table} MODIFY {column} {column_type} NOT NULL")


def to_native_uuid(apps, schema_editor):
    _modify_uuid_columns(schema_editor, "uuid")


def back_to_char32(apps, schema_editor):
    _modify_uuid_columns(schema_editor, "char(32)")


class Migration(migrations.Migration):
    dependencies = [
        ("program_enrollments", "0011_auto_20230807_1905"),
    ]

    operations = [
        migrations.RunPython(code=to_native_uuid, reverse_code=back_to_char32),
    ]
