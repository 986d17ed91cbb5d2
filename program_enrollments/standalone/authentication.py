"""The standalone host's JWT authentication: a token counts only while its application and user still do.

edx-drf-extensions' ``JwtAuthentication`` trusts a valid signature until the token expires
and creates the token's user when it is missing (``get_or_create``), so a deleted service
user came back at the next request. For a token the host's own ``/oauth2/access_token``
issued (it carries the ``client_id`` claim), this class asks the database at every request:
the application must still exist and be enabled, and the user must still exist (same id
and username, never re-created) and be active. Tokens signed elsewhere with the shared
issuer settings name no application; their user must be active, and is created on first
use as before.
"""

from django.contrib.auth import get_user_model
from edx_rest_framework_extensions.auth.jwt.authentication import JwtAuthentication
from rest_framework import exceptions

from program_enrollments.standalone.oauth.standing import CLIENT_ID_CLAIM, application_standing


class StandaloneJwtAuthentication(JwtAuthentication):
    def authenticate_credentials(self, payload):
        client_id = payload.get(CLIENT_ID_CLAIM)
        if client_id is not None:
            if application_standing(client_id) is None:
                raise exceptions.AuthenticationFailed("The token's application no longer exists or is disabled.")
            username = self._get_username_from_payload(payload)
            exists = get_user_model().objects.filter(pk=payload.get("user_id"), username=username).exists()
            if not username or not exists:
                raise exceptions.AuthenticationFailed("The token's user no longer exists.")
        user = super().authenticate_credentials(payload)
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return user
