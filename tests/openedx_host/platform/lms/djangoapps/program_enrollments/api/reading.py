"""
Stand-in of ``lms/djangoapps/program_enrollments/api/reading.py``: the built-in app's read functions.

Behaviour kept from the platform, since callers depend on it:

- filters passed as ``None`` are ignored (an empty list is a filter that matches nothing);
- one external key is matched with ``iexact``, a list of keys with one anchored ``iregex``: both
  case-insensitive;
- ``realized_only``/``waiting_only`` and ``active_only``/``inactive_only`` are mutually exclusive
  (``ValueError``); so is giving neither a user nor a key where a learner is required;
- ``get_external_key_by_user_and_course`` orders the learner's PCEs in the course by status, then newest
  ``modified`` first (``active`` sorts before ``inactive``) and answers the first one's key.

Platform modules (catalog cache, organizations, social auth, course roles) are imported inside the
functions that need them.
"""

import re
from functools import reduce
from operator import or_

from django.db.models import Q

from ..constants import ProgramCourseEnrollmentRoles, ProgramCourseEnrollmentStatuses
from ..exceptions import (
    BadOrganizationShortNameException,
    ProgramDoesNotExistException,
    ProgramHasNoAuthoringOrganizationException,
    ProviderDoesNotExistException,
)
from ..models import ProgramCourseEnrollment, ProgramEnrollment

_NO_STUDENT = "user and external_user_key are both None; at least one must be provided."
_NO_STUDENTS = (
    "user list and external_user_key_list are both empty or None; At least one of the lists must be provided."
)


def _exclusive(first_name, first, second_name, second):
    if first and second:
        raise ValueError(f"{first_name} and {second_name} are mutually exclusive; at most one of them may be True.")


def _keys_regex(external_user_keys):
    if not external_user_keys:
        return None
    return r"^(" + "|".join(re.escape(key) for key in external_user_keys) + ")$"


def _given(**filters):
    return {lookup: value for lookup, value in filters.items() if value is not None}


def _linked(prefix, realized_only, waiting_only):
    if realized_only:
        return {f"{prefix}user__isnull": False}
    if waiting_only:
        return {f"{prefix}user__isnull": True}
    return {}


def _course_status(active_only, inactive_only):
    if active_only:
        return {"status": ProgramCourseEnrollmentStatuses.ACTIVE}
    if inactive_only:
        return {"status": ProgramCourseEnrollmentStatuses.INACTIVE}
    return {}


def get_program_enrollment(program_uuid, user=None, external_user_key=None, curriculum_uuid=None):
    """The one PE of a learner in a program; raises DoesNotExist / MultipleObjectsReturned / ValueError."""
    if not (user or external_user_key):
        raise ValueError(_NO_STUDENT)
    return ProgramEnrollment.objects.get(
        program_uuid=program_uuid,
        **_given(user=user, external_user_key__iexact=external_user_key, curriculum_uuid=curriculum_uuid),
    )


def get_program_course_enrollment(program_uuid, course_key, user=None, external_user_key=None, curriculum_uuid=None):
    """The one PCE of a learner in a course of a program; raises as ``get_program_enrollment``."""
    if not (user or external_user_key):
        raise ValueError(_NO_STUDENT)
    return ProgramCourseEnrollment.objects.get(
        program_enrollment__program_uuid=program_uuid,
        course_key=course_key,
        **_given(
            program_enrollment__user=user,
            program_enrollment__external_user_key__iexact=external_user_key,
            program_enrollment__curriculum_uuid=curriculum_uuid,
        ),
    )


def fetch_program_enrollments(
    program_uuid,
    curriculum_uuids=None,
    users=None,
    external_user_keys=None,
    program_enrollment_statuses=None,
    realized_only=False,
    waiting_only=False,
):
    """The PEs of a program, filtered."""
    _exclusive("realized_only", realized_only, "waiting_only", waiting_only)
    return ProgramEnrollment.objects.filter(
        program_uuid=program_uuid,
        **_given(
            curriculum_uuid__in=curriculum_uuids,
            user__in=users,
            external_user_key__iregex=_keys_regex(external_user_keys),
            status__in=program_enrollment_statuses,
        ),
        **_linked("", realized_only, waiting_only),
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
    """The PCEs of a course run within a program, filtered."""
    _exclusive("active_only", active_only, "inactive_only", inactive_only)
    _exclusive("realized_only", realized_only, "waiting_only", waiting_only)
    return ProgramCourseEnrollment.objects.filter(
        program_enrollment__program_uuid=program_uuid,
        course_key=course_key,
        **_given(
            program_enrollment__curriculum_uuid__in=curriculum_uuids,
            program_enrollment__user__in=users,
            program_enrollment__external_user_key__iregex=_keys_regex(external_user_keys),
            program_enrollment__status__in=program_enrollment_statuses,
            program_enrollment__in=program_enrollments,
        ),
        **_course_status(active_only, inactive_only),
        **_linked("program_enrollment__", realized_only, waiting_only),
    )


def fetch_program_enrollments_by_student(
    user=None,
    external_user_key=None,
    program_uuids=None,
    curriculum_uuids=None,
    program_enrollment_statuses=None,
    realized_only=False,
    waiting_only=False,
):
    """The PEs of one learner (by user and/or key), filtered."""
    if not (user or external_user_key):
        raise ValueError(_NO_STUDENT)
    _exclusive("realized_only", realized_only, "waiting_only", waiting_only)
    return ProgramEnrollment.objects.filter(
        **_given(
            user=user,
            external_user_key__iexact=external_user_key,
            program_uuid__in=program_uuids,
            curriculum_uuid__in=curriculum_uuids,
            status__in=program_enrollment_statuses,
        ),
        **_linked("", realized_only, waiting_only),
    )


def fetch_program_enrollments_by_students(
    users=None,
    external_user_keys=None,
    program_enrollment_statuses=None,
    realized_only=False,
    waiting_only=False,
):
    """The PEs of several learners, filtered."""
    if not (users or external_user_keys):
        raise ValueError(_NO_STUDENTS)
    _exclusive("realized_only", realized_only, "waiting_only", waiting_only)
    return ProgramEnrollment.objects.filter(
        **_given(
            user__in=users,
            external_user_key__iregex=_keys_regex(external_user_keys),
            status__in=program_enrollment_statuses,
        ),
        **_linked("", realized_only, waiting_only),
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
    """The PCEs of several learners, filtered."""
    if not (users or external_user_keys):
        raise ValueError(_NO_STUDENTS)
    _exclusive("active_only", active_only, "inactive_only", inactive_only)
    _exclusive("realized_only", realized_only, "waiting_only", waiting_only)
    return ProgramCourseEnrollment.objects.filter(
        **_given(
            program_enrollment__user__in=users,
            program_enrollment__external_user_key__iregex=_keys_regex(external_user_keys),
            program_enrollment__program_uuid__in=program_uuids,
            program_enrollment__curriculum_uuid__in=curriculum_uuids,
            course_key__in=course_keys,
            program_enrollment__status__in=program_enrollment_statuses,
        ),
        **_course_status(active_only, inactive_only),
        **_linked("program_enrollment__", realized_only, waiting_only),
    )


def get_external_key_by_user_and_course(user, course_key):
    """The external key of the program enrollment through which ``user`` takes the course, or None."""
    first = (
        ProgramCourseEnrollment.objects.filter(course_enrollment__user=user, course_key=course_key)
        .order_by("status", "-modified")
        .select_related("program_enrollment")
        .first()
    )
    return first.program_enrollment.external_user_key if first else None


def get_org_key_for_program(program_uuid):
    """The key of the program's first authoring organization, from the catalog cache."""
    from openedx.core.djangoapps.catalog.utils import get_programs

    program = get_programs(uuid=program_uuid)
    if program is None:
        raise ProgramDoesNotExistException(program_uuid)
    organizations = program.get("authoring_organizations")
    org_key = organizations[0].get("key") if organizations else None
    if not org_key:
        raise ProgramHasNoAuthoringOrganizationException(program_uuid)
    return org_key


def get_saml_providers_for_organization(organization):
    """The organization's current, enabled SAML provider configs (several while a provider is replaced)."""
    providers = list(organization.samlproviderconfig_set.current_set().filter(enabled=True))
    if not providers:
        raise ProviderDoesNotExistException(organization)
    return providers


def _saml_providers_by_org_key(org_key):
    from organizations.models import Organization

    try:
        organization = Organization.objects.get(short_name=org_key)
    except Organization.DoesNotExist as error:
        raise BadOrganizationShortNameException(org_key) from error
    return get_saml_providers_for_organization(organization)


def get_users_by_external_keys_and_org_key(external_user_keys, org_key):
    """``{key: User or None}`` for each key, through the organization's SAML providers' social auth uids."""
    from social_django.models import UserSocialAuth

    found = {}
    for provider in _saml_providers_by_org_key(org_key):
        uids = {provider.get_social_auth_uid(key) for key in external_user_keys}
        if not uids:
            continue
        for social_auth in UserSocialAuth.objects.filter(reduce(or_, (Q(uid__iexact=uid) for uid in uids))):
            found[provider.get_remote_id_from_social_auth(social_auth)] = social_auth.user
    users = dict.fromkeys(external_user_keys)
    users.update(found)
    return users


def get_users_by_external_keys(program_uuid, external_user_keys):
    """``get_users_by_external_keys_and_org_key`` for the organization of the program."""
    return get_users_by_external_keys_and_org_key(external_user_keys, get_org_key_for_program(program_uuid))


def get_provider_slug(provider_config):
    """The provider id without its ``saml-`` prefix."""
    provider_id = provider_config.provider_id
    return provider_id[len("saml-") :] if provider_id.startswith("saml-") else provider_id


def is_course_staff_enrollment(program_course_enrollment):
    """Whether the PCE's learner has (or, while waiting, is to get) the course staff role."""
    user = program_course_enrollment.program_enrollment.user
    if user:
        from common.djangoapps.student.roles import CourseStaffRole

        return CourseStaffRole(program_course_enrollment.course_key).has_user(user)
    return program_course_enrollment.courseaccessroleassignment_set.filter(
        role=ProgramCourseEnrollmentRoles.COURSE_STAFF
    ).exists()
