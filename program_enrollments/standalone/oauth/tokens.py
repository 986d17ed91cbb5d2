"""JWTs in the Open edX shape, signed with the host's JWT_AUTH issuer settings."""

import time
import uuid

import jwt
from django.conf import settings

from program_enrollments.standalone.oauth.standing import CLIENT_ID_CLAIM


def issue_jwt(*, application, user, scopes, filters, is_restricted, expires_in):
    """Return a signed JWT for ``user`` (the application's service user) with the given claims.

    The ``client_id`` claim names the application, so that the API can judge the token by
    the application's current standing (``standing.current_claims``).
    """
    issuer = settings.JWT_AUTH["JWT_ISSUERS"][0]
    now = int(time.time())
    payload = {
        "iss": issuer["ISSUER"],
        "aud": issuer["AUDIENCE"],
        "iat": now,
        "exp": now + int(expires_in),
        "jti": str(uuid.uuid4()),
        "version": "1.2.0",
        "sub": str(user.pk),
        "user_id": user.pk,
        "preferred_username": user.get_username(),
        "email": user.email,
        "administrator": bool(user.is_staff),
        "scopes": list(scopes),
        "filters": list(filters),
        "is_restricted": bool(is_restricted),
        CLIENT_ID_CLAIM: application.client_id,
    }
    return jwt.encode(payload, issuer["SECRET_KEY"], algorithm=settings.JWT_AUTH.get("JWT_ALGORITHM", "HS256"))
