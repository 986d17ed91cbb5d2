"""Bulk writes decide set-wise: their query count does not grow with the number of learners."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from program_enrollments import api
from program_enrollments.standalone.lms.models import SSOIdentity
from tests.api.helpers import enroll, enroll_course

pytestmark = pytest.mark.django_db

SIZES = (1, 100, 1000)


def _learners(size, realized, prefix):
    keys = [f"{prefix}-{size}-{index}" for index in range(size)]
    if realized:
        users = get_user_model().objects.bulk_create(get_user_model()(username=f"u-{key}") for key in keys)
        SSOIdentity.objects.bulk_create(
            SSOIdentity(user=user, organization_key="GTx", student_key=key, student_key_normalized=key.casefold())
            for user, key in zip(users, keys, strict=True)
        )
    return keys


def _count(callable_, expect=None):
    with CaptureQueriesContext(connection) as queries:
        result = callable_()
    if expect is not None:
        statuses = set(result.values()) if isinstance(result, dict) else {o.status for o in result.outcomes}
        assert statuses == {expect}
    return len(queries)


def _scenario(catalog, size, realized):
    """Query counts of each step of a learner's life, for ``size`` learners at once."""
    keys = _learners(size, realized, "r" if realized else "w")
    counts = {}
    counts["program create"] = _count(lambda: enroll(catalog.CYBERSECURITY, keys), "enrolled")
    counts["program update"] = _count(lambda: enroll(catalog.CYBERSECURITY, keys, status="pending"), "pending")
    enroll(catalog.OTHER, keys)
    counts["course create"] = _count(
        lambda: enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, keys), "active"
    )
    counts["course conflicted"] = _count(
        lambda: enroll_course(catalog.OTHER, catalog.SHARED_COURSE, keys), "conflicted"
    )
    counts["course deactivate"] = _count(
        lambda: enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, keys, status="inactive"), "inactive"
    )
    counts["course activate"] = _count(lambda: enroll_course(catalog.OTHER, catalog.SHARED_COURSE, keys), "active")
    counts["transfer"] = _count(
        lambda: api.transfer_program_enrollments(
            from_program_uuid=catalog.OTHER,
            to_program_uuid=catalog.CYBERSECURITY,
            student_keys=keys,
            source_status="canceled",
        ),
        "transferred",
    )
    counts["read page"] = _count(
        lambda: list(api.fetch_program_course_enrollments(program_uuids=[catalog.CYBERSECURITY])[:size])
    )
    return counts


@pytest.mark.parametrize("realized", [False, True], ids=["waiting", "realized"])
def test_bulk_write_query_counts_are_flat(catalog, realized):
    results = {size: _scenario(catalog, size, realized) for size in SIZES}
    print({size: results[size] for size in SIZES})
    assert results[1] == results[100] == results[1000]


def test_linking_query_count_is_flat(catalog):
    counts = {}
    for size in SIZES:
        keys = [f"link-{size}-{index}" for index in range(size)]
        enroll(catalog.CYBERSECURITY, keys)
        enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, keys)
        users = get_user_model().objects.bulk_create(get_user_model()(username=f"lu-{key}") for key in keys)
        mapping = {key: user.username for key, user in zip(keys, users, strict=True)}
        counts[size] = _count(
            lambda mapping=mapping: api.link_program_enrollments(
                program_uuid=catalog.CYBERSECURITY, usernames_by_student_key=mapping
            )
        )
    assert counts[1] == counts[100] == counts[1000]
