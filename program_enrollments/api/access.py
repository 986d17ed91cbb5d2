"""Who may read or write which organization's programs: model permissions, or an organization grant.

The REST API decides here, as the admin does, from the database and never from a token's claims:

* a superuser may do everything;
* a user holding the **change** permission on both enrollment models
  (``program_enrollments.change_programenrollment`` and ``change_programcourseenrollment``)
  may read and write every program; the **view** permission on both lets them read every
  program. The staff flag alone grants nothing (it only opens the admin's door);
* anyone else needs an organization grant: ``read`` to read, ``write`` to write.
"""

from __future__ import annotations

from program_enrollments.data import ProgramData
from program_enrollments.models import OrganizationGrant

_APP_LABEL = "program_enrollments"
_ENROLLMENT_MODELS = ("programenrollment", "programcourseenrollment")


def _is_active(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def has_global_access(user, *, write: bool) -> bool:
    """Whether ``user`` may read (or, with ``write``, change) the enrollments of every program.

    Writing needs the change permission on both enrollment models; reading needs the
    view (or change) permission on both. Superusers have every permission.
    """
    if not _is_active(user):
        return False
    if user.is_superuser:
        return True
    actions = ("change",) if write else ("view", "change")
    return all(
        any(user.has_perm(f"{_APP_LABEL}.{action}_{model}") for action in actions) for model in _ENROLLMENT_MODELS
    )


def can_access_program(user, program: ProgramData | None, *, write: bool) -> bool:
    """Whether ``user`` may read (or, with ``write``, change) the enrollments of ``program``.

    ``None`` (a program the catalog does not know) is open to global access only, so that
    nobody else learns whether it exists.
    """
    if not _is_active(user):
        return False
    if has_global_access(user, write=write):
        return True
    if program is None:
        return False
    grants = OrganizationGrant.objects.filter(user=user, organization_key=program.organization_key)
    if write:
        grants = grants.filter(access=OrganizationGrant.Access.WRITE)
    return grants.exists()


def may_write_some_organization(user) -> bool:
    """Whether ``user`` may change the enrollments of at least one organization's programs."""
    if not _is_active(user):
        return False
    return has_global_access(user, write=True) or (
        OrganizationGrant.objects.filter(user=user, access=OrganizationGrant.Access.WRITE).exists()
    )


def readable_organizations(user) -> set[str] | None:
    """The organizations whose programs ``user`` may read; None means every organization."""
    if not _is_active(user):
        return set()
    if has_global_access(user, write=False):
        return None
    return set(OrganizationGrant.objects.filter(user=user).values_list("organization_key", flat=True))
