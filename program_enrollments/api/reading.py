"""Reads: ``get_*`` return one object or raise, ``fetch_*`` return querysets."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from uuid import UUID

from opaque_keys.edx.keys import CourseKey

from program_enrollments.api._validation import as_course_key, as_uuid
from program_enrollments.models import (
    ProgramCourseEnrollment,
    ProgramCourseEnrollmentQuerySet,
    ProgramEnrollment,
    ProgramEnrollmentQuerySet,
)


def get_program_enrollment(*, program_uuid: UUID | str, student_key: str | None = None, user=None) -> ProgramEnrollment:
    """Return a learner's enrollment in a program, found by student key (any case) or user.

    Raises:
        ProgramEnrollment.DoesNotExist: the learner is not in the program.
        InvalidRequest: neither or both of ``student_key`` and ``user`` given, or a bad uuid.
    """
    queryset = fetch_program_enrollments(program_uuids=[program_uuid])
    return _by_learner(queryset, student_key=student_key, user=user).get()


def get_program_course_enrollment(
    *, program_uuid: UUID | str, course_key: CourseKey | str, student_key: str | None = None, user=None
) -> ProgramCourseEnrollment:
    """Return a learner's enrollment in one course run of a program.

    Raises:
        ProgramCourseEnrollment.DoesNotExist: there is none.
        InvalidRequest: neither or both of ``student_key`` and ``user`` given, or a bad key.
    """
    queryset = fetch_program_course_enrollments(program_uuids=[program_uuid], course_keys=[course_key])
    enrollment = _by_learner(ProgramEnrollment.objects.all(), student_key=student_key, user=user)
    return queryset.get(program_enrollment__in=enrollment)


def _by_learner(queryset, *, student_key, user):
    from program_enrollments.exceptions import InvalidRequest

    if (student_key is None) == (user is None):
        raise InvalidRequest("Give exactly one of student_key and user.")
    if student_key is not None:
        return queryset.for_student_keys([student_key])
    return queryset.filter(user=user)


def fetch_program_enrollments(
    *,
    program_uuids: Iterable[UUID | str] | None = None,
    curriculum_uuids: Iterable[UUID | str] | None = None,
    student_keys: Iterable[str] | None = None,
    users: Iterable | None = None,
    statuses: Iterable[str] | None = None,
    realized_only: bool = False,
    waiting_only: bool = False,
) -> ProgramEnrollmentQuerySet:
    """Return the program enrollments matching every filter given (student keys compare ignoring case).

    Raises:
        InvalidRequest: a malformed uuid.
    """
    queryset = ProgramEnrollment.objects.all()
    if program_uuids is not None:
        queryset = queryset.filter(program_uuid__in=[as_uuid(uuid, name="program_uuid") for uuid in program_uuids])
    if curriculum_uuids is not None:
        queryset = queryset.filter(
            curriculum_uuid__in=[as_uuid(uuid, name="curriculum_uuid") for uuid in curriculum_uuids]
        )
    if student_keys is not None:
        queryset = queryset.for_student_keys(student_keys)
    if users is not None:
        queryset = queryset.filter(user__in=users)
    if statuses is not None:
        queryset = queryset.filter(status__in=statuses)
    if realized_only:
        queryset = queryset.realized()
    if waiting_only:
        queryset = queryset.waiting()
    return queryset


def fetch_program_course_enrollments(
    *,
    program_uuids: Iterable[UUID | str] | None = None,
    course_keys: Iterable[CourseKey | str] | None = None,
    student_keys: Iterable[str] | None = None,
    users: Iterable | None = None,
    statuses: Iterable[str] | None = None,
    active_only: bool = False,
) -> ProgramCourseEnrollmentQuerySet:
    """Return the program course enrollments matching every filter given.

    Raises:
        InvalidRequest: a malformed uuid or course key.
    """
    queryset = ProgramCourseEnrollment.objects.select_related("program_enrollment")
    if program_uuids is not None:
        queryset = queryset.filter(
            program_enrollment__program_uuid__in=[as_uuid(uuid, name="program_uuid") for uuid in program_uuids]
        )
    if course_keys is not None:
        queryset = queryset.filter(course_key__in=[as_course_key(key) for key in course_keys])
    if student_keys is not None:
        queryset = queryset.filter(program_enrollment__in=ProgramEnrollment.objects.for_student_keys(student_keys))
    if users is not None:
        queryset = queryset.filter(program_enrollment__user__in=users)
    if statuses is not None:
        queryset = queryset.filter(status__in=statuses)
    if active_only:
        queryset = queryset.active()
    return queryset


def fetch_learner_view(
    *,
    username: str | None = None,
    organization_key: str | None = None,
    student_key: str | None = None,
    readable_organizations: Collection[str] | None = None,
) -> dict:
    """Every program and course enrollment of one learner, and which program holds each active slot.

    The learner is given by username, or by (organization, student key); a key
    whose SSO identity is known also finds the account's enrollments.

    ``readable_organizations`` limits the answer to the programs of those
    organizations (None: every organization). Nothing outside them shows, not
    even indirectly: a student key of an organization outside them is refused
    before anything is looked up (so the answer does not depend on whether the
    learner exists there), and the username is the one asked for or the one of
    a visible enrollment.

    Returns ``{"username", "programs": [{"program_uuid", "organization_key",
    "curriculum_uuid", "student_key", "status", "courses": [{"course_key",
    "status", "holds_active_slot"}]}], "active_slots": {course_key: program_uuid}}``.

    Raises:
        InvalidRequest: neither a username nor an organization and student key.
        OrganizationNotReadable: ``organization_key`` is not one of ``readable_organizations``.
    """
    from program_enrollments.backends import catalog_backend, lms_backend
    from program_enrollments.exceptions import InvalidRequest, OrganizationNotReadable
    from program_enrollments.identity import learner_ref, normalize_student_key, user_ref

    if any("\x00" in (value or "") for value in (username, organization_key, student_key)):
        raise InvalidRequest("A username, organization or student key must not contain NUL characters.")
    if organization_key and readable_organizations is not None and organization_key not in readable_organizations:
        raise OrganizationNotReadable(f"The caller may not read the learners of organization {organization_key}.")
    backend = lms_backend()
    refs = set()
    if username:
        user_id = backend.get_user_ids([username]).get(username)
    elif organization_key and student_key:
        user_id = backend.resolve_users(organization_key, [student_key]).get(normalize_student_key(student_key))
        refs.add(learner_ref(user_id=None, organization_key=organization_key, student_key=student_key))
    else:
        raise InvalidRequest("Give a username, or an organization and a student key.")
    if user_id is not None:
        refs.add(user_ref(user_id))
    enrollments = list(
        ProgramEnrollment.objects.filter(learner_ref__in=refs).select_related("user").order_by("program_uuid")
    )
    rows = ProgramCourseEnrollment.objects.filter(program_enrollment__in=enrollments).order_by("course_key")
    by_enrollment: dict[int, list] = {}
    active_slots = {}
    for row in rows:
        by_enrollment.setdefault(row.program_enrollment_id, []).append(row)
    programs = catalog_backend().get_programs({enrollment.program_uuid for enrollment in enrollments})
    result_programs = []
    found_username = ""
    for enrollment in enrollments:
        program = programs.get(enrollment.program_uuid)
        if readable_organizations is not None and (
            program is None or program.organization_key not in readable_organizations
        ):
            continue
        if enrollment.user_id:
            found_username = enrollment.user.username
        courses = []
        for row in by_enrollment.get(enrollment.id, []):
            if row.status == "active":
                active_slots[str(row.course_key)] = str(enrollment.program_uuid)
            courses.append(
                {"course_key": str(row.course_key), "status": row.status, "holds_active_slot": row.status == "active"}
            )
        result_programs.append(
            {
                "program_uuid": str(enrollment.program_uuid),
                "program_title": program.title if program else "",
                "organization_key": program.organization_key if program else "",
                "curriculum_uuid": str(enrollment.curriculum_uuid),
                "student_key": enrollment.external_user_key or "",
                "status": enrollment.status,
                "courses": courses,
            }
        )
    return {"username": found_username or (username or ""), "programs": result_programs, "active_slots": active_slots}


def organizations_of_student_key(student_key: str) -> set[str]:
    """The authoring organizations of the programs where ``student_key`` (any case) is enrolled.

    Raises:
        InvalidRequest: the key contains a NUL character (PostgreSQL refuses them in queries).
    """
    from program_enrollments.backends import catalog_backend
    from program_enrollments.exceptions import InvalidRequest

    if "\x00" in student_key:
        raise InvalidRequest("A student key must not contain NUL characters.")
    uuids = set(ProgramEnrollment.objects.for_student_keys([student_key]).values_list("program_uuid", flat=True))
    return {program.organization_key for program in catalog_backend().get_programs(uuids).values()}


def fetch_adoption_records(*, actions: Iterable[str] | None = None):
    """What adopting Open edX's built-in tables changed, in order (empty where nothing was adopted).

    Each record names a table, a row id, the action (``archived``, ``moved``,
    ``deactivated``, ``detached``, ``unknown-program``, and one ``adopted``
    summary), the row kept in its place, the reason and the row as it was.
    """
    from program_enrollments.models import AdoptionRecord

    queryset = AdoptionRecord.objects.order_by("id")
    if actions is not None:
        queryset = queryset.filter(action__in=list(actions))
    return queryset


def fetch_course_staff_roles(program_course_enrollments) -> dict[int, bool]:
    """Whether each program course enrollment's learner has the course staff role, by its id.

    A realized learner: the role the LMS holds now (whoever granted it). A waiting
    learner: whether the program granted it, to be applied on linking. Rows need
    their ``program_enrollment`` loaded; one backend call per course run and one
    query for the waiting learners, whatever the number of rows.
    """
    from program_enrollments.api import _course_staff

    return _course_staff.roles(program_course_enrollments)
