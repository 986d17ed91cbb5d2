"""Strict verification of the standalone host's HS256 JWTs.

edx-drf-extensions first tries the asymmetric keys of
``JWT_AUTH['JWT_PUBLIC_SIGNING_JWK_SET']``; when none are configured that
attempt checks against an empty key set and counts as verified, so a token
signed with any key would pass. The standalone host signs with a shared
secret only, so its decode handler checks the signature, audience, issuer and
expiry against that secret first, then lets edx-drf-extensions fill in the
Open edX claim defaults.
"""

import jwt
from django.conf import settings
from edx_rest_framework_extensions.auth.jwt.decoder import jwt_decode_handler as edx_jwt_decode_handler


def decode_handler(token):
    """Return the claims of a token signed by one of the configured issuers; raise InvalidTokenError otherwise."""
    errors = []
    for issuer in settings.JWT_AUTH["JWT_ISSUERS"]:
        try:
            jwt.decode(
                token,
                issuer["SECRET_KEY"],
                algorithms=[settings.JWT_AUTH.get("JWT_ALGORITHM", "HS256")],
                audience=issuer["AUDIENCE"],
                issuer=issuer["ISSUER"],
                leeway=settings.JWT_AUTH.get("JWT_LEEWAY", 0),
                options={"require": ["exp", "iat"]},
            )
            break
        except jwt.InvalidTokenError as error:
            errors.append(error)
    else:
        raise errors[-1] if errors else jwt.InvalidTokenError("No JWT issuer is configured.")
    return edx_jwt_decode_handler(token)
