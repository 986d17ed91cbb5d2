"""The built-in app's interfaces, served by this app, as the platform's callers use them.

Each test reads what a caller of the built-in app (named in the test) reads, on
data written through this app, and checks the result the built-in app gives on
the same data (lms/djangoapps/program_enrollments/api/reading.py and friends).
"""

from __future__ import annotations

from uuid import uuid4

import pytest

# Skips the module, with the reason, unless this app is installed in the harness LMS (see platform_data).
pytest.importorskip("tests.openedx.platform_data", exc_type=ImportError)

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Prefetch, Q
from opaque_keys.edx.keys import CourseKey

from program_enrollments import api
from program_enrollments.data import CourseEnrollmentRequest, ProgramEnrollmentRequest
from program_enrollments.models import CourseAccessRoleAssignment
from program_enrollments.openedx.compat import api as compat
from program_enrollments.openedx.compat import constants, exceptions, models
from tests.openedx import platform_data as lms

pytestmark = pytest.mark.django_db

COURSE = "course-v1:GTx+CS101+2026"
OTHER_COURSE = "course-v1:GTx+CS102+2026"


class World:
    """Two GTx programs sharing COURSE; learners realized through SAML or waiting."""

    def __init__(self):
        gtx = lms.organization("GTx")
        self.provider = lms.saml_provider("gtx-sso", gtx)
        self.second_provider = lms.saml_provider("gtx-new", gtx)
        self.program = lms.program(COURSE, OTHER_COURSE)
        self.other_program = lms.program(COURSE)
        self.alice, self.bob = lms.user("alice"), lms.user("bob")
        lms.social_auth(self.alice, "gtx-sso:Alice-Key")
        lms.social_auth(self.bob, "gtx-new:BOB-key")
        self.enroll(self.program, ["Alice-Key", "waiting-Carol"])
        self.enroll(self.program, ["Alice-Key", "waiting-Carol"], course=COURSE)
        self.enroll(self.program, ["Alice-Key"], course=OTHER_COURSE, status="inactive")
        self.enroll(self.other_program, ["bob-key"])
        self.enroll(self.other_program, ["bob-key"], course=COURSE)

    @staticmethod
    def enroll(program, keys, *, course=None, status=None):
        if course is None:
            api.write_program_enrollments(
                program_uuid=program["uuid"],
                requests=[
                    ProgramEnrollmentRequest(key, status or "enrolled", lms.curriculum_uuid(program)) for key in keys
                ],
                create=True,
                update=True,
            )
        else:
            api.write_program_course_enrollments(
                program_uuid=program["uuid"],
                course_key=course,
                requests=[CourseEnrollmentRequest(key, status or "active") for key in keys],
                create=True,
                update=True,
            )

    def course_enrollment(self, learner, course=COURSE):
        from common.djangoapps.student.models import CourseEnrollment

        return CourseEnrollment.objects.get(user=learner, course_id=CourseKey.from_string(course))


@pytest.fixture
def world():
    return World()


# --- reverse names: gradebook, grades v2 filters, edx-bulk-grades, teams ----------------------


def test_gradebook_search_by_student_key_through_the_reverse_name(world):
    """lms/djangoapps/grades/rest_api/v1/gradebook_views.py and v2/filters.py (``user_contains``)."""
    from common.djangoapps.student.models import CourseEnrollment

    found = CourseEnrollment.objects.filter(course_id=CourseKey.from_string(COURSE)).filter(
        Q(programcourseenrollment__program_enrollment__external_user_key__icontains="alice-k")
    )
    assert [enrollment.user for enrollment in found] == [world.alice]


def test_bulk_grades_prefetch_of_the_program_course_enrollments(world):
    """edx-bulk-grades bulk_grades/api.py: the student key column of the CSV."""
    from common.djangoapps.student.models import CourseEnrollment

    enrollments = (
        CourseEnrollment.objects.filter(course_id=CourseKey.from_string(COURSE))
        .prefetch_related("programcourseenrollment_set")
        .order_by("user__username")
    )
    rows = []
    for enrollment in enrollments:
        program_course_enrollments = enrollment.programcourseenrollment_set.all()
        key = (
            program_course_enrollments.first().program_enrollment.external_user_key
            if program_course_enrollments.exists()
            else None
        )
        rows.append((enrollment.user.username, key))
    assert rows == [("alice", "Alice-Key"), ("bob", "bob-key")]


def test_teams_csv_prefetch_with_a_program_course_enrollment_queryset(world):
    """lms/djangoapps/teams/csv.py."""
    from common.djangoapps.student.models import CourseEnrollment

    enrollments = CourseEnrollment.objects.filter(course_id=CourseKey.from_string(COURSE)).prefetch_related(
        Prefetch(
            "programcourseenrollment_set",
            queryset=models.ProgramCourseEnrollment.objects.select_related("program_enrollment"),
        )
    )
    keys = {
        enrollment.user.username: enrollment.programcourseenrollment_set.all()[0].program_enrollment.external_user_key
        for enrollment in enrollments
        if enrollment.programcourseenrollment_set.exists()
    }
    assert keys == {"alice": "Alice-Key", "bob": "bob-key"}


def test_support_serializers_read_the_built_in_fields(world):
    """lms/djangoapps/support/serializers.py."""
    enrollment = compat.fetch_program_enrollments_by_student(user=world.alice).prefetch_related(
        "program_course_enrollments"
    )[0]
    assert {"created", "modified", "external_user_key", "status", "program_uuid"} <= {
        field.name for field in models.ProgramEnrollment._meta.get_fields()
    }
    courses = {pce.course_key: pce for pce in enrollment.program_course_enrollments.all()}
    pce = courses[CourseKey.from_string(COURSE)]
    assert (
        pce.status,
        pce.course_enrollment.course_id,
        pce.course_enrollment.is_active,
        pce.course_enrollment.mode,
    ) == (
        "active",
        CourseKey.from_string(COURSE),
        True,
        "masters",
    )


# --- reading ----------------------------------------------------------------------------------


def test_get_external_key_by_user_and_course_prefers_active_then_recent(world):
    """lms/djangoapps/grades/rest_api/v1/gradebook_views.py."""
    assert compat.get_external_key_by_user_and_course(world.alice, COURSE) == "Alice-Key"
    assert compat.get_external_key_by_user_and_course(world.alice, CourseKey.from_string(OTHER_COURSE)) == "Alice-Key"
    assert compat.get_external_key_by_user_and_course(lms.user(), COURSE) is None

    # Alice also in the other program under a second identity, inactive there (the slot is taken):
    # the active enrollment's key wins over the more recently modified inactive one.
    lms.social_auth(world.alice, "gtx-new:alice-second")
    World.enroll(world.other_program, ["alice-second"])
    World.enroll(world.other_program, ["alice-second"], course=COURSE, status="inactive")
    assert compat.get_external_key_by_user_and_course(world.alice, COURSE) == "Alice-Key"


def test_grades_v2_fetch_by_students_then_order(world):
    """lms/djangoapps/grades/rest_api/v2/services.py."""
    rows = (
        compat.fetch_program_course_enrollments_by_students(users=[world.alice, world.bob], course_keys=[COURSE])
        .select_related("program_enrollment")
        .order_by("status", "-modified")
    )
    assert {(row.program_enrollment.user_id, row.program_enrollment.external_user_key) for row in rows} == {
        (world.alice.id, "Alice-Key"),
        (world.bob.id, "bob-key"),
    }


def test_get_program_enrollment_raises_object_does_not_exist(world):
    """lms/djangoapps/learner_dashboard/utils.py catches ObjectDoesNotExist."""
    assert compat.get_program_enrollment(program_uuid=world.program["uuid"], user=world.alice).user == world.alice
    with pytest.raises(ObjectDoesNotExist):
        compat.get_program_enrollment(program_uuid=world.program["uuid"], user=world.bob)
    with pytest.raises(models.ProgramEnrollment.DoesNotExist):
        compat.get_program_enrollment(program_uuid=str(uuid4()), user=world.alice)
    with pytest.raises(ValueError, match="at least one must be provided"):
        compat.get_program_enrollment(program_uuid=world.program["uuid"])


def test_get_program_enrollment_by_key_ignores_case_and_filters_by_curriculum(world):
    uuid = world.program["uuid"]
    assert compat.get_program_enrollment(uuid, external_user_key="WAITING-carol").user is None
    assert (
        compat.get_program_enrollment(uuid, None, "alice-key", lms.curriculum_uuid(world.program)).user == world.alice
    )
    with pytest.raises(ObjectDoesNotExist):
        compat.get_program_enrollment(uuid, external_user_key="alice-key", curriculum_uuid=str(uuid4()))
    with pytest.raises(ObjectDoesNotExist):
        compat.get_program_enrollment(uuid, user=world.bob, external_user_key="alice-key")


def test_get_program_course_enrollment(world):
    uuid = world.program["uuid"]
    found = compat.get_program_course_enrollment(uuid, COURSE, external_user_key="ALICE-KEY")
    assert (found.status, found.program_enrollment.user) == ("active", world.alice)
    assert compat.get_program_course_enrollment(uuid, OTHER_COURSE, user=world.alice).status == "inactive"
    with pytest.raises(models.ProgramCourseEnrollment.DoesNotExist):
        compat.get_program_course_enrollment(uuid, OTHER_COURSE, external_user_key="waiting-carol")
    with pytest.raises(ValueError, match="at least one must be provided"):
        compat.get_program_course_enrollment(uuid, COURSE)


def test_fetch_program_enrollments_filters(world):
    uuid = world.program["uuid"]

    def keys(queryset):
        return sorted(enrollment.external_user_key for enrollment in queryset)

    assert keys(compat.fetch_program_enrollments(uuid)) == ["Alice-Key", "waiting-Carol"]
    assert keys(compat.fetch_program_enrollments(uuid, users=None, external_user_keys=None)) == [
        "Alice-Key",
        "waiting-Carol",
    ]
    assert keys(compat.fetch_program_enrollments(uuid, external_user_keys=["alice-KEY", "nobody"])) == ["Alice-Key"]
    # As the built-in: an empty list of keys filters nothing, an empty list of users everything out.
    assert keys(compat.fetch_program_enrollments(uuid, external_user_keys=[])) == ["Alice-Key", "waiting-Carol"]
    assert keys(compat.fetch_program_enrollments(uuid, users=[])) == []
    assert keys(compat.fetch_program_enrollments(uuid, realized_only=True)) == ["Alice-Key"]
    assert keys(compat.fetch_program_enrollments(uuid, waiting_only=True)) == ["waiting-Carol"]
    assert keys(compat.fetch_program_enrollments(uuid, program_enrollment_statuses=["suspended"])) == []
    assert keys(compat.fetch_program_enrollments(uuid, curriculum_uuids=[lms.curriculum_uuid(world.program)])) == [
        "Alice-Key",
        "waiting-Carol",
    ]
    with pytest.raises(ValueError, match="mutually exclusive"):
        compat.fetch_program_enrollments(uuid, realized_only=True, waiting_only=True)


def test_fetch_program_course_enrollments_filters(world):
    uuid = world.program["uuid"]

    def keys(queryset):
        return sorted(row.program_enrollment.external_user_key for row in queryset)

    assert keys(compat.fetch_program_course_enrollments(uuid, COURSE)) == ["Alice-Key", "waiting-Carol"]
    assert keys(compat.fetch_program_course_enrollments(uuid, COURSE, waiting_only=True)) == ["waiting-Carol"]
    assert keys(compat.fetch_program_course_enrollments(uuid, OTHER_COURSE, active_only=True)) == []
    assert keys(compat.fetch_program_course_enrollments(uuid, OTHER_COURSE, inactive_only=True)) == ["Alice-Key"]
    waiting = compat.fetch_program_enrollments(uuid, waiting_only=True)
    assert keys(compat.fetch_program_course_enrollments(uuid, COURSE, program_enrollments=waiting)) == ["waiting-Carol"]
    assert keys(compat.fetch_program_course_enrollments(uuid, COURSE, external_user_keys=["WAITING-CAROL"])) == [
        "waiting-Carol"
    ]
    with pytest.raises(ValueError, match="mutually exclusive"):
        compat.fetch_program_course_enrollments(uuid, COURSE, active_only=True, inactive_only=True)


def test_fetch_program_enrollments_by_student(world):
    """lms/djangoapps/support/views/program_enrollments.py and learner_recommendations."""
    by_user = compat.fetch_program_enrollments_by_student(user=world.bob)
    assert [str(enrollment.program_uuid) for enrollment in by_user] == [world.other_program["uuid"]]
    by_key = compat.fetch_program_enrollments_by_student(external_user_key="Waiting-carol")
    assert [enrollment.external_user_key for enrollment in by_key] == ["waiting-Carol"]
    assert compat.fetch_program_enrollments_by_student(user=world.alice, program_uuids=[world.program["uuid"]]).exists()
    assert not compat.fetch_program_enrollments_by_student(
        user=world.alice, program_uuids=[world.other_program["uuid"]]
    ).exists()
    assert not compat.fetch_program_enrollments_by_student(user=world.alice, waiting_only=True).exists()
    with pytest.raises(ValueError, match="at least one must be provided"):
        compat.fetch_program_enrollments_by_student(program_uuids=[world.program["uuid"]])


def test_fetch_program_enrollments_by_students(world):
    found = compat.fetch_program_enrollments_by_students(users=[world.alice], external_user_keys=["BOB-KEY"])
    assert list(found) == []  # both filters apply, as in the built-in
    found = compat.fetch_program_enrollments_by_students(external_user_keys=["bob-KEY", "waiting-carol"])
    assert sorted(enrollment.external_user_key for enrollment in found) == ["bob-key", "waiting-Carol"]
    assert [e.user for e in compat.fetch_program_enrollments_by_students(users=[world.alice])] == [world.alice]
    with pytest.raises(ValueError, match="both empty or None"):
        compat.fetch_program_enrollments_by_students(users=[], external_user_keys=None)


def test_fetch_program_course_enrollments_by_students(world):
    rows = compat.fetch_program_course_enrollments_by_students(
        external_user_keys=["ALICE-KEY"], program_uuids=[world.program["uuid"]], active_only=True
    )
    assert [(str(row.course_key), row.status) for row in rows] == [(COURSE, "active")]
    rows = compat.fetch_program_course_enrollments_by_students(users=[world.alice], inactive_only=True)
    assert [str(row.course_key) for row in rows] == [OTHER_COURSE]
    with pytest.raises(ValueError, match="both empty or None"):
        compat.fetch_program_course_enrollments_by_students(course_keys=[COURSE])


# --- organizations and SAML --------------------------------------------------------------------


def test_get_users_by_external_keys_and_org_key(world, django_assert_max_num_queries):
    """lms/djangoapps/support/views/program_enrollments.py."""
    with django_assert_max_num_queries(5):
        users = compat.get_users_by_external_keys_and_org_key(["alice-key", "BOB-KEY", "nobody"], "GTx")
    assert users == {"alice-key": world.alice, "BOB-KEY": world.bob, "nobody": None}


def test_get_users_by_external_keys_and_org_key_errors(world):
    with pytest.raises(exceptions.BadOrganizationShortNameException) as bad_org:
        compat.get_users_by_external_keys_and_org_key(["alice-key"], "Nopex")
    assert str(bad_org.value) == "Unable to find organization for short_name Nopex"
    assert isinstance(bad_org.value, exceptions.OrganizationDoesNotExistException)
    lms.organization("NoSSOx")
    with pytest.raises(exceptions.ProviderDoesNotExistException):
        compat.get_users_by_external_keys_and_org_key(["alice-key"], "NoSSOx")


def test_get_users_by_external_keys_through_the_program(world):
    assert compat.get_users_by_external_keys(world.program["uuid"], ["Alice-KEY"]) == {"Alice-KEY": world.alice}
    with pytest.raises(exceptions.ProgramDoesNotExistException):
        compat.get_users_by_external_keys(str(uuid4()), ["alice-key"])


def test_get_org_key_for_program(world):
    assert compat.get_org_key_for_program(world.program["uuid"]) == "GTx"
    orphan = lms.cache_program(lms.program_document(organization_key=None))
    with pytest.raises(exceptions.ProgramHasNoAuthoringOrganizationException):
        compat.get_org_key_for_program(orphan["uuid"])
    with pytest.raises(exceptions.ProgramDoesNotExistException):
        compat.get_org_key_for_program("not-a-uuid")


def test_saml_providers_of_an_organization(world):
    from organizations.models import Organization

    gtx = Organization.objects.get(short_name="GTx")
    providers = compat.get_saml_providers_for_organization(gtx)
    assert sorted(compat.get_provider_slug(provider) for provider in providers) == ["gtx-new", "gtx-sso"]
    assert sorted(provider.slug for provider in compat.get_saml_providers_by_org_key("GTx")) == ["gtx-new", "gtx-sso"]
    lms.saml_provider("gtx-new", gtx, enabled=False)
    assert [provider.slug for provider in compat.get_saml_providers_for_organization(gtx)] == ["gtx-sso"]


# --- course staff --------------------------------------------------------------------------------


def test_is_course_staff_enrollment(world):
    from common.djangoapps.student.roles import CourseStaffRole

    uuid = world.program["uuid"]
    linked = compat.get_program_course_enrollment(uuid, COURSE, user=world.alice)
    waiting = compat.get_program_course_enrollment(uuid, COURSE, external_user_key="waiting-carol")
    assert not compat.is_course_staff_enrollment(linked)
    assert not compat.is_course_staff_enrollment(waiting)

    CourseStaffRole(CourseKey.from_string(COURSE)).add_users(world.alice)
    CourseAccessRoleAssignment.objects.create(
        enrollment=waiting, role=constants.ProgramCourseEnrollmentRoles.COURSE_STAFF
    )
    # A fresh read: the platform caches a user's roles on the user object.
    linked = compat.get_program_course_enrollment(uuid, COURSE, user=world.alice)
    assert compat.is_course_staff_enrollment(linked)
    assert compat.is_course_staff_enrollment(waiting)


# --- linking -----------------------------------------------------------------------------------------


def test_link_program_enrollments_returns_the_errors(world):
    """lms/djangoapps/support/views/utils.py."""
    dave, erin = lms.user("dave"), lms.user("erin")
    uuid = world.program["uuid"]
    errors = compat.link_program_enrollments(
        uuid, {"WAITING-carol": "dave", "Alice-Key": "erin", "missing": "dave", "waiting-carol2": "nobody", "": "dave"}
    )
    assert set(errors) == {"missing", "waiting-carol2", ""}
    assert errors["missing"] == f"No program enrollment found for program uuid={uuid} and external student key=missing"
    assert errors["waiting-carol2"] == "No user found with username nobody"
    carol = compat.get_program_enrollment(uuid, external_user_key="waiting-carol")
    assert carol.user == dave
    assert world.course_enrollment(dave).mode == "masters"
    # Linked to a different account: moved to the one asked for, as the built-in does.
    assert compat.get_program_enrollment(uuid, external_user_key="Alice-Key").user == erin
    assert world.course_enrollment(erin).is_active
    assert not world.course_enrollment(world.alice).is_active
    errors = compat.link_program_enrollments(uuid, {"Alice-Key": "erin"})
    assert errors == {
        "Alice-Key": "Program enrollment with external_student_key=Alice-Key is already linked to target account "
        "username=erin"
    }


def test_link_program_enrollments_refuses_none(world):
    with pytest.raises(ValueError):
        compat.link_program_enrollments(world.program["uuid"], {None: "dave"})


# --- writing -----------------------------------------------------------------------------------------


def test_write_program_enrollments_with_built_in_requests(world):
    uuid = world.program["uuid"]
    results = compat.write_program_enrollments(
        uuid,
        [
            {
                "external_user_key": "new-one",
                "status": "pending",
                "curriculum_uuid": lms.curriculum_uuid(world.program),
            },
            {
                "external_user_key": "alice-key",
                "status": "suspended",
                "curriculum_uuid": lms.curriculum_uuid(world.program),
            },
            {"external_user_key": "x", "status": "nonsense", "curriculum_uuid": lms.curriculum_uuid(world.program)},
        ],
        True,
        True,
    )
    assert results == {"new-one": "pending", "alice-key": "suspended", "x": "invalid-status"}
    with pytest.raises(ValueError):
        compat.write_program_enrollments(uuid, [], False, False)
    with pytest.raises(exceptions.ProgramDoesNotExistException):
        compat.write_program_enrollments(str(uuid4()), [{"external_user_key": "a", "status": "enrolled"}], False, True)


def test_write_program_course_enrollments_with_built_in_requests(world):
    from common.djangoapps.student.models import NonExistentCourseError

    uuid = world.program["uuid"]
    results = compat.write_program_course_enrollments(
        uuid,
        OTHER_COURSE,
        [{"external_user_key": "ALICE-KEY", "status": "active", "course_staff": True}],
        False,
        True,
    )
    assert results == {"ALICE-KEY": "active"}
    assert world.course_enrollment(world.alice, OTHER_COURSE).is_active
    with pytest.raises(NonExistentCourseError):
        compat.write_program_course_enrollments(
            uuid, "course-v1:GTx+NOPE+2026", [{"external_user_key": "a", "status": "active"}], True, False
        )


def test_enroll_in_masters_track(world):
    from common.djangoapps.student.models import NonExistentCourseError

    learner = lms.user()
    enrollment = compat.enroll_in_masters_track(learner, COURSE, "active")
    assert (enrollment.mode, enrollment.is_active) == ("masters", True)
    inactive = compat.enroll_in_masters_track(lms.user(), COURSE, "inactive")
    assert (inactive.mode, inactive.is_active) == ("masters", False)
    with pytest.raises(ValueError):
        compat.enroll_in_masters_track(learner, COURSE, "bogus")
    with pytest.raises(NonExistentCourseError):
        compat.enroll_in_masters_track(learner, "course-v1:GTx+NOPE+2026", "active")


# --- constants and exceptions ---------------------------------------------------------------------


def test_constants_have_the_built_in_names_and_values():
    statuses = constants.ProgramEnrollmentStatuses
    assert statuses.__ACTIVE__ == ("enrolled", "pending")
    assert statuses.__ALL__ == ("enrolled", "pending", "suspended", "canceled", "ended")
    assert list(statuses.__MODEL_CHOICES__) == [(status, status) for status in statuses.__ALL__]
    assert constants.ProgramCourseEnrollmentStatuses.__ALL__ == ("active", "inactive")
    assert constants.ProgramOperationStatuses.__OK__ == statuses.__ALL__
    assert constants.ProgramOperationStatuses.__ERRORS__ == (
        "duplicated",
        "invalid-status",
        "conflict",
        "illegal-operation",
        "not-in-program",
        "internal-error",
    )
    assert constants.ProgramCourseOperationStatuses.NOT_FOUND == "not-found"
    assert constants.ProgramCourseOperationStatuses.__ERRORS__[0] == "not-found"
    assert not hasattr(constants.ProgramOperationStatuses, "NOT_FOUND")
    assert constants.ProgramCourseEnrollmentRoles.COURSE_STAFF == "staff"


def test_exceptions_have_the_built_in_messages():
    assert str(exceptions.ProgramDoesNotExistException("u")) == "Unable to find catalog program matching uuid u"
    assert (
        str(exceptions.ProgramHasNoAuthoringOrganizationException("u"))
        == "Cannot determine authoring organization key for catalog program u"
    )
    assert issubclass(
        exceptions.ProgramHasNoAuthoringOrganizationException, exceptions.OrganizationDoesNotExistException
    )


def test_models_are_this_apps():
    from program_enrollments import models as ours

    assert models.ProgramEnrollment is ours.ProgramEnrollment
    assert models.ProgramCourseEnrollment is ours.ProgramCourseEnrollment
    assert models.CourseAccessRoleAssignment is ours.CourseAccessRoleAssignment
    assert models.ProgramEnrollment._meta.db_table == "program_enrollments_programenrollment"
