"""The built-in app's Python API (``lms.djangoapps.program_enrollments.api``) over this app.

Names, parameters (positional-or-keyword, in the built-in order) and results are
the built-in's, so the platform's callers (gradebook, grades v2, support tools,
teams, learner dashboard, edx-bulk-grades) work unchanged:

* filters given as ``None`` are ignored; ``realized_only``/``waiting_only`` and
  ``active_only``/``inactive_only`` are exclusive (``ValueError``);
* student keys compare ignoring case (this app's case-folded key column, which
  its unique index keeps per program);
* getters raise ``DoesNotExist`` / ``MultipleObjectsReturned``, and ``ValueError``
  when given neither a user nor a key;
* querysets are of this app's models, which keep the built-in tables, field names
  and reverse names.

Writes go through this app's Python API, so its rules (one active program per
course run and learner, linking re-applying it) hold for these callers too.
Platform modules are imported inside the functions.
"""

from __future__ import annotations

import logging
from uuid import UUID

from django.contrib.auth import get_user_model

from program_enrollments.constants import ProgramCourseEnrollmentStatus
from program_enrollments.identity import UNKNOWN_ORGANIZATION, normalize_student_key
from program_enrollments.models import CourseAccessRoleAssignment, ProgramCourseEnrollment, ProgramEnrollment
from program_enrollments.openedx.compat.constants import (
    ProgramCourseEnrollmentRoles,
    ProgramCourseEnrollmentStatuses,
)
from program_enrollments.openedx.compat.exceptions import (
    BadOrganizationShortNameException,
    ProgramDoesNotExistException,
    ProgramHasNoAuthoringOrganizationException,
    ProviderDoesNotExistException,
)

log = logging.getLogger(__name__)

_STUDENT_ARG_ERROR_MESSAGE = "user and external_user_key are both None; at least one must be provided."
_REALIZED_FILTER_ERROR_TEMPLATE = "{} and {} are mutually exclusive; at most one of them may be passed in as True."
_STUDENT_LIST_ARG_ERROR_MESSAGE = (
    "user list and external_user_key_list are both empty or None; At least one of the lists must be provided."
)

__all__ = [
    "enroll_in_masters_track",
    "fetch_program_course_enrollments",
    "fetch_program_course_enrollments_by_students",
    "fetch_program_enrollments",
    "fetch_program_enrollments_by_student",
    "fetch_program_enrollments_by_students",
    "get_external_key_by_user_and_course",
    "get_org_key_for_program",
    "get_program_course_enrollment",
    "get_program_enrollment",
    "get_provider_slug",
    "get_saml_providers_by_org_key",
    "get_saml_providers_for_organization",
    "get_users_by_external_keys",
    "get_users_by_external_keys_and_org_key",
    "is_course_staff_enrollment",
    "iter_program_course_grades",
    "link_program_enrollment_to_lms_user",
    "link_program_enrollments",
    "write_program_course_enrollments",
    "write_program_enrollments",
]


# --- reading ----------------------------------------------------------------------------------


def _exclusive(first: str, first_value: bool, second: str, second_value: bool) -> None:
    if first_value and second_value:
        raise ValueError(_REALIZED_FILTER_ERROR_TEMPLATE.format(first, second))


def _folded(keys) -> set:
    return {normalize_student_key(key) for key in keys}


def get_program_enrollment(program_uuid, user=None, external_user_key=None, curriculum_uuid=None):
    """Return the learner's program enrollment.

    Raises:
        ProgramEnrollment.DoesNotExist, ProgramEnrollment.MultipleObjectsReturned
        ValueError: neither ``user`` nor ``external_user_key``.
    """
    if not (user or external_user_key):
        raise ValueError(_STUDENT_ARG_ERROR_MESSAGE)
    queryset = ProgramEnrollment.objects.filter(program_uuid=program_uuid)
    if user is not None:
        queryset = queryset.filter(user=user)
    if external_user_key is not None:
        queryset = queryset.filter(external_user_key_normalized=normalize_student_key(external_user_key))
    if curriculum_uuid is not None:
        queryset = queryset.filter(curriculum_uuid=curriculum_uuid)
    return queryset.get()


def get_program_course_enrollment(program_uuid, course_key, user=None, external_user_key=None, curriculum_uuid=None):
    """Return the learner's program course enrollment in one course run of a program.

    Raises:
        ProgramCourseEnrollment.DoesNotExist, ProgramCourseEnrollment.MultipleObjectsReturned
        ValueError: neither ``user`` nor ``external_user_key``.
    """
    if not (user or external_user_key):
        raise ValueError(_STUDENT_ARG_ERROR_MESSAGE)
    queryset = ProgramCourseEnrollment.objects.filter(
        program_enrollment__program_uuid=program_uuid, course_key=course_key
    )
    if user is not None:
        queryset = queryset.filter(program_enrollment__user=user)
    if external_user_key is not None:
        queryset = queryset.filter(
            program_enrollment__external_user_key_normalized=normalize_student_key(external_user_key)
        )
    if curriculum_uuid is not None:
        queryset = queryset.filter(program_enrollment__curriculum_uuid=curriculum_uuid)
    return queryset.get()


def _filter_enrollments(
    queryset,
    prefix: str,
    *,
    users=None,
    user=None,
    external_user_keys=None,
    external_user_key=None,
    program_uuids=None,
    curriculum_uuids=None,
    program_enrollment_statuses=None,
    realized_only=False,
    waiting_only=False,
):
    """Apply the built-in's program enrollment filters; ``prefix`` reaches the program enrollment."""
    filters = {}
    if user is not None:
        filters[f"{prefix}user"] = user
    if users is not None:
        filters[f"{prefix}user__in"] = users
    if external_user_key is not None:
        filters[f"{prefix}external_user_key_normalized"] = normalize_student_key(external_user_key)
    # As the built-in: an empty list of keys filters nothing.
    if external_user_keys:
        filters[f"{prefix}external_user_key_normalized__in"] = _folded(external_user_keys)
    if program_uuids is not None:
        filters[f"{prefix}program_uuid__in"] = program_uuids
    if curriculum_uuids is not None:
        filters[f"{prefix}curriculum_uuid__in"] = curriculum_uuids
    if program_enrollment_statuses is not None:
        filters[f"{prefix}status__in"] = program_enrollment_statuses
    if realized_only:
        filters[f"{prefix}user__isnull"] = False
    if waiting_only:
        filters[f"{prefix}user__isnull"] = True
    return queryset.filter(**filters)


def _filter_course_status(queryset, active_only: bool, inactive_only: bool):
    if active_only:
        return queryset.filter(status=ProgramCourseEnrollmentStatuses.ACTIVE)
    if inactive_only:
        return queryset.filter(status=ProgramCourseEnrollmentStatuses.INACTIVE)
    return queryset


def fetch_program_enrollments(
    program_uuid,
    curriculum_uuids=None,
    users=None,
    external_user_keys=None,
    program_enrollment_statuses=None,
    realized_only=False,
    waiting_only=False,
):
    """Return the program enrollments of one program matching the filters given.

    Raises:
        ValueError: both ``realized_only`` and ``waiting_only``.
    """
    _exclusive("realized_only", realized_only, "waiting_only", waiting_only)
    return _filter_enrollments(
        ProgramEnrollment.objects.filter(program_uuid=program_uuid),
        "",
        curriculum_uuids=curriculum_uuids,
        users=users,
        external_user_keys=external_user_keys,
        program_enrollment_statuses=program_enrollment_statuses,
        realized_only=realized_only,
        waiting_only=waiting_only,
    )


def fetch_program_course_enrollments(
    program_uuid,
    course_key,
    curriculum_uuids=None,
    users=None,
    external_user_keys=None,
    program_enrollment_statuses=None,
    program_enrollments=None,
    active_only=False,
    inactive_only=False,
    realized_only=False,
    waiting_only=False,
):
    """Return the program course enrollments of one program and course run matching the filters given.

    Raises:
        ValueError: both ``active_only`` and ``inactive_only``, or ``realized_only`` and ``waiting_only``.
    """
    _exclusive("active_only", active_only, "inactive_only", inactive_only)
    _exclusive("realized_only", realized_only, "waiting_only", waiting_only)
    queryset = ProgramCourseEnrollment.objects.filter(
        program_enrollment__program_uuid=program_uuid, course_key=course_key
    )
    if program_enrollments is not None:
        queryset = queryset.filter(program_enrollment__in=program_enrollments)
    queryset = _filter_enrollments(
        queryset,
        "program_enrollment__",
        curriculum_uuids=curriculum_uuids,
        users=users,
        external_user_keys=external_user_keys,
        program_enrollment_statuses=program_enrollment_statuses,
        realized_only=realized_only,
        waiting_only=waiting_only,
    )
    return _filter_course_status(queryset, active_only, inactive_only)


def fetch_program_enrollments_by_student(
    user=None,
    external_user_key=None,
    program_uuids=None,
    curriculum_uuids=None,
    program_enrollment_statuses=None,
    realized_only=False,
    waiting_only=False,
):
    """Return one learner's program enrollments (by user, student key, or both) matching the filters given.

    Raises:
        ValueError: neither ``user`` nor ``external_user_key``; both ``realized_only`` and ``waiting_only``.
    """
    if not (user or external_user_key):
        raise ValueError(_STUDENT_ARG_ERROR_MESSAGE)
    _exclusive("realized_only", realized_only, "waiting_only", waiting_only)
    return _filter_enrollments(
        ProgramEnrollment.objects.all(),
        "",
        user=user,
        external_user_key=external_user_key,
        program_uuids=program_uuids,
        curriculum_uuids=curriculum_uuids,
        program_enrollment_statuses=program_enrollment_statuses,
        realized_only=realized_only,
        waiting_only=waiting_only,
    )


def fetch_program_enrollments_by_students(
    users=None,
    external_user_keys=None,
    program_enrollment_statuses=None,
    realized_only=False,
    waiting_only=False,
):
    """Return the program enrollments of several learners matching the filters given.

    Raises:
        ValueError: neither ``users`` nor ``external_user_keys`` (or both empty);
            both ``realized_only`` and ``waiting_only``.
    """
    if not (users or external_user_keys):
        raise ValueError(_STUDENT_LIST_ARG_ERROR_MESSAGE)
    _exclusive("realized_only", realized_only, "waiting_only", waiting_only)
    return _filter_enrollments(
        ProgramEnrollment.objects.all(),
        "",
        users=users,
        external_user_keys=external_user_keys,
        program_enrollment_statuses=program_enrollment_statuses,
        realized_only=realized_only,
        waiting_only=waiting_only,
    )


def fetch_program_course_enrollments_by_students(
    users=None,
    external_user_keys=None,
    program_uuids=None,
    curriculum_uuids=None,
    course_keys=None,
    program_enrollment_statuses=None,
    active_only=False,
    inactive_only=False,
    realized_only=False,
    waiting_only=False,
):
    """Return the program course enrollments of several learners matching the filters given.

    Raises:
        ValueError: neither ``users`` nor ``external_user_keys`` (or both empty); both
            ``active_only`` and ``inactive_only``, or ``realized_only`` and ``waiting_only``.
    """
    if not (users or external_user_keys):
        raise ValueError(_STUDENT_LIST_ARG_ERROR_MESSAGE)
    _exclusive("active_only", active_only, "inactive_only", inactive_only)
    _exclusive("realized_only", realized_only, "waiting_only", waiting_only)
    queryset = ProgramCourseEnrollment.objects.all()
    if course_keys is not None:
        queryset = queryset.filter(course_key__in=course_keys)
    queryset = _filter_enrollments(
        queryset,
        "program_enrollment__",
        users=users,
        external_user_keys=external_user_keys,
        program_uuids=program_uuids,
        curriculum_uuids=curriculum_uuids,
        program_enrollment_statuses=program_enrollment_statuses,
        realized_only=realized_only,
        waiting_only=waiting_only,
    )
    return _filter_course_status(queryset, active_only, inactive_only)


def get_external_key_by_user_and_course(user, course_key):
    """The student key behind ``user``'s enrollment in ``course_key``, or None.

    Among the learner's program course enrollments in the course (through its
    course enrollment), active ones first, then the most recently modified.
    """
    enrollment = (
        ProgramCourseEnrollment.objects.filter(course_enrollment__user=user, course_key=course_key)
        .select_related("program_enrollment")
        .order_by("status", "-modified")
        .first()
    )
    return enrollment.program_enrollment.external_user_key if enrollment is not None else None


def get_org_key_for_program(program_uuid):
    """The key of the program's first authoring organization, from the configured catalog.

    Raises:
        ProgramDoesNotExistException: the catalog does not know the program.
        ProgramHasNoAuthoringOrganizationException: it has no authoring organization.
    """
    from program_enrollments.backends import catalog_backend

    try:
        uuid = program_uuid if isinstance(program_uuid, UUID) else UUID(str(program_uuid))
    except ValueError:
        raise ProgramDoesNotExistException(program_uuid) from None
    program = catalog_backend().get_program(uuid)
    if program is None:
        raise ProgramDoesNotExistException(program_uuid)
    if not program.organization_key or program.organization_key == UNKNOWN_ORGANIZATION:
        raise ProgramHasNoAuthoringOrganizationException(program_uuid)
    return program.organization_key


def get_saml_providers_by_org_key(org_key):
    """The organization's current, enabled SAML provider configs.

    Raises:
        BadOrganizationShortNameException: no organization has this short name.
        ProviderDoesNotExistException: it has no enabled SAML provider.
    """
    from organizations.models import Organization

    try:
        organization = Organization.objects.get(short_name=org_key)
    except Organization.DoesNotExist:
        raise BadOrganizationShortNameException(org_key) from None
    return get_saml_providers_for_organization(organization)


def get_saml_providers_for_organization(organization):
    """The organization's current, enabled SAML provider configs (a list; there may be several).

    Raises:
        ProviderDoesNotExistException: there is none.
    """
    providers = list(organization.samlproviderconfig_set.current_set().filter(enabled=True))
    if not providers:
        raise ProviderDoesNotExistException(organization)
    return providers


def get_provider_slug(provider_config):
    """The provider's slug: its ``provider_id`` without the ``saml-`` prefix."""
    provider_id = provider_config.provider_id
    return provider_id[len("saml-") :] if provider_id.startswith("saml-") else provider_id


def get_users_by_external_keys_and_org_key(external_user_keys, org_key):
    """Map each student key to the user of its SAML identity with the organization, or None.

    One query for the identities of all keys across the organization's providers,
    matched ignoring case; each key comes back as given.

    Raises:
        BadOrganizationShortNameException, ProviderDoesNotExistException
    """
    from program_enrollments.openedx.backends import saml_user_ids

    providers = get_saml_providers_by_org_key(org_key)
    keys = list(external_user_keys)
    found = saml_user_ids(providers, [key for key in keys if isinstance(key, str)])
    users = get_user_model().objects.in_bulk(set(found.values())) if found else {}
    return {key: users.get(found.get(normalize_student_key(key))) if isinstance(key, str) else None for key in keys}


def get_users_by_external_keys(program_uuid, external_user_keys):
    """Map each student key to its user through the program's authoring organization, or None.

    Raises:
        ProgramDoesNotExistException, ProgramHasNoAuthoringOrganizationException,
        BadOrganizationShortNameException, ProviderDoesNotExistException
    """
    return get_users_by_external_keys_and_org_key(external_user_keys, get_org_key_for_program(program_uuid))


def is_course_staff_enrollment(program_course_enrollment):
    """Whether the program course enrollment carries the course staff role.

    A linked learner: whether the user holds ``CourseStaffRole`` in the course. A
    waiting one: whether the program granted the role, to be applied on linking
    (this app's ``course_staff`` flag, or a pending ``CourseAccessRoleAssignment``).
    """
    user = program_course_enrollment.program_enrollment.user
    if user is not None:
        from common.djangoapps.student.roles import CourseStaffRole

        return bool(CourseStaffRole(program_course_enrollment.course_key).has_user(user))
    if getattr(program_course_enrollment, "course_staff", False):
        return True
    return CourseAccessRoleAssignment.objects.filter(
        enrollment=program_course_enrollment, role=ProgramCourseEnrollmentRoles.COURSE_STAFF
    ).exists()


# --- linking ----------------------------------------------------------------------------------


def link_program_enrollments(program_uuid, external_keys_to_usernames):
    """Link the program's waiting enrollments of the student keys to the users with the usernames.

    Returns ``{student key: error message}`` for the keys that were not linked
    (the built-in's messages: no such user, no such enrollment, already linked to
    that user); the others are linked. An enrollment linked to a different user is
    moved to the new one, as the built-in does (the LMS support tool relies on it):
    the old account gets back what the program gave it (``api.link_program_enrollments``
    with ``relink``).

    Raises:
        ValueError: a key or username is None.
    """
    from program_enrollments.api import link_program_enrollments as link
    from program_enrollments.api.linking import NO_PROGRAM_ENROLLMENT_TEMPLATE

    mapping = dict(external_keys_to_usernames)
    if None in mapping or None in mapping.values():
        raise ValueError("external_keys_to_usernames must not contain None.")
    errors = {}
    linkable = {}
    for key, username in mapping.items():
        if not isinstance(key, str) or not key.strip() or "\x00" in key or len(key) > 255:
            # No enrollment can have such a key.
            errors[key] = NO_PROGRAM_ENROLLMENT_TEMPLATE.format(program_uuid=program_uuid, external_user_key=key)
        else:
            linkable[key] = username
    if linkable:
        outcomes = link(program_uuid=program_uuid, usernames_by_student_key=linkable, relink=True)
        errors.update({key: outcome.error for key, outcome in outcomes.items() if outcome.error})
    return errors


def link_program_enrollment_to_lms_user(program_enrollment, user):
    """Link one waiting program enrollment to ``user`` (enrolling them in its course runs).

    Raises:
        ValueError: the enrollment has no student key, or could not be linked (the message says why).
    """
    if not program_enrollment.external_user_key:
        raise ValueError(f"Program enrollment {program_enrollment.pk} has no student key to link.")
    errors = link_program_enrollments(
        program_enrollment.program_uuid, {program_enrollment.external_user_key: user.get_username()}
    )
    if errors:
        raise ValueError(next(iter(errors.values())))
    program_enrollment.refresh_from_db()


# --- writing ----------------------------------------------------------------------------------


def write_program_enrollments(program_uuid, enrollment_requests, create, update):
    """Create and/or update program enrollments; return a status per student key.

    ``enrollment_requests`` are dicts with ``external_user_key``, ``status`` and,
    when creating, ``curriculum_uuid``. Statuses are ``ProgramOperationStatuses``,
    plus ``user-already-enrolled`` for a key whose SSO account is in the program
    under another key, and ``invalid-curriculum`` for a new learner whose curriculum
    is not the program's.

    Raises:
        ValueError: neither ``create`` nor ``update``, or a malformed request.
        ProgramDoesNotExistException: the catalog does not know the program.
    """
    from program_enrollments.api import write_program_enrollments as write
    from program_enrollments.data import ProgramEnrollmentRequest

    if not (create or update):
        raise ValueError("At least one of (create, update) must be True")
    requests = [
        ProgramEnrollmentRequest(
            student_key=request["external_user_key"],
            status=request["status"],
            curriculum_uuid=request.get("curriculum_uuid"),
        )
        for request in enrollment_requests
    ]
    return _call_writer(
        program_uuid, lambda: write(program_uuid=program_uuid, requests=requests, create=create, update=update)
    )


def write_program_course_enrollments(program_uuid, course_key, enrollment_requests, create, update):
    """Create and/or update program course enrollments in one course run; return a status per student key.

    ``enrollment_requests`` are dicts with ``external_user_key``, ``status`` and
    ``course_staff`` (True, False or None). Statuses are ``ProgramCourseOperationStatuses``,
    plus ``conflicted`` for a learner active in the course through another program.

    Raises:
        ValueError: neither ``create`` nor ``update``, a malformed request, or a course
            run that is not in the program.
        ProgramDoesNotExistException: the catalog does not know the program.
        NonExistentCourseError: the LMS does not know the course run.
    """
    from program_enrollments.api import write_program_course_enrollments as write
    from program_enrollments.data import CourseEnrollmentRequest

    if not (create or update):
        raise ValueError("At least one of (create, update) must be True")
    requests = [
        CourseEnrollmentRequest(
            student_key=request["external_user_key"],
            status=request["status"],
            course_staff=request.get("course_staff"),
        )
        for request in enrollment_requests
    ]
    return _call_writer(
        program_uuid,
        lambda: write(
            program_uuid=program_uuid, course_key=course_key, requests=requests, create=create, update=update
        ),
    )


def _call_writer(program_uuid, call):
    """Run a write of this app's API, raising the built-in's exceptions for its errors."""
    from program_enrollments.exceptions import CourseDoesNotExist, InvalidRequest, ProgramDoesNotExist

    try:
        return call()
    except ProgramDoesNotExist:
        raise ProgramDoesNotExistException(program_uuid) from None
    except CourseDoesNotExist as error:
        from common.djangoapps.student.models import NonExistentCourseError

        raise NonExistentCourseError(str(error)) from error
    except InvalidRequest as error:
        raise ValueError(str(error)) from error


def enroll_in_masters_track(user, course_key, status):
    """Make sure ``user`` has a masters-track course enrollment in ``course_key``; return it.

    ``active``: created or activated, an audit/honor one upgraded (other modes
    kept), through the LMS backend. ``inactive``: created inactive when missing;
    an existing one is left as it is (another program's active enrollment may
    back it; this app's writes release course enrollments that nothing backs).

    Raises:
        ValueError: an unknown status.
        NonExistentCourseError: the LMS does not know the course run.
    """
    from common.djangoapps.student.models import CourseEnrollment, NonExistentCourseError
    from opaque_keys.edx.keys import CourseKey

    from program_enrollments.backends import lms_backend

    if status not in ProgramCourseEnrollmentStatuses.__ALL__:
        raise ValueError(f"invalid ProgramCourseEnrollmentStatus: {status}")
    key = course_key if isinstance(course_key, CourseKey) else CourseKey.from_string(str(course_key))
    backend = lms_backend()
    if not backend.course_exists(key):
        log.error("Cannot enroll user=%s in non-existent course=%s", user.id, key)
        raise NonExistentCourseError
    active = status == ProgramCourseEnrollmentStatus.ACTIVE
    enrollment_id = backend.enroll(key, [user.id], active=active)[user.id]
    return CourseEnrollment.objects.get(id=enrollment_id)


# --- grades -----------------------------------------------------------------------------------


class BaseProgramCourseGrade:
    """The grade (or the error) of one program course enrollment's learner, with the built-in's attributes."""

    is_error = False

    def __init__(self, program_course_enrollment):
        self.program_course_enrollment = program_course_enrollment


class ProgramCourseGradeOk(BaseProgramCourseGrade):
    """A learner's grade: ``passed``, ``percent``, ``letter_grade``."""

    def __init__(self, program_course_enrollment, course_grade):
        super().__init__(program_course_enrollment)
        self.passed = course_grade.passed
        self.percent = course_grade.percent
        self.letter_grade = course_grade.letter_grade


class ProgramCourseGradeError(BaseProgramCourseGrade):
    """A learner whose grade could not be computed: ``error``."""

    is_error = True

    def __init__(self, program_course_enrollment, exception=None):
        super().__init__(program_course_enrollment)
        self.error = str(exception) if exception else "Unknown error"


def iter_program_course_grades(program_uuid, course_key, paginate_queryset_fn=None):
    """Yield ``ProgramCourseGradeOk`` or ``ProgramCourseGradeError`` for each realized learner in the course run.

    The built-in's signature and results, read through this app's
    ``api.iter_program_course_grades`` (one grades read per page).
    """
    from program_enrollments.api import iter_program_course_grades as iterate

    for result in iterate(program_uuid=program_uuid, course_key=course_key, paginate_queryset_fn=paginate_queryset_fn):
        if result.is_error:
            yield ProgramCourseGradeError(result.program_course_enrollment, result.error)
        else:
            yield ProgramCourseGradeOk(result.program_course_enrollment, result.grade)
