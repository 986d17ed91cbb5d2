"""An application's standing now: whether it may have tokens, and the claims they carry at this request."""

from __future__ import annotations

from oauth2_provider.models import Application

# The claim that names the application a token of /oauth2/access_token was issued to.
CLIENT_ID_CLAIM = "client_id"
_API_SCOPES = {"program_enrollments:read", "program_enrollments:write"}


def application_standing(client_id: str) -> Application | None:
    """The application of ``client_id`` if it exists and is enabled, else None."""
    if not isinstance(client_id, str) or "\x00" in client_id:
        return None
    application = Application.objects.select_related("access").filter(client_id=client_id).first()
    if application is None:
        return None
    access = getattr(application, "access", None)
    if access is not None and not access.enabled:
        return None
    return application


def current_claims(claims: dict) -> dict:
    """``claims`` with the current ``is_restricted``, ``scopes`` and ``filters`` of their application.

    A token asked for some scopes keeps at most those; the application's access entry, as it is
    now, decides which of them still hold and which organizations the token covers. An
    application whose entry grants none of the API's scopes any more is treated as a
    restricted application without scopes: it can do nothing. Claims naming no application
    (tokens signed elsewhere) are returned as they are; a token whose application is gone never
    gets here (authentication refuses it).
    """
    client_id = claims.get(CLIENT_ID_CLAIM)
    if client_id is None:
        return claims
    application = application_standing(client_id)
    if application is None:
        return {**claims, "is_restricted": True, "scopes": [], "filters": []}
    access = getattr(application, "access", None)
    if access is None:
        return {**claims, "is_restricted": False, "filters": []}
    allowed = set(access.scopes.split())
    scopes = [scope for scope in claims.get("scopes") or () if scope in allowed]
    if not _API_SCOPES & set(scopes):
        return {**claims, "is_restricted": True, "scopes": [], "filters": []}
    return {
        **claims,
        "is_restricted": access.is_restricted,
        "scopes": scopes,
        "filters": [f"content_org:{organization}" for organization in access.organizations.split()],
    }
