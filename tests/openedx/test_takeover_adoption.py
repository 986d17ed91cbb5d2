"""The documented procedure, end to end, in the harness LMS: built-in app in use, takeover, migrate.

In fresh processes on a private copy of the stand-in platform tree and a database of its own:

1. the LMS before our package is installed migrates the built-in app (0001...0012) and is filled
   with built-in data, including every shape our rules forbid (``seed_builtin.seed``);
2. the takeover (``program_enrollments.openedx.takeover``) is applied to the tree, as the Tutor
   plugin does at build time;
3. the LMS, now with our app, fills its catalog cache (``cache_programs``), passes ``check``
   and migrates: migration 0013 adopts the tables; the CMS passes ``check`` too.

Then nothing is lost, every forbidden shape is resolved and reported, and the audit is clean.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from program_enrollments.openedx import takeover

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
PLATFORM_ROOT = REPOSITORY_ROOT / "tests" / "openedx_host" / "platform"
MANAGE = REPOSITORY_ROOT / "tests" / "openedx_host" / "manage.py"

SEED = """
import json, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from tests.openedx_host.seed_builtin import seed
print(json.dumps(seed(), default=str))
"""

ADOPT = """
import io, json, django
django.setup()
from openedx_harness.catalog import cache_programs
from tests.openedx_host.seed_builtin import catalog_programs
cache_programs(catalog_programs())
from django.core.management import call_command
out = io.StringIO()
call_command("check", stdout=out)
call_command("migrate", stdout=out)
from program_enrollments import api
from program_enrollments.models import (
    AdoptionRecord, CourseAccessRoleAssignment, ProgramCourseEnrollment, ProgramEnrollment,
)
report = api.audit_program_enrollments()
print(json.dumps({
    "migrate": out.getvalue(),
    "pe": {row.id: [row.user_id, row.external_user_key, row.status, row.learner_ref]
           for row in ProgramEnrollment.objects.all()},
    "pce": {row.id: [row.program_enrollment_id, row.status, row.course_enrollment_id, str(row.course_key)]
            for row in ProgramCourseEnrollment.objects.all()},
    "cara": list(CourseAccessRoleAssignment.objects.values_list("id", flat=True)),
    "hpe": list(ProgramEnrollment.history.values_list("history_id", flat=True)),
    "hpce": list(ProgramCourseEnrollment.history.values_list("history_id", flat=True)),
    "records": [[r.table, r.row_id, r.action, r.kept_row_id, r.reason] for r in AdoptionRecord.objects.all()],
    "audit": [[f.kind, f.detail, f.course_enrollment_id, f.user_id, f.course_key] for f in report.unresolved],
}, default=str))
"""

# What the platform's callers of the built-in app ask (OPENEDX-NOTES section 4), asked through
# ``lms.djangoapps.program_enrollments.api`` and the ORM reverse names: the built-in app before the
# takeover, the compatibility package after it. Keys are strings so that the answers compare as JSON.
CALLERS = """
import json, django
django.setup()
from django.contrib.auth import get_user_model
from django.db.models import Prefetch
from common.djangoapps.student.models import CourseEnrollment
from lms.djangoapps.program_enrollments import api
from lms.djangoapps.program_enrollments.models import ProgramCourseEnrollment

def ordered(rows):
    return sorted(rows, key=json.dumps)

def courses(enrollment):
    return sorted(str(row.course_key) for row in enrollment.program_course_enrollments.all())

answers = {key: {} for key in ("gradebook", "external_key", "bulk_grades", "teams", "by_student_user",
                               "by_student_key", "dashboard", "grades_v2")}
keys = ProgramCourseEnrollment.objects.values_list("program_enrollment__external_user_key", flat=True)
for key in sorted(set(keys) - {None}):
    # gradebook_views.py and grades v2 filters.py: the user_contains filter.
    matching = CourseEnrollment.objects.filter(
        programcourseenrollment__program_enrollment__external_user_key__icontains=key)
    answers["gradebook"][key] = sorted(set(matching.values_list("id", flat=True)))
    # support/views/program_enrollments.py
    found = api.fetch_program_enrollments_by_student(external_user_key=key)
    answers["by_student_key"][key] = ordered(
        [str(pe.program_uuid), pe.user_id, pe.status, courses(pe)]
        for pe in found.prefetch_related("program_course_enrollments"))
enrollments = CourseEnrollment.objects.select_related("user").order_by("id")
for ce in enrollments.prefetch_related("programcourseenrollment_set"):
    # gradebook_views.py: the learner's key in the course; bulk_grades/api.py: programcourseenrollment_set.
    answers["external_key"][str(ce.id)] = api.get_external_key_by_user_and_course(ce.user, ce.course_id)
    rows = ce.programcourseenrollment_set.all()
    answers["bulk_grades"][str(ce.id)] = rows.first().program_enrollment.external_user_key if rows.exists() else None
prefetch = Prefetch("programcourseenrollment_set",
                    queryset=ProgramCourseEnrollment.objects.select_related("program_enrollment"))
for ce in enrollments.prefetch_related(prefetch):
    # teams/csv.py
    rows = ce.programcourseenrollment_set.all()
    answers["teams"][str(ce.id)] = rows[0].program_enrollment.external_user_key if rows else None
    # grades/rest_api/v2/services.py
    found = api.fetch_program_course_enrollments_by_students(users=[ce.user], course_keys=[ce.course_id])
    answers["grades_v2"][str(ce.id)] = [
        [row.program_enrollment.user_id, row.program_enrollment.external_user_key]
        for row in found.select_related("program_enrollment").order_by("status", "-modified")]
for user in get_user_model().objects.order_by("id"):
    found = api.fetch_program_enrollments_by_student(user=user)
    answers["by_student_user"][str(user.id)] = ordered(
        [str(pe.program_uuid), pe.external_user_key, pe.status] for pe in found)
    for program in sorted({str(pe.program_uuid) for pe in found}):
        # learner_dashboard/utils.py
        try:
            answer = api.get_program_enrollment(program_uuid=program, user=user).external_user_key
        except Exception as error:
            answer = type(error).__name__
        answers["dashboard"][f"{user.id} {program}"] = answer
print(json.dumps(answers, default=str))
"""

BUILTIN_HISTORY = """
import json, django
django.setup()
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("SELECT history_id FROM program_enrollments_historicalprogramenrollment")
    hpe = [row[0] for row in cursor.fetchall()]
    cursor.execute("SELECT history_id FROM program_enrollments_historicalprogramcourseenrollment")
    hpce = [row[0] for row in cursor.fetchall()]
print(json.dumps({"hpe": hpe, "hpce": hpce}))
"""


@pytest.fixture
def private_database(django_db_blocker):
    """``DATABASE_URL`` of a database of this test's own (dropped at the end); None on SQLite (a file)."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        yield None
        return
    from django.db import connection

    name = f"pe_takeover_{uuid.uuid4().hex[:8]}"
    quoted = connection.ops.quote_name(name)
    create = f"CREATE DATABASE {quoted}"
    if connection.vendor == "mysql":
        create += " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    with django_db_blocker.unblock(), connection._nodb_cursor() as cursor:
        cursor.execute(create)
    try:
        yield url.rsplit("/", 1)[0] + "/" + name
    finally:
        with django_db_blocker.unblock(), connection._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {quoted}")


def _run(code_or_args, *, root, tmp_path, database_url, hidden_plugins, manage=False):
    environ = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "OPENEDX_HOST_WITHOUT_PLUGINS", "PYTHONPATH", "DJANGO_SETTINGS_MODULE"}
    }
    environ.update(
        PYTHONPATH=os.pathsep.join([str(root), str(REPOSITORY_ROOT)]),
        OPENEDX_HOST_PLATFORM_ROOT=str(root),
        OPENEDX_HOST_WITHOUT_PLUGINS=hidden_plugins,
        OPENEDX_HOST_VAR_DIR=str(tmp_path / "var"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
    )
    if database_url:
        environ["DATABASE_URL"] = database_url
    if manage:
        command = [sys.executable, str(MANAGE), *code_or_args]
    else:
        environ["DJANGO_SETTINGS_MODULE"] = "lms.envs.test"
        command = [sys.executable, "-c", code_or_args]
    result = subprocess.run(command, cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return result.stdout


def _last_json(output):
    return json.loads(output.strip().splitlines()[-1])


def test_the_documented_takeover_adopts_built_in_data_with_nothing_lost(tmp_path, private_database):
    root = tmp_path / "edx-platform"
    shutil.copytree(PLATFORM_ROOT, root, ignore=shutil.ignore_patterns("__pycache__"))
    run = {"root": root, "tmp_path": tmp_path, "database_url": private_database}

    # 1. The LMS as operators run it today: the built-in app, full of data.
    seeded = _last_json(_run(SEED, hidden_plugins="program_enrollments_plugin", **run))
    history = _last_json(_run(BUILTIN_HISTORY, hidden_plugins="program_enrollments_plugin", **run))
    builtin_answers = _last_json(_run(CALLERS, hidden_plugins="program_enrollments_plugin", **run))

    # 2. The takeover, as the Tutor plugin runs it on the source tree.
    report = takeover.apply(root)
    assert report.changed
    assert (root / "lms" / "djangoapps" / "program_enrollments" / "TAKEOVER.txt").exists()

    # 3. The LMS with our app and nothing hidden: it starts, checks, migrates; so does the CMS.
    output = _run(ADOPT, hidden_plugins="", **run)
    after = _last_json(output)
    _run(["cms", "check"], hidden_plugins="", manage=True, **run)
    our_answers = _last_json(_run(CALLERS, hidden_plugins="", **run))

    assert "Applying program_enrollments.0013_create_or_adopt... OK" in after["migrate"]
    assert "Adopted Open edX's program enrollment tables" in output  # the migration's summary
    records = {(table, row_id): (action, kept) for table, row_id, action, kept, _reason in after["records"]}
    archived = {
        table: {row for (t, row), (action, _) in records.items() if t == table and action == "archived"}
        for table in ("programenrollment", "programcourseenrollment", "courseaccessroleassignment")
    }
    counts = seeded["counts"]
    live_pe, live_pce = {int(k) for k in after["pe"]}, {int(k) for k in after["pce"]}

    # Nothing lost: every row is live or archived whole; no history row is gone.
    assert len(live_pe) + len(archived["programenrollment"]) == counts["program_enrollments_programenrollment"]
    assert (
        len(live_pce) + len(archived["programcourseenrollment"])
        == counts["program_enrollments_programcourseenrollment"]
    )
    assert (
        len(after["cara"]) + len(archived["courseaccessroleassignment"])
        == counts["program_enrollments_courseaccessroleassignment"]
    )
    assert set(history["hpe"]) <= set(after["hpe"])
    assert set(history["hpce"]) <= set(after["hpce"])
    assert not live_pe & archived["programenrollment"]

    shapes = seeded["shapes"]
    for label in ("same_key_two_curricula", "case_variant_keys", "user_several_curricula"):
        for group in shapes[label]["groups"]:
            ids = set(group["program_enrollment_ids"])
            kept = ids & live_pe
            assert len(kept) == 1, (label, group)
            for loser in ids - kept:
                assert records[("programenrollment", loser)] == ("archived", next(iter(kept)))
    for label in ("two_active_by_user", "two_active_by_org_key"):
        for group in shapes[label]["groups"]:
            statuses = [after["pce"][str(pce)][1] for pce in group["program_course_enrollment_ids"]]
            assert statuses.count("active") == 1, (label, group, statuses)
            assert any(
                records.get(("programcourseenrollment", pce), ("",))[0] == "deactivated"
                for pce in group["program_course_enrollment_ids"]
            )
    for group in shapes["waiting_pce_with_course_enrollment"]["groups"]:
        for pce in group["program_course_enrollment_ids"]:
            enrollment_id, status, course_enrollment, _course = after["pce"][str(pce)]
            user_id = after["pe"][str(enrollment_id)][0]
            assert course_enrollment is None or user_id is not None
            assert (
                records[("programcourseenrollment", pce)][0] == "detached"
                or records.get(("programenrollment", enrollment_id), ("",))[0] == "linked"
            )
    for group in shapes["pe_without_user_or_key"]["groups"]:
        assert set(group["program_enrollment_ids"]) <= archived["programenrollment"]
    assert any(action == "unknown-program" for action, _ in records.values())

    # Untouched controls: the same key in another organization is another learner, still active.
    for group in seeded["controls"]["same_key_other_organization"]["groups"]:
        statuses = [after["pce"][str(pce)][1] for pce in group["program_course_enrollment_ids"]]
        assert statuses.count("active") == len(statuses)

    assert after["audit"] == [], (after["audit"], seeded["shapes"], after["records"])

    # The platform's callers get what the built-in app gave them, wherever the adoption changed
    # nothing: every answer about a learner, key or course enrollment outside the forbidden shapes.
    touched_users, touched_keys, touched_enrollments = set(), set(), set()
    for shape in shapes.values():
        for group in shape["groups"]:
            touched_users.update(str(user) for user in group["user_ids"])
            touched_keys.update(key.casefold() for key in group["external_user_keys"])
            touched_enrollments.update(str(ce) for ce in group["course_enrollment_ids"])
    compared = 0
    for question, answers in builtin_answers.items():
        for subject, answer in answers.items():
            if (
                subject.split(" ")[0] in touched_users | touched_enrollments
                or subject.casefold() in touched_keys
                or any(str(key).casefold() in touched_keys for key in _strings(answer))
            ):
                continue
            assert our_answers[question].get(subject) == answer, (question, subject)
            compared += 1
    assert compared >= 40, compared
    assert set(our_answers) == set(builtin_answers)


def _strings(value):
    if isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif value is not None:
        yield value
