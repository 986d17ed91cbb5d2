"""Per-program authorization, decided here for every endpoint.

* A restricted JWT application (``is_restricted`` claim) needs the scope
  ``program_enrollments:read`` (or ``:write`` to change anything) and a
  ``content_org:<ORG>`` filter naming the program's authoring organization.
* Anyone else is judged as a user: global staff, or an organization grant
  (see ``program_enrollments.api.access``).
* Nobody acts through an inactive account, whichever authentication class let
  the request in (an Open edX LMS configures classes that admit inactive users).

The views' ``permission_classes`` spell both kinds of caller out with
edx-drf-extensions' ``NotJwtRestrictedApplication`` and ``JwtRestrictedApplication``,
in the shape of its ``JWT_RESTRICTED_APPLICATION_OR_USER_ACCESS``. Inside an LMS,
``EnsureJWTAuthSettingsMiddleware`` appends ``NotJwtRestrictedApplication`` to the
permission classes of every view that accepts JWTs and does not name that class
anywhere in its ``&``/``|``/``~`` composition; appended, it would refuse every
restricted token. Because ours name it, the middleware leaves them as they are.
"""

from __future__ import annotations

from edx_rest_framework_extensions.auth.jwt.authentication import get_decoded_jwt_from_auth
from edx_rest_framework_extensions.permissions import JwtRestrictedApplication, NotJwtRestrictedApplication
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated

from program_enrollments.api.access import can_access_program, readable_organizations
from program_enrollments.data import ProgramData

READ_SCOPE = "program_enrollments:read"
WRITE_SCOPE = "program_enrollments:write"
CONTENT_ORG_FILTER = "content_org:"


def _restricted_payload(request) -> dict | None:
    """The decoded JWT of a request made by a restricted application, else None."""
    payload = get_decoded_jwt_from_auth(request)
    return payload if payload and payload.get("is_restricted") else None


def _is_active_user(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def application_may_act_on(payload: dict, program: ProgramData | None, *, write: bool) -> bool:
    """Whether a restricted application's token (its decoded ``payload``) allows the access."""
    if program is None:
        return False
    scopes = set(payload.get("scopes") or ())
    filters = set(payload.get("filters") or ())
    scope_ok = WRITE_SCOPE in scopes if write else bool({READ_SCOPE, WRITE_SCOPE} & scopes)
    return scope_ok and f"{CONTENT_ORG_FILTER}{program.organization_key}" in filters


def user_may_act_on(user, program: ProgramData | None, *, write: bool) -> bool:
    """Whether ``user``, judged as a user (not through a restricted token), may act on ``program``."""
    if program is None:
        return _is_active_user(user) and user.is_staff
    return can_access_program(user, program, write=write)


def may_act_on(request, program: ProgramData | None, *, write: bool) -> bool:
    """Whether the request's caller may read (or write) the enrollments of ``program``.

    For a program the catalog does not know, only staff pass (and then get a 404):
    nobody else learns whether it exists.
    """
    if not _is_active_user(request.user):
        return False
    payload = _restricted_payload(request)
    if payload is not None:
        return application_may_act_on(payload, program, write=write)
    return user_may_act_on(request.user, program, write=write)


def readable_organizations_for(request) -> set[str] | None:
    """The organizations whose programs the caller may read; None means every organization."""
    if not _is_active_user(request.user):
        return set()
    payload = _restricted_payload(request)
    if payload is not None:
        if not {READ_SCOPE, WRITE_SCOPE} & set(payload.get("scopes") or ()):
            return set()
        return {
            value[len(CONTENT_ORG_FILTER) :]
            for value in payload.get("filters") or ()
            if value.startswith(CONTENT_ORG_FILTER)
        }
    return readable_organizations(request.user)


class IsActiveUser(BasePermission):
    """The authenticated account is active (a deactivated user stops working at once)."""

    def has_permission(self, request, view):
        return _is_active_user(request.user)


def _writes(request) -> bool:
    return request.method not in SAFE_METHODS


class UserProgramAccess(BasePermission):
    """A user (staff, or an organization grant) may act on the program of the URL (``view.get_program()``)."""

    def has_permission(self, request, view):
        return user_may_act_on(request.user, view.get_program(), write=_writes(request))


class ApplicationProgramAccess(BasePermission):
    """A restricted application's scopes and ``content_org`` filters cover the program of the URL."""

    def has_permission(self, request, view):
        payload = _restricted_payload(request)
        return payload is not None and application_may_act_on(payload, view.get_program(), write=_writes(request))


# The program endpoints: users are judged as users, restricted applications by their token.
PROGRAM_ACCESS = (
    IsAuthenticated
    & IsActiveUser
    & ((NotJwtRestrictedApplication & UserProgramAccess) | (JwtRestrictedApplication & ApplicationProgramAccess))
)

# The learner view admits both kinds of caller and filters what each may read itself
# (``readable_organizations_for``).
USER_OR_RESTRICTED_APPLICATION = (
    IsAuthenticated & IsActiveUser & (NotJwtRestrictedApplication | JwtRestrictedApplication)
)
