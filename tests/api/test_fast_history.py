"""History of the set-wise writes: the rows django-simple-history would write, copied by the database.

The writers copy each written row into its history table with ``INSERT … SELECT``
(``api/_history.py``). These tests compare every history row a write adds with the one
``bulk_history_create`` builds from the same row (tracked fields, user, reason, type,
date), and follow random sequences of writes: after each, every row's last history row
is the row as it is, and each row the write changed or created has exactly one new one.
"""

from __future__ import annotations

import random
from types import SimpleNamespace
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from simple_history.models import HistoricalRecords

from program_enrollments import api
from program_enrollments.api import _history
from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment
from tests.api.helpers import enroll, enroll_course
from tests.factories import SSOIdentityFactory, UserFactory

pytestmark = pytest.mark.django_db

MODELS = (ProgramEnrollment, ProgramCourseEnrollment)
# What a history row says, beside its id.
META = ("history_user_id", "history_change_reason", "history_type", "history_date")


def _last_history_ids():
    return {
        model: model.history.model.objects.order_by("-history_id").values_list("history_id", flat=True).first() or 0
        for model in MODELS
    }


def _row(history_row, model):
    fields = [field.attname for field in model.history.model.tracked_fields]
    return {name: getattr(history_row, name) for name in (*fields, *META)}


def _what_simple_history_writes(model, instances, *, update, actor, reason):
    """The history rows ``bulk_history_create`` builds for ``instances``, built but not saved."""
    built = []
    with mock.patch.object(
        model.history.model.objects, "bulk_create", side_effect=lambda rows, **_: built.extend(rows)
    ):
        for instance in instances:
            model.history.bulk_history_create(
                [instance],
                update=update,
                default_user=actor,
                default_change_reason=reason,
                default_date=instance.modified,
            )
    return built


def _check_new_history(since, *, actor, reason):
    """Every history row added since ``since`` is the one simple-history writes for its row as it is now."""
    added = 0
    for model in MODELS:
        new = list(model.history.model.objects.filter(history_id__gt=since[model]).order_by("id", "history_id"))
        live = model.objects.in_bulk([row.id for row in new])
        for history_row in new:
            (expected,) = _what_simple_history_writes(
                model, [live[history_row.id]], update=history_row.history_type == "~", actor=actor, reason=reason
            )
            assert _row(history_row, model) == _row(expected, model)
        added += len(new)
    return added


@pytest.fixture
def learners(catalog):
    """Realized learners r1, r2 (SSO identities at GTx) and waiting learners w1, w2."""
    for key in ("r1", "r2"):
        SSOIdentityFactory(student_key=key, user=UserFactory(username=f"user-{key}"))
    return ["r1", "r2", "w1", "w2"]


def test_each_write_adds_the_history_rows_simple_history_writes(catalog, learners):
    actor = UserFactory(username="registrar")
    steps = [
        lambda: enroll(catalog.CYBERSECURITY, learners, actor=actor, reason="upload"),
        lambda: enroll(catalog.CYBERSECURITY, learners[:3], status="pending", actor=actor, reason="upload"),
        lambda: enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, learners, actor=actor, reason="upload"),
        lambda: api.write_program_course_enrollments(
            program_uuid=catalog.CYBERSECURITY,
            course_key=catalog.SHARED_COURSE,
            requests=[{"student_key": "r1", "status": "inactive", "course_staff": True}]
            + [{"student_key": key, "status": "active", "course_staff": True} for key in learners[1:]],
            create=True,
            update=True,
            actor=actor,
            reason="upload",
        ),
        lambda: enroll_course(
            catalog.CYBERSECURITY,
            catalog.SECOND_SHARED_COURSE,
            learners,
            status="inactive",
            actor=actor,
            reason="upload",
        ),
        lambda: enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, learners, actor=actor, reason="upload"),
    ]
    for step in steps:
        since = _last_history_ids()
        step()
        assert _check_new_history(since, actor=actor, reason="upload")


def test_linking_adds_the_history_rows_simple_history_writes(catalog):
    actor = UserFactory(username="support")
    keys = [f"k{index}" for index in range(3)]
    enroll(catalog.CYBERSECURITY, keys)
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, keys)
    enroll_course(catalog.CYBERSECURITY, catalog.SECOND_SHARED_COURSE, keys, status="inactive")
    users = [UserFactory(username=f"linked-{key}") for key in keys]
    since = _last_history_ids()
    api.link_program_enrollments(
        program_uuid=catalog.CYBERSECURITY,
        usernames_by_student_key={key: user.username for key, user in zip(keys, users, strict=True)},
        actor=actor,
    )
    assert _check_new_history(since, actor=actor, reason="Linked to a user") == 3 + 6


def test_linking_keeps_each_deactivated_rows_own_reason(catalog):
    """One key in two organizations' programs: two learners, both active, until linked to one account."""
    user = UserFactory(username="u-link")
    for program in (catalog.CYBERSECURITY, catalog.MIT):
        enroll(program, ["k-1"])
        enroll_course(program, catalog.SHARED_COURSE, ["k-1"])
    for program in (catalog.CYBERSECURITY, catalog.MIT):
        api.link_program_enrollments(program_uuid=program, usernames_by_student_key={"k-1": user.username})
    first = ProgramCourseEnrollment.objects.get(program_enrollment__program_uuid=catalog.CYBERSECURITY)
    loser = ProgramCourseEnrollment.objects.get(program_enrollment__program_uuid=catalog.MIT)
    assert (first.status, loser.status) == ("active", "inactive")
    reasons = list(loser.history.order_by("history_id").values_list("status", "history_change_reason"))
    assert reasons[-2:] == [
        (
            "inactive",
            f"Deactivated on linking: the learner was already active in {catalog.SHARED_COURSE} "
            f"through program enrollment {first.program_enrollment_id}.",
        ),
        ("inactive", "Linked to a user"),
    ]


def test_record_takes_each_instances_reason_and_the_requests_user(catalog):
    enroll(catalog.CYBERSECURITY, ["a", "b"])
    rows = list(ProgramEnrollment.objects.order_by("id"))
    rows[0]._change_reason = "its own"
    requester = get_user_model().objects.create(username="requester")
    HistoricalRecords.context.request = SimpleNamespace(user=requester)
    try:
        _history.record(ProgramEnrollment, rows, created=False, actor=None, reason="shared", when=timezone.now())
    finally:
        del HistoricalRecords.context.request
    latest = {
        row.id: (row.history_change_reason, row.history_user_id, row.history_type)
        for row in ProgramEnrollment.history.filter(history_type="~")
    }
    assert latest == {rows[0].id: ("its own", requester.id, "~"), rows[1].id: ("shared", requester.id, "~")}


def test_record_leaves_instances_with_their_own_author_to_simple_history(catalog):
    enroll(catalog.CYBERSECURITY, ["a"])
    row = ProgramEnrollment.objects.get()
    author = UserFactory(username="author")
    row._history_user = author
    _history.record(ProgramEnrollment, [row], created=False, actor=None, reason="why", when=timezone.now())
    assert ProgramEnrollment.history.filter(history_type="~").get().history_user == author


def _state(model):
    fields = [field.attname for field in model.history.model.tracked_fields]
    return {row["id"]: row for row in model.objects.values(*fields)}


@pytest.mark.parametrize("seed", range(4))
def test_random_writes_leave_one_history_row_per_change(catalog, learners, seed):
    """After each write, every changed or new row has one new history row, and it is the row as it is."""
    rng = random.Random(seed)
    programs = [catalog.CYBERSECURITY, catalog.OTHER]
    courses = [catalog.SHARED_COURSE, catalog.SECOND_SHARED_COURSE]
    for key in learners:
        enroll(catalog.CYBERSECURITY, [key])
        enroll(catalog.OTHER, [key])
    for _ in range(20):
        before = {model: _state(model) for model in MODELS}
        since = _last_history_ids()
        keys = rng.sample(learners, rng.randint(1, len(learners)))
        if rng.random() < 0.3:
            enroll(rng.choice(programs), keys, status=rng.choice(["enrolled", "pending", "suspended"]))
        else:
            api.write_program_course_enrollments(
                program_uuid=rng.choice(programs),
                course_key=rng.choice(courses),
                requests=[
                    {"student_key": key, "status": rng.choice(["active", "inactive"])}
                    | ({"course_staff": rng.random() < 0.5} if rng.random() < 0.3 else {})
                    for key in keys
                ],
                create=True,
                update=True,
            )
        for model in MODELS:
            after = _state(model)
            changed = {row_id for row_id, row in after.items() if before[model].get(row_id) != row}
            new = model.history.model.objects.filter(history_id__gt=since[model])
            assert sorted(new.values_list("id", flat=True)) == sorted(changed)
            for history_row in new:
                assert {name: getattr(history_row, name) for name in after[history_row.id]} == after[history_row.id]
