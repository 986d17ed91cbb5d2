"""Per-program authorization, decided here for every endpoint.

* The claims judged are the token's **current** ones: the host's LMS backend
  (``current_token_claims``) may replace them with what it knows now (the standalone
  host: its application's current access entry), or refuse the token.
* A restricted JWT application (``is_restricted`` claim) needs the scope
  ``program_enrollments:read`` (or ``:write`` to change anything) and a
  ``content_org:<ORG>`` filter naming the program's authoring organization.
* Anyone else is judged as a user (model permissions or an organization grant,
  see ``program_enrollments.api.access``). An unrestricted JWT whose ``scopes`` name
  a ``program_enrollments`` scope is also held to them: ``:read`` alone never writes.
  A JWT naming none of them (an LMS sign-in JWT, a token minted elsewhere) is judged
  as its user alone.
* Nobody acts through an inactive account, whichever authentication class let
  the request in (an Open edX LMS configures classes that admit inactive users).

The views' ``permission_classes`` spell both kinds of caller out with
edx-drf-extensions' ``NotJwtRestrictedApplication`` and ``JwtRestrictedApplication``,
in the shape of its ``JWT_RESTRICTED_APPLICATION_OR_USER_ACCESS``. Inside an LMS,
``EnsureJWTAuthSettingsMiddleware`` appends ``NotJwtRestrictedApplication`` to the
permission classes of every view that accepts JWTs and does not name that class
anywhere in its ``&``/``|``/``~`` composition; appended, it would refuse every
restricted token. Because ours name it, the middleware leaves them as they are. Both
branches end in ``may_act_on``, which judges the current claims (a token's
``is_restricted`` may have changed since it was issued).
"""

from __future__ import annotations

from edx_rest_framework_extensions.auth.jwt.authentication import get_decoded_jwt_from_auth
from edx_rest_framework_extensions.permissions import JwtRestrictedApplication, NotJwtRestrictedApplication
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated

from program_enrollments.api.access import can_access_program, readable_organizations
from program_enrollments.backends import lms_backend
from program_enrollments.data import ProgramData

READ_SCOPE = "program_enrollments:read"
WRITE_SCOPE = "program_enrollments:write"
CONTENT_ORG_FILTER = "content_org:"


_CLAIMS_ATTRIBUTE = "_program_enrollments_current_claims"


def current_claims(request) -> dict | None:
    """The claims of the request's JWT as the host judges them now; None without a JWT.

    Asked once per request (the host may look its application up).
    """
    if not hasattr(request, _CLAIMS_ATTRIBUTE):
        payload = get_decoded_jwt_from_auth(request)
        setattr(request, _CLAIMS_ATTRIBUTE, lms_backend().current_token_claims(payload) if payload else None)
    return getattr(request, _CLAIMS_ATTRIBUTE)


def _restricted_payload(request) -> dict | None:
    """The current claims of a request made by a restricted application, else None."""
    payload = current_claims(request)
    return payload if payload and payload.get("is_restricted") else None


def _scopes_allow(scopes, *, write: bool) -> bool:
    return WRITE_SCOPE in scopes if write else bool({READ_SCOPE, WRITE_SCOPE} & scopes)


def _unrestricted_scopes_allow(request, *, write: bool) -> bool:
    """An unrestricted JWT naming one of the API's scopes is held to them; other callers are not limited."""
    payload = current_claims(request)
    ours = {READ_SCOPE, WRITE_SCOPE} & set((payload or {}).get("scopes") or ())
    return not ours or _scopes_allow(ours, write=write)


def _is_active_user(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def application_may_act_on(payload: dict, program: ProgramData | None, *, write: bool) -> bool:
    """Whether a restricted application's token (its decoded ``payload``) allows the access."""
    if program is None:
        return False
    scopes = set(payload.get("scopes") or ())
    filters = set(payload.get("filters") or ())
    return _scopes_allow(scopes, write=write) and f"{CONTENT_ORG_FILTER}{program.organization_key}" in filters


def user_may_act_on(user, program: ProgramData | None, *, write: bool) -> bool:
    """Whether ``user``, judged as a user (not through a restricted token), may act on ``program``."""
    return can_access_program(user, program, write=write)


def may_act_on(request, program: ProgramData | None, *, write: bool) -> bool:
    """Whether the request's caller may read (or write) the enrollments of ``program``.

    For a program the catalog does not know, only callers with global access pass (and
    then get a 404): nobody else learns whether it exists.
    """
    if not _is_active_user(request.user):
        return False
    payload = _restricted_payload(request)
    if payload is not None:
        return application_may_act_on(payload, program, write=write)
    return _unrestricted_scopes_allow(request, write=write) and user_may_act_on(request.user, program, write=write)


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
    if not _unrestricted_scopes_allow(request, write=False):
        return set()
    return readable_organizations(request.user)


class IsActiveUser(BasePermission):
    """The authenticated account is active (a deactivated user stops working at once)."""

    def has_permission(self, request, view):
        return _is_active_user(request.user)


def _writes(request) -> bool:
    return request.method not in SAFE_METHODS


class UserProgramAccess(BasePermission):
    """The caller may act on the program of the URL (``view.get_program()``), judged on its current claims."""

    def has_permission(self, request, view):
        return may_act_on(request, view.get_program(), write=_writes(request))


class ApplicationProgramAccess(UserProgramAccess):
    """A restricted application's current scopes and ``content_org`` filters cover the program of the URL."""


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
