"""Learners for the benchmarks, made with set-wise SQL instead of the ORM.

A benchmark needs tens of thousands to a million rows, and the ORM would take
longer to make them than the scenarios take to run. Each function writes
whole cohorts with a few ``INSERT ... SELECT`` statements over a generated
series of numbers: ``generate_series`` on PostgreSQL, a cross join of digits on
MySQL/MariaDB, a recursive common table expression on SQLite.

The rows are the app's own: student keys are lower-case ASCII (so the folded
copy equals the key), and ``learner_ref`` is computed by the database with the
formula of ``program_enrollments.identity`` (``check_identity`` compares a
sample with it). A cohort's student keys are ``<prefix>-0000000`` and up; the
prefix must be new to the program.
"""

from __future__ import annotations

import hashlib

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.backends.signals import connection_created
from django.utils import timezone

from program_enrollments import conf, identity
from program_enrollments.constants import ProgramCourseEnrollmentStatus, ProgramEnrollmentStatus
from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment

# Rows per INSERT statement: large enough to be quick, small enough for MariaDB's undo log.
CHUNK = 100_000
# Digits of a student key's number: up to ten million learners per cohort.
KEY_DIGITS = 7
USERNAME_PREFIX = "bench-"
ORGANIZATION_KEY = "GTx"


def username(student_key: str) -> str:
    """The username of the account made for a learner."""
    return f"{USERNAME_PREFIX}{student_key}"


def student_keys(prefix: str, count: int) -> list[str]:
    """The student keys of a cohort, as the generated rows hold them."""
    return [f"{prefix}-{index:0{KEY_DIGITS}d}" for index in range(count)]


def prepare_connection() -> None:
    """Give SQLite the SHA-256 function the other databases have built in, on this and every new connection."""
    if connection.vendor == "sqlite":
        connection_created.connect(_add_sha256, dispatch_uid="benchmarks-sha256")
        if connection.connection is not None:
            _add_sha256(connection=connection)


def _add_sha256(sender=None, connection=None, **kwargs):
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "bench_sha256", 1, lambda text: hashlib.sha256(text.encode()).hexdigest(), deterministic=True
        )


def accounts(prefix: str, count: int) -> None:
    """Make an account per learner of the cohort (username ``bench-<student key>``), no password."""
    user = get_user_model()
    stamp = now()
    with connection.cursor() as cursor:
        for start, size in _chunks(count):
            numbers, numbers_params = _numbers(size)
            key = _student_key("numbers.n + %s")
            name = _concat("%s", key)
            email = _concat(name, "'@example.com'")
            cursor.execute(
                f"INSERT INTO {_table(user)} (password, is_superuser, username, first_name, last_name, email, "
                f"is_staff, is_active, date_joined) "
                f"SELECT '!', %s, {name}, '', '', {email}, %s, %s, %s "
                f"FROM {numbers}",
                [False, USERNAME_PREFIX, f"{prefix}-", start, USERNAME_PREFIX, f"{prefix}-", start]
                + [False, True, stamp]
                + numbers_params,
            )


def waiting_learners(
    prefix: str, count: int, *, program_uuid, curriculum_uuid, course_key: str | None = None
) -> list[str]:
    """Enroll a cohort of waiting learners (no account) in a program, active in ``course_key`` if given."""
    stamp = now()
    first_id = _last_id(ProgramEnrollment)
    reference = _concat("'" + identity.KEY_REF_PREFIX + "'", _sha256_hex(_concat("%s", "cohort.student_key")))
    with connection.cursor() as cursor:
        for start, size in _chunks(count):
            numbers, numbers_params = _numbers(size)
            cursor.execute(
                f"INSERT INTO {_table(ProgramEnrollment)} (created, modified, user_id, external_user_key, "
                f"external_user_key_normalized, program_uuid, curriculum_uuid, status, learner_ref) "
                f"SELECT %s, %s, NULL, cohort.student_key, cohort.student_key, %s, %s, %s, {reference} "
                f"FROM (SELECT {_student_key('numbers.n + %s')} AS student_key FROM {numbers}) AS cohort",
                [stamp, stamp, _uuid(program_uuid), _uuid(curriculum_uuid), ProgramEnrollmentStatus.ENROLLED]
                + [f"{ORGANIZATION_KEY.casefold()}\n"]
                + [f"{prefix}-", start]
                + numbers_params,
            )
    if course_key is not None:
        _course_rows(first_id, course_key, stamp)
    return student_keys(prefix, count)


def realized_learners(prefix: str, count: int, *, program_uuid, curriculum_uuid) -> list[str]:
    """Make accounts for a cohort and enroll them in a program, linked (realized), in no course yet."""
    user = get_user_model()
    first_user = _last_id(user)
    accounts(prefix, count)
    stamp = now()
    reference = _concat("'" + identity.USER_REF_PREFIX + "'", _text("id"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_table(ProgramEnrollment)} (created, modified, user_id, external_user_key, "
            f"external_user_key_normalized, program_uuid, curriculum_uuid, status, learner_ref) "
            f"SELECT %s, %s, id, SUBSTR(username, %s), SUBSTR(username, %s), %s, %s, %s, {reference} "
            f"FROM {_table(user)} WHERE id > %s ORDER BY id",
            [stamp, stamp, len(USERNAME_PREFIX) + 1, len(USERNAME_PREFIX) + 1]
            + [_uuid(program_uuid), _uuid(curriculum_uuid), ProgramEnrollmentStatus.ENROLLED, first_user],
        )
    return student_keys(prefix, count)


def check_identity(prefix: str, program_uuid) -> None:
    """Check that the generated identity of the cohort's first learner is the app's.

    Raises:
        RuntimeError: the database computed another learner_ref than ``identity.learner_ref``.
    """
    enrollment = ProgramEnrollment.objects.get(program_uuid=program_uuid, external_user_key=f"{prefix}-{0:07d}")
    expected = identity.learner_ref(
        user_id=enrollment.user_id, organization_key=ORGANIZATION_KEY, student_key=enrollment.external_user_key
    )
    if enrollment.learner_ref != expected:
        raise RuntimeError(f"generated learner_ref {enrollment.learner_ref!r}, the app's is {expected!r}")


def analyze() -> None:
    """Refresh the planner's statistics of every table the scenarios write, as autovacuum or a DBA's routine would."""
    from django.apps import apps

    course_enrollment = apps.get_model(conf.course_enrollment_model_label())
    models = (ProgramEnrollment, ProgramCourseEnrollment, get_user_model(), course_enrollment)
    tables = [_table(model) for model in models]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {', '.join(tables)}")
        elif connection.vendor == "mysql":
            cursor.execute(f"ANALYZE TABLE {', '.join(tables)}")
            cursor.fetchall()
        else:
            cursor.execute("ANALYZE")


def settle() -> None:
    """Leave the database as a maintained live database is between bursts of work, before the next scenario.

    A scenario's writes leave work behind them: dead row versions for autovacuum, dirty pages
    for the next checkpoint. Left alone, that work lands on whichever scenario runs next
    (after a transfer of 100,000 learners, the next round's first scenario). On PostgreSQL the
    written tables are vacuumed and analyzed and a checkpoint is taken (skipped without the
    right to take one); elsewhere the statistics are refreshed (``analyze``).
    """
    if connection.vendor != "postgresql":
        analyze()
        return
    from django.apps import apps
    from django.db import DatabaseError

    course_enrollment = apps.get_model(conf.course_enrollment_model_label())
    models = (
        ProgramEnrollment,
        ProgramCourseEnrollment,
        ProgramEnrollment.history.model,
        ProgramCourseEnrollment.history.model,
        get_user_model(),
        course_enrollment,
    )
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {', '.join(_table(model) for model in models)}")
    try:
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except DatabaseError:
        pass  # CHECKPOINT needs a superuser or pg_checkpoint: the server's own checkpoints then


def _course_rows(first_id: int, course_key: str, stamp) -> None:
    """An active course row for each program enrollment made after ``first_id`` (waiting: no course enrollment)."""
    grant = ProgramCourseEnrollment._meta.get_field("access_grant").default
    last_id = _last_id(ProgramEnrollment)
    with connection.cursor() as cursor:
        # A range of ids a statement, as the program enrollments were written.
        for low in range(first_id, last_id, CHUNK):
            cursor.execute(
                f"INSERT INTO {_table(ProgramCourseEnrollment)} (created, modified, program_enrollment_id, "
                f"course_enrollment_id, course_key, status, course_staff, access_grant, learner_ref) "
                f"SELECT %s, %s, id, NULL, %s, %s, %s, %s, learner_ref FROM {_table(ProgramEnrollment)} "
                f"WHERE id > %s AND id <= %s ORDER BY id",
                [stamp, stamp, str(course_key), ProgramCourseEnrollmentStatus.ACTIVE, False, grant, low, low + CHUNK],
            )


def _chunks(count: int):
    for start in range(0, count, CHUNK):
        yield start, min(CHUNK, count - start)


def _numbers(count: int) -> tuple[str, list]:
    """A derived table ``numbers`` with one column ``n``: 0 to count - 1."""
    if connection.vendor == "postgresql":
        return "generate_series(0, %s) AS numbers(n)", [count - 1]
    if connection.vendor == "mysql":
        digits = "(SELECT 0 AS d UNION ALL " + " UNION ALL ".join(f"SELECT {d}" for d in range(1, 10)) + ")"
        places = max(1, len(str(count - 1)))
        joined = " CROSS JOIN ".join(f"{digits} AS d{place}" for place in range(places))
        value = " + ".join(f"{10**place} * d{place}.d" for place in range(places))
        return f"(SELECT n FROM (SELECT {value} AS n FROM {joined}) AS digits WHERE n < %s) AS numbers", [count]
    series = "WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n + 1 < %s) SELECT n FROM seq"
    return f"({series}) AS numbers", [count]


def _student_key(number: str) -> str:
    """The SQL of ``<prefix param>`` followed by ``number`` zero-padded (the prefix is the first parameter)."""
    if connection.vendor == "postgresql":
        return f"%s || lpad(({number})::text, {KEY_DIGITS}, '0')"
    if connection.vendor == "mysql":
        return f"CONCAT(%s, LPAD({number}, {KEY_DIGITS}, '0'))"
    return f"%s || substr('{'0' * KEY_DIGITS}' || ({number}), -{KEY_DIGITS}, {KEY_DIGITS})"


def _sha256_hex(text: str) -> str:
    if connection.vendor == "postgresql":
        return f"encode(sha256(convert_to({text}, 'UTF8')), 'hex')"
    if connection.vendor == "mysql":
        return f"SHA2({text}, 256)"
    return f"bench_sha256({text})"


def _concat(*parts: str) -> str:
    if connection.vendor == "mysql":
        return f"CONCAT({', '.join(parts)})"
    return "(" + " || ".join(parts) + ")"


def _text(expression: str) -> str:
    return f"CAST({expression} AS {'CHAR' if connection.vendor == 'mysql' else 'TEXT'})"


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _uuid(value):
    return ProgramEnrollment._meta.get_field("program_uuid").get_db_prep_value(value, connection)


def now():
    """The current time, as the database takes it in a raw query."""
    return connection.ops.adapt_datetimefield_value(timezone.now())


def _last_id(model) -> int:
    last = model.objects.order_by("-pk").values_list("pk", flat=True).first()
    return last or 0
