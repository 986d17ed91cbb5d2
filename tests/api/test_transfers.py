"""Transfers move a learner's active courses to another program in one step, or not at all."""

import pytest

from program_enrollments import api
from program_enrollments.exceptions import InvalidRequest, ProgramDoesNotExist
from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment
from tests import hosts
from tests.api.helpers import enroll, enroll_course
from tests.factories import SSOIdentityFactory, UserFactory

pytestmark = pytest.mark.django_db

CourseEnrollment = hosts.course_enrollment_model()


def transfer(catalog, keys=None, **kwargs):
    kwargs.setdefault("from_program_uuid", catalog.CYBERSECURITY)
    kwargs.setdefault("to_program_uuid", catalog.OTHER)
    report = api.transfer_program_enrollments(student_keys=keys, **kwargs)
    return {outcome.student_key: outcome.status for outcome in report.outcomes}, report


@pytest.fixture
def learners(catalog):
    """Realized r1 and waiting w1, active in two Cybersecurity courses."""
    SSOIdentityFactory(student_key="r1", user=UserFactory(username="alice"))
    enroll(catalog.CYBERSECURITY, ["r1", "w1"])
    for course in (catalog.SHARED_COURSE, catalog.SECOND_SHARED_COURSE):
        enroll_course(catalog.CYBERSECURITY, course, ["r1", "w1"])
    return ["r1", "w1"]


def _active_programs():
    return sorted(
        (row.program_enrollment.external_user_key, str(row.course_key), str(row.program_enrollment.program_uuid))
        for row in ProgramCourseEnrollment.objects.filter(status="active").select_related("program_enrollment")
    )


def test_transfer_moves_active_courses_and_keeps_the_course_enrollment(catalog, learners):
    enrollment_before = CourseEnrollment.objects.get(user__username="alice", course_id=catalog.SHARED_COURSE)
    statuses, report = transfer(catalog, learners, source_status="canceled")
    assert statuses == {"r1": "transferred", "w1": "transferred"}
    assert report.outcomes[0].courses == tuple(sorted([catalog.SHARED_COURSE, catalog.SECOND_SHARED_COURSE]))
    assert {program for *_, program in _active_programs()} == {str(catalog.OTHER)}
    assert len(_active_programs()) == 4
    target_rows = ProgramCourseEnrollment.objects.filter(
        program_enrollment__program_uuid=catalog.OTHER, program_enrollment__external_user_key="r1"
    )
    assert {row.course_enrollment_id for row in target_rows} == set(
        CourseEnrollment.objects.filter(user__username="alice").values_list("id", flat=True)
    )
    enrollment_after = CourseEnrollment.objects.get(pk=enrollment_before.pk)
    assert (enrollment_after.is_active, enrollment_after.mode) == (True, "masters")
    sources = dict(
        ProgramEnrollment.objects.filter(program_uuid=catalog.CYBERSECURITY).values_list("external_user_key", "status")
    )
    assert sources == {"r1": "canceled", "w1": "canceled"}
    targets = ProgramEnrollment.objects.filter(program_uuid=catalog.OTHER)
    assert {(t.external_user_key, t.status, t.curriculum_uuid) for t in targets} == {
        ("r1", "enrolled", catalog.OTHER_CURRICULUM),
        ("w1", "enrolled", catalog.OTHER_CURRICULUM),
    }
    assert targets.get(external_user_key="r1").user.username == "alice"


def test_rerunning_a_finished_transfer_changes_nothing_and_says_so(catalog, learners):
    transfer(catalog, learners)
    history = ProgramCourseEnrollment.history.count(), ProgramEnrollment.history.count()
    statuses, _ = transfer(catalog, learners)
    assert statuses == {"r1": "already-transferred", "w1": "already-transferred"}
    assert (ProgramCourseEnrollment.history.count(), ProgramEnrollment.history.count()) == history


def test_dry_run_reports_and_writes_nothing(catalog, learners):
    before = _active_programs()
    statuses, _ = transfer(catalog, learners, dry_run=True)
    assert statuses == {"r1": "would-transfer", "w1": "would-transfer"}
    assert _active_programs() == before
    assert not ProgramEnrollment.objects.filter(program_uuid=catalog.OTHER).exists()


def test_transfer_of_chosen_courses_only(catalog, learners):
    transfer(catalog, ["w1"], course_keys=[catalog.SECOND_SHARED_COURSE])
    assert [entry for entry in _active_programs() if entry[0] == "w1"] == [
        ("w1", catalog.SHARED_COURSE, str(catalog.CYBERSECURITY)),
        ("w1", catalog.SECOND_SHARED_COURSE, str(catalog.OTHER)),
    ]


def test_learner_with_a_course_outside_the_target_is_left_untouched(catalog, learners):
    before = _active_programs()
    statuses, report = transfer(catalog, ["w1"], to_program_uuid=catalog.MIT)
    assert statuses == {"w1": "course-not-in-target"}
    assert catalog.SECOND_SHARED_COURSE in report.outcomes[0].detail
    assert _active_programs() == before


def test_unknown_learner_and_learner_without_courses(catalog, learners):
    enroll(catalog.CYBERSECURITY, ["idle"])
    statuses, _ = transfer(catalog, ["stranger", "idle", "W1", "w1"])
    assert statuses == {
        "stranger": "not-in-program",
        "idle": "nothing-to-transfer",
        "W1": "duplicated",
        "w1": "duplicated",
    }


def test_transfer_of_all_learners_in_small_chunks(catalog, learners):
    outcomes = list(
        api.iter_transfer_program_enrollments(
            from_program_uuid=catalog.CYBERSECURITY, to_program_uuid=catalog.OTHER, chunk_size=1
        )
    )
    assert sorted((outcome.student_key, outcome.status) for outcome in outcomes) == [
        ("r1", "transferred"),
        ("w1", "transferred"),
    ]


def test_target_enrollment_of_another_user_is_illegal(catalog, learners):
    ProgramEnrollment.objects.create(
        user=UserFactory(username="mallory"),
        external_user_key="r1",
        program_uuid=catalog.OTHER,
        curriculum_uuid=catalog.OTHER_CURRICULUM,
        status="enrolled",
    )
    statuses, _ = transfer(catalog, ["r1"])
    assert statuses == {"r1": "illegal-operation"}


def test_slot_held_through_a_third_program_is_conflicted(catalog):
    """A waiting learner of GTx moving into a MITx program, where the MITx key is active elsewhere."""
    enroll(catalog.CYBERSECURITY, ["k"])
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["k"])
    second, curriculum = "aaaaaaaa-0000-0000-0000-000000000001", "aaaaaaaa-0000-0000-0000-000000000002"
    # A second MITx program with the course runs of the first.
    hosts.add_programs(
        [
            catalog.program_document(
                second,
                title="Second MITx",
                organization_key="MITx",
                curricula=[catalog.curriculum_document(curriculum, [catalog.SHARED_COURSE])],
            )
        ]
    )
    api.write_program_enrollments(
        program_uuid=second,
        requests=[{"student_key": "k", "status": "enrolled", "curriculum_uuid": curriculum}],
        create=True,
        update=True,
    )
    api.write_program_course_enrollments(
        program_uuid=second,
        course_key=catalog.SHARED_COURSE,
        requests=[{"student_key": "k", "status": "active"}],
        create=True,
        update=True,
    )
    before = _active_programs()
    statuses, _ = transfer(catalog, ["k"], to_program_uuid=catalog.MIT)
    assert statuses == {"k": "conflicted"}
    assert _active_programs() == before


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"to_program_uuid": "509c2e6c-f4e2-5b32-bc77-5137159b0719"}, "must differ"),
        ({"to_curriculum_uuid": "8f6bcfd1-48ca-5ba6-ae52-0572a322788d"}, "is not a curriculum of program"),
        ({"course_keys": ["course-v1:GTx+CS6262+2020_Spring", "course-v1:GTx+LONE+2020_Spring"]}, "Not in program"),
        ({"course_keys": ["bad key"]}, "not a valid course key"),
        ({"source_status": "gone"}, "source_status must be one of"),
    ],
)
def test_bad_arguments_raise_before_writing(catalog, learners, kwargs, error):
    before = _active_programs()
    with pytest.raises(InvalidRequest, match=error):
        transfer(catalog, learners, **kwargs)
    assert _active_programs() == before


def test_unknown_program_raises(catalog):
    with pytest.raises(ProgramDoesNotExist):
        transfer(catalog, ["a"], to_program_uuid="00000000-0000-0000-0000-000000000000")


# --- one person, one slot; truthful outcomes ------------------------------------------------------


def _active_rows_of(user):
    return ProgramCourseEnrollment.objects.filter(status="active", course_enrollment__user=user)


def test_transfer_into_a_waiting_enrollment_of_the_same_key_links_it_to_the_learner(catalog):
    """After a per-program link, the target's enrollment of the key is still waiting: the move links it."""
    user = UserFactory(username="u6")
    enroll(catalog.CYBERSECURITY, ["Ab-06"])
    enroll(catalog.OTHER, ["ab-06"])
    api.link_program_enrollments(program_uuid=catalog.CYBERSECURITY, usernames_by_student_key={"Ab-06": "u6"})
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["Ab-06"])

    statuses, _ = transfer(catalog, ["Ab-06"])

    assert statuses == {"Ab-06": "transferred"}
    target = ProgramEnrollment.objects.get(program_uuid=catalog.OTHER)
    assert target.user == user
    assert [row.program_enrollment_id for row in _active_rows_of(user)] == [target.id]
    # The same person cannot now be made active through the source again.
    assert enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["Ab-06"]) == {"Ab-06": "conflicted"}
    assert _active_rows_of(user).count() == 1
    assert api.audit_program_enrollments().clean


def test_transfer_into_another_organizations_waiting_key_is_refused_unless_sso_proves_it(catalog):
    user = UserFactory()
    SSOIdentityFactory(student_key="k-7", user=user)  # GTx
    enroll(catalog.CYBERSECURITY, ["k-7"])
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["k-7"])
    api.write_program_enrollments(
        program_uuid=catalog.MIT,
        requests=[{"student_key": "K-7", "status": "enrolled", "curriculum_uuid": catalog.MIT_CURRICULUM}],
        create=True,
        update=True,
    )  # MITx's learner "K-7": waiting, perhaps another person
    before = _active_programs()

    statuses, report = transfer(catalog, ["k-7"], to_program_uuid=catalog.MIT)
    assert statuses == {"k-7": "illegal-operation"}
    assert "another organization" in report.outcomes[0].detail
    assert _active_programs() == before

    SSOIdentityFactory(student_key="K-7", organization_key="MITx", user=user)  # links MITx's waiting learner
    statuses, _ = transfer(catalog, ["k-7"], to_program_uuid=catalog.MIT)
    assert statuses == {"k-7": "transferred"}
    assert _active_rows_of(user).get().program_enrollment.program_uuid == catalog.MIT


def test_user_already_in_the_target_under_another_key_is_decided_up_front(catalog, caplog):
    user = UserFactory()
    SSOIdentityFactory(student_key="Ab-04", user=user)
    SSOIdentityFactory(student_key="Cd-04", user=user)
    enroll(catalog.OTHER, ["Ab-04"])
    enroll(catalog.ANALYTICS, ["Cd-04"])
    enroll_course(catalog.ANALYTICS, catalog.ANALYTICS_COURSE, ["Cd-04"])
    before = _active_programs()
    caplog.set_level("INFO", logger="program_enrollments.api._batches")

    statuses, report = transfer(catalog, ["Cd-04"], from_program_uuid=catalog.ANALYTICS)

    assert statuses == {"Cd-04": "user-already-enrolled"}
    assert "under another student key" in report.outcomes[0].detail
    assert _active_programs() == before
    assert not caplog.records, [record.getMessage() for record in caplog.records]


def test_waiting_learner_moved_into_a_new_target_is_linked_when_the_sso_identity_is_known(catalog):
    """A MITx learner, still waiting there, moves into a GTx program where the key's SSO identity is known."""
    api.write_program_enrollments(
        program_uuid=catalog.MIT,
        requests=[{"student_key": "w-5", "status": "enrolled", "curriculum_uuid": catalog.MIT_CURRICULUM}],
        create=True,
        update=True,
    )
    api.write_program_course_enrollments(
        program_uuid=catalog.MIT,
        course_key=catalog.SHARED_COURSE,
        requests=[{"student_key": "w-5", "status": "active"}],
        create=True,
        update=True,
    )
    user = UserFactory()
    SSOIdentityFactory(student_key="W-5", user=user)  # at GTx

    statuses, _ = transfer(catalog, ["w-5"], from_program_uuid=catalog.MIT, to_program_uuid=catalog.CYBERSECURITY)

    assert statuses == {"w-5": "transferred"}
    target = ProgramEnrollment.objects.get(program_uuid=catalog.CYBERSECURITY)
    assert target.user == user
    row = target.program_course_enrollments.get()
    assert row.status == "active" and row.course_enrollment.user == user and row.course_enrollment.is_active
    assert row.access_grant == "created"
    assert api.audit_program_enrollments().clean
