"""Bulk writes decide set-wise: their query count does not grow with the number of learners.

One exception, in the Open edX host only: its LMS backend writes realized learners' course enrollments
one learner at a time, through ``CourseEnrollment``'s own methods, so that the LMS's signals and events
fire as for any enrollment change (program_enrollments/openedx/backends.py). There, the steps that
enroll, deactivate or re-enroll realized learners cost a fixed number of queries plus the same number
per learner; everything else stays flat.
"""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from program_enrollments import api
from tests import hosts
from tests.api.helpers import enroll, enroll_course

pytestmark = pytest.mark.django_db

SIZES = (1, 100, 1000)
# The sizes where course enrollments are written one learner at a time (the Open edX host): small enough
# for Django's query log (9000 entries) to hold every query.
PER_LEARNER_SIZES = (1, 10, 100)


def sizes(realized=True):
    """The numbers of learners to compare (``realized``: whether the step writes their course enrollments)."""
    return PER_LEARNER_SIZES if realized and hosts.is_openedx() else SIZES


def assert_query_counts(counts, *, per_learner=()):
    """``counts``: ``{number of learners: {step: queries}}``. Each step costs the same at every size, but
    the ``per_learner`` steps in the Open edX host, which cost a fixed number of queries plus the same
    number per learner (see the module docstring)."""
    grows = set(per_learner) if hosts.is_openedx() else set()
    by_size = sorted(counts)
    flat = {size: {step: n for step, n in counts[size].items() if step not in grows} for size in by_size}
    assert all(flat[size] == flat[by_size[0]] for size in by_size), counts
    for step in sorted(grows):
        steps = [(size, counts[size][step]) for size in by_size]
        for (s0, c0), (s1, c1), (s2, c2) in zip(steps, steps[1:], steps[2:], strict=False):
            assert (c2 - c1) * (s1 - s0) == (c1 - c0) * (s2 - s1), (step, counts)
        assert len(steps) >= 3 and steps[-1][1] > steps[0][1], (step, counts)


def _learners(size, realized, prefix):
    keys = [f"{prefix}-{size}-{index}" for index in range(size)]
    if realized:
        users = get_user_model().objects.bulk_create(get_user_model()(username=f"u-{key}") for key in keys)
        hosts.add_sso_identities("GTx", dict(zip(keys, users, strict=True)))
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


# The steps that write realized learners' course enrollments.
ENROLLING_STEPS = ("course create", "course deactivate", "course activate")


@pytest.mark.parametrize("realized", [False, True], ids=["waiting", "realized"])
def test_bulk_write_query_counts_are_flat(catalog, realized):
    results = {size: _scenario(catalog, size, realized) for size in sizes(realized)}
    print(results)
    assert_query_counts(results, per_learner=ENROLLING_STEPS if realized else ())


def test_linking_query_count_is_flat(catalog):
    counts = {}
    for size in sizes():
        keys = [f"link-{size}-{index}" for index in range(size)]
        enroll(catalog.CYBERSECURITY, keys)
        enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, keys)
        users = get_user_model().objects.bulk_create(get_user_model()(username=f"lu-{key}") for key in keys)
        mapping = {key: user.username for key, user in zip(keys, users, strict=True)}
        counts[size] = {
            # Linking enrolls the newly realized learners in their active course.
            "link": _count(
                lambda mapping=mapping: api.link_program_enrollments(
                    program_uuid=catalog.CYBERSECURITY, usernames_by_student_key=mapping
                )
            )
        }
    print(counts)
    assert_query_counts(counts, per_learner=["link"])


def test_course_writes_with_mixed_target_states_are_flat(catalog):
    """Rows going to several states at once (status, staff role, course enrollment pointer): one
    statement per target state, and one for the rows whose course enrollment changes."""
    from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment

    counts = {}
    # Sizes where every target state occurs (the number of states, not of learners, sets the count).
    for size in (12, 24, 36) if hosts.is_openedx() else (12, 120, 960):
        keys = _learners(size, True, "mixed")
        enroll(catalog.CYBERSECURITY, keys)
        enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, keys[::2])
        # Rows written before course enrollments were recorded (adopted ones): no pointer yet.
        ProgramCourseEnrollment.objects.bulk_create(
            ProgramCourseEnrollment(program_enrollment=enrollment, course_key=catalog.SHARED_COURSE, status="inactive")
            for enrollment in ProgramEnrollment.objects.filter(external_user_key__in=keys[1::2])
        )
        requests = [
            {"student_key": key, "status": "inactive" if index % 2 == 0 else "active", "course_staff": index % 3 == 0}
            for index, key in enumerate(keys)
        ]
        counts[size] = {
            "mixed": _count(
                lambda requests=requests: api.write_program_course_enrollments(
                    program_uuid=catalog.CYBERSECURITY,
                    course_key=catalog.SHARED_COURSE,
                    requests=requests,
                    create=True,
                    update=True,
                )
            )
        }
        rows = dict(
            ProgramCourseEnrollment.objects.filter(program_enrollment__external_user_key__in=keys).values_list(
                "program_enrollment__external_user_key", "status"
            )
        )
        assert rows == {request["student_key"]: request["status"] for request in requests}
        assert not ProgramCourseEnrollment.objects.filter(
            program_enrollment__external_user_key__in=keys, course_enrollment__isnull=True
        ).exists()
    print(counts)
    assert_query_counts(counts, per_learner=["mixed"])
