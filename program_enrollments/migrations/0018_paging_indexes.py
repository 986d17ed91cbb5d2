"""Indexes that the REST API's cursor pages read in order, so a page costs the same at any table size.

* ``pe_program_uuid_id`` on program enrollments (``program_uuid``, ``id``): a page of a
  program's enrollments (``WHERE program_uuid = ? AND id > ? ORDER BY id LIMIT ?``) is a range
  of this index, read from the cursor on, instead of every row of the program sorted by id.
* ``pce_course_key_id`` on program course enrollments (``course_key``, ``id``): the same for a
  page of a course run's enrollments and grades, each row's program checked through its
  program enrollment's primary key.

The plans are in docs/scale.rst. Adding an index creates it without rebuilding the table on
SQLite, so the app's triggers (migrations 0013 and 0015) are left as they are. PostgreSQL
blocks writes to the table (not reads) while it builds each index; MariaDB builds them online.
Both indexes over 1.1 million rows each took about 25 s on PostgreSQL and 35 s on MariaDB on a
busy two-core machine.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("program_enrollments", "0017_jobs"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="programenrollment",
            index=models.Index(fields=["program_uuid", "id"], name="pe_program_uuid_id"),
        ),
        migrations.AddIndex(
            model_name="programcourseenrollment",
            index=models.Index(fields=["course_key", "id"], name="pce_course_key_id"),
        ),
    ]
