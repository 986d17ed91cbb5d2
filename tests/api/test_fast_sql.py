"""The plain-SQL write path (``api/_sql.py``) on values that SQL and array literals treat specially."""

from __future__ import annotations

import pytest

from program_enrollments.api import _sql
from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment
from tests import hosts
from tests.api.helpers import enroll, enroll_course
from tests.factories import SSOIdentityFactory, UserFactory

pytestmark = pytest.mark.django_db

# Quotes, backslashes, array punctuation, the word NULL, spaces, non-ASCII: each one learner.
KEYS = ['a"b', "c\\d", "NULL", "x,y", "{z}", " spaced ", "it's", "ключ-1", "ＡＢＣ", 'e\\\\"f', "()"]


def test_student_keys_go_in_and_are_found_again_as_they_were(catalog):
    assert enroll(catalog.CYBERSECURITY, KEYS) == dict.fromkeys(KEYS, "enrolled")
    assert set(ProgramEnrollment.objects.values_list("external_user_key", flat=True)) == set(KEYS)
    # Found again (not created twice) by the same keys, and by the keys in another case.
    assert enroll(catalog.CYBERSECURITY, [key.upper() for key in KEYS], status="pending") == {
        key.upper(): "pending" for key in KEYS
    }
    assert ProgramEnrollment.objects.count() == len(KEYS)
    assert enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, KEYS) == dict.fromkeys(KEYS, "active")
    assert enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, KEYS, status="inactive") == dict.fromkeys(
        KEYS, "inactive"
    )
    assert set(ProgramCourseEnrollment.objects.values_list("status", flat=True)) == {"inactive"}


def test_realized_learners_with_such_keys_get_their_accounts(catalog):
    # The Open edX backend finds SAML identities with SQL's lower(), not NFKC folding: there the
    # fullwidth key is left out (a known gap of that backend).
    keys = KEYS if hosts.is_standalone() else [key for key in KEYS if key != "ＡＢＣ"]
    users = {
        key: SSOIdentityFactory(student_key=key, user=UserFactory(username=f"u{n}")).user for n, key in enumerate(keys)
    }
    enroll(catalog.CYBERSECURITY, keys)
    assert dict(ProgramEnrollment.objects.values_list("external_user_key", "user")) == {
        key: user.id for key, user in users.items()
    }


def test_insert_passes_a_column_of_one_value_once_and_the_others_per_row(catalog):
    enroll(catalog.CYBERSECURITY, ["a", "b"])
    enrollments = list(ProgramEnrollment.objects.order_by("id").values_list("id", "learner_ref"))
    stamp = _sql.timestamp(ProgramEnrollment.objects.first().created)
    rows = [
        (stamp, stamp, enrollment_id, catalog.SHARED_COURSE, "inactive", index == 0, None, "none", ref)
        for index, (enrollment_id, ref) in enumerate(enrollments)
    ]
    created = _sql.insert(
        ProgramCourseEnrollment,
        [
            "created",
            "modified",
            "program_enrollment",
            "course_key",
            "status",
            "course_staff",
            "prior_is_active",
            "access_grant",
            "learner_ref",
        ],
        rows,
        [_sql.TIMESTAMP, _sql.TIMESTAMP, _sql.BIGINT, _sql.TEXT, _sql.TEXT, _sql.BOOLEAN, _sql.BOOLEAN]
        + [_sql.TEXT, _sql.TEXT],
        returning=("id", "program_enrollment"),
        lookup=lambda: list(ProgramCourseEnrollment.objects.values_list("id", "program_enrollment")),
    )
    assert sorted(enrollment_id for _, enrollment_id in created) == [enrollment_id for enrollment_id, _ in enrollments]
    assert list(
        ProgramCourseEnrollment.objects.order_by("program_enrollment").values_list(
            "course_staff", "prior_is_active", "learner_ref"
        )
    ) == [(True, None, enrollments[0][1]), (False, None, enrollments[1][1])]


def test_update_rows_gives_each_row_its_values(catalog):
    enroll(catalog.CYBERSECURITY, ["a", "b", "c"])
    ids = list(ProgramEnrollment.objects.order_by("id").values_list("id", flat=True))
    changed = _sql.update_rows(
        ProgramEnrollment,
        ["status", "external_user_key"],
        {ids[0]: ("ended", 'q"uote'), ids[1]: ("pending", "back\\slash")},
        [_sql.TEXT, _sql.TEXT],
        same={"curriculum_uuid": _sql.prep(ProgramEnrollment, "curriculum_uuid", catalog.OTHER_CURRICULUM)},
    )
    assert changed == 2
    assert list(
        ProgramEnrollment.objects.order_by("id").values_list("status", "external_user_key", "curriculum_uuid")
    ) == [
        ("ended", 'q"uote', catalog.OTHER_CURRICULUM),
        ("pending", "back\\slash", catalog.OTHER_CURRICULUM),
        ("enrolled", "c", catalog.CYBERSECURITY_CURRICULUM),
    ]


@pytest.mark.parametrize(
    "values",
    [
        [1, 2, 3],
        [None, 4, None],
        [None, None],
        [True, False, None],
        ["plain", "text"],
        KEYS + [None],
        [],
    ],
    ids=["ints", "ints-and-nulls", "nulls", "booleans", "plain-text", "awkward-text", "empty"],
)
def test_array_literals_come_back_as_the_values_they_were_built_from(values):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("array literals are PostgreSQL's: the other databases take one placeholder per value")
    kinds = {type(value) for value in values} - {type(None)}
    cast = "boolean" if kinds == {bool} else "bigint" if kinds == {int} else "text"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT %s::{cast}[]", [_sql.array_literal(values)])
        assert cursor.fetchone()[0] == values


def test_in_parts_splits_only_where_the_placeholders_would_pass_the_limit(catalog, monkeypatch):
    from django.db import connection

    monkeypatch.setattr(connection.features, "max_query_params", 5)
    column = _sql.column(ProgramEnrollment, "external_user_key")
    parts = list(_sql.in_parts(column, ["a", "b", "c", "d", "e", "f", "g"], _sql.TEXT, other_params=2))
    if connection.vendor == "postgresql":
        assert len(parts) == 1  # one array parameter
    else:
        assert [params for _condition, params in parts] == [["a", "b", "c"], ["d", "e", "f"], ["g"]]
    # Integers are written into the statement: never split.
    assert len(list(_sql.in_parts(_sql.column(ProgramEnrollment, "id"), list(range(20)), _sql.BIGINT))) == 1
