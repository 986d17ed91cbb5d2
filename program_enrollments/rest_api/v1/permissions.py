"""Per-program authorization, decided here for every endpoint.

* A restricted JWT application (``is_restricted`` claim) needs the scope
  ``program_enrollments:read`` (or ``:write`` to change anything) and a
  ``content_org:<ORG>`` filter naming the program's authoring organization.
* Anyone else is judged as a user: global staff, or an organization grant
  (see ``program_enrollments.api.access``).
"""

from __future__ import annotations

from edx_rest_framework_extensions.auth.jwt.authentication import get_decoded_jwt_from_auth
from rest_framework.permissions import SAFE_METHODS, BasePermission

from program_enrollments.api.access import can_access_program, readable_organizations
from program_enrollments.data import ProgramData

READ_SCOPE = "program_enrollments:read"
WRITE_SCOPE = "program_enrollments:write"


def may_act_on(request, program: ProgramData | None, *, write: bool) -> bool:
    """Whether the request's caller may read (or write) the enrollments of ``program``.

    For a program the catalog does not know, only staff pass (and then get a 404):
    nobody else learns whether it exists.
    """
    payload = get_decoded_jwt_from_auth(request)
    if payload and payload.get("is_restricted"):
        if program is None:
            return False
        scopes = set(payload.get("scopes") or ())
        filters = set(payload.get("filters") or ())
        scope_ok = WRITE_SCOPE in scopes if write else bool({READ_SCOPE, WRITE_SCOPE} & scopes)
        return scope_ok and f"content_org:{program.organization_key}" in filters
    user = request.user
    if program is None:
        return bool(user and user.is_authenticated and user.is_active and user.is_staff)
    return can_access_program(user, program, write=write)


def readable_organizations_for(request) -> set[str] | None:
    """The organizations whose programs the caller may read; None means every organization."""
    payload = get_decoded_jwt_from_auth(request)
    if payload and payload.get("is_restricted"):
        if not {READ_SCOPE, WRITE_SCOPE} & set(payload.get("scopes") or ()):
            return set()
        prefix = "content_org:"
        return {value[len(prefix) :] for value in payload.get("filters") or () if value.startswith(prefix)}
    return readable_organizations(request.user)


class ProgramAccess(BasePermission):
    """Checks the program named in the URL (``view.get_program()``); writes need write access."""

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        return may_act_on(request, view.get_program(), write=request.method not in SAFE_METHODS)
