"""Who may read or write which organization's programs (staff, or an organization grant)."""

from __future__ import annotations

from program_enrollments.data import ProgramData
from program_enrollments.models import OrganizationGrant


def can_access_program(user, program: ProgramData, *, write: bool) -> bool:
    """Whether ``user`` may read (or, with ``write``, change) the enrollments of ``program``.

    Global staff may act on every program; other users need a grant for the
    program's authoring organization (a write grant to change anything).
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_staff:
        return True
    grants = OrganizationGrant.objects.filter(user=user, organization_key=program.organization_key)
    if write:
        grants = grants.filter(access=OrganizationGrant.Access.WRITE)
    return grants.exists()


def readable_organizations(user) -> set[str] | None:
    """The organizations whose programs ``user`` may read; None means every organization (staff)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return set()
    if user.is_staff:
        return None
    return set(OrganizationGrant.objects.filter(user=user).values_list("organization_key", flat=True))
