"""Mirrors ``openedx/core/lib/api/authentication.py``: DRF authentication by OAuth2 Bearer access tokens.

``Authorization: Bearer <token>`` is looked up among django-oauth-toolkit's ``AccessToken`` rows (as
the LMS issues them from ``/oauth2/access_token``). Failures are 401s with the platform's
``error_code`` values; a header of another scheme is left to the next authentication class.
"""

import logging

import django.utils.timezone
from edx_django_utils.monitoring import set_custom_attribute
from oauth2_provider import models as dot_models
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

OAUTH2_TOKEN_ERROR = "token_error"
OAUTH2_TOKEN_ERROR_EXPIRED = "token_expired"
OAUTH2_TOKEN_ERROR_MALFORMED = "token_malformed"
OAUTH2_TOKEN_ERROR_NONEXISTENT = "token_nonexistent"
OAUTH2_TOKEN_ERROR_NOT_PROVIDED = "token_not_provided"
OAUTH2_USER_NOT_ACTIVE_ERROR = "user_not_active"
OAUTH2_USER_DISABLED_ERROR = "user_is_disabled"

logger = logging.getLogger(__name__)


def _failure(error_code, message):
    return AuthenticationFailed({"error_code": error_code, "developer_message": message})


class BearerAuthentication(BaseAuthentication):
    """Bearer access tokens of django-oauth-toolkit; inactive users are refused."""

    www_authenticate_realm = "api"
    allow_inactive_users = False

    def authenticate(self, request):
        """``(user, token)``, ``None`` without a Bearer header, or ``AuthenticationFailed`` (401)."""
        set_custom_attribute("BearerAuthentication", "Failed")
        auth = get_authorization_header(request).split()
        if len(auth) == 1:
            raise _failure(OAUTH2_TOKEN_ERROR_NOT_PROVIDED, "Invalid token header. No credentials provided.")
        if len(auth) > 2:
            raise _failure(
                OAUTH2_TOKEN_ERROR_MALFORMED, "Invalid token header. Token string should not contain spaces."
            )
        if not auth or auth[0].lower() != b"bearer":
            set_custom_attribute("BearerAuthentication", "None")
            return None
        user, token = self.authenticate_credentials(auth[1].decode("utf8"))
        set_custom_attribute("BearerAuthentication", "Success")
        return user, token

    def authenticate_credentials(self, access_token):
        """The user and token of ``access_token``; refuses unknown, expired, disabled or inactive ones."""
        token = self.get_access_token(access_token)
        if not token:
            raise _failure(OAUTH2_TOKEN_ERROR_NONEXISTENT, "The provided access token does not match any valid tokens.")
        if token.expires < django.utils.timezone.now():
            raise _failure(OAUTH2_TOKEN_ERROR_EXPIRED, "The provided access token has expired and is no longer valid.")
        user = token.user
        has_application = dot_models.Application.objects.filter(user_id=user.id)
        if not user.has_usable_password() and not has_application:
            raise _failure(OAUTH2_USER_DISABLED_ERROR, f"User disabled by admin: {user.get_username()}")
        if not self.allow_inactive_users and not user.is_active:
            set_custom_attribute("BearerAuthentication_user_active", False)
            raise _failure(OAUTH2_USER_NOT_ACTIVE_ERROR, f"User inactive or deleted: {user.get_username()}")
        set_custom_attribute("BearerAuthentication_user_active", True)
        return user, token

    def get_access_token(self, access_token):
        """The ``AccessToken`` row of ``access_token``, or ``None``."""
        return dot_models.AccessToken.objects.select_related("user").filter(token=access_token).first()

    def authenticate_header(self, request):
        return f'Bearer realm="{self.www_authenticate_realm}"'


class BearerAuthenticationAllowInactiveUser(BearerAuthentication):
    """``BearerAuthentication`` that also admits users who have not activated their account."""

    allow_inactive_users = True


class OAuth2Authentication(BearerAuthentication):
    """The platform's old name of ``BearerAuthentication``."""


class OAuth2AuthenticationAllowInactiveUser(BearerAuthenticationAllowInactiveUser):
    """The platform's old name of ``BearerAuthenticationAllowInactiveUser``."""
