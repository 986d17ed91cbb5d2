"""The history tables keep the author of each change without a foreign-key constraint.

Every history row of a write by a person names that person (``history_user``). As a
foreign-key constraint, each such row costs a lookup of the user when the transaction
commits (PostgreSQL checks the app's foreign keys at commit): a REST batch of 1000 program
course enrollments paid about 12 ms of its commit for it on PostgreSQL, the same order as
inserting the rows. The column, its index and Django's ``on_delete=SET_NULL`` (applied when
a user is deleted through Django) stay; only the database's check goes. History is an
audit trail: the author's id is kept as it was written.

django-simple-history's ``user_db_constraint=False``; the other columns of the history
tables that name rows (the enrollment, the course enrollment) already have no constraint.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("program_enrollments", "0020_unused_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="historicalprogramcourseenrollment",
            name="history_user",
            field=models.ForeignKey(
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="historicalprogramenrollment",
            name="history_user",
            field=models.ForeignKey(
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
    ]
