"""How ``/oauth2/access_token`` checks a client's credentials: at one cost, whatever the client id.

django-oauth-toolkit hashes client secrets (``CLIENT_SECRET_HASHER``, by default Django's
password hasher): a known client id costs one hash verification, an unknown one a database
lookup only, so the response time told which client ids exist. Here every attempt that names a
client id costs exactly one verification by the same hasher: an unknown id (or one that cannot
exist) is checked against a dummy hash, and a secret stored in clear (*Hash client secret*
unchecked) is checked against it as well before the constant-time comparison.

It also keeps malformed credentials a refusal (401 ``invalid_client``) rather than a 500: a
client id that no application can have (a NUL character, which PostgreSQL refuses in a query;
longer than the column) is never looked up, and HTTP Basic credentials that are not ASCII are
treated as no Basic credentials.
"""

from __future__ import annotations

from django.contrib.auth.hashers import check_password, get_hasher, identify_hasher, make_password
from django.utils.crypto import constant_time_compare, get_random_string
from oauth2_provider.models import get_application_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.settings import oauth2_settings

# Set on oauthlib's request by _load_application when the client id names no usable application.
_MISSED = "_program_enrollments_client_missed"

_dummy_hashes: dict[str, str] = {}


def _dummy_hash() -> str:
    """A hash of a random secret by the current client-secret hasher, made once per hasher and work factor."""
    hasher = get_hasher(oauth2_settings.CLIENT_SECRET_HASHER)
    encoded = _dummy_hashes.get(hasher.algorithm)
    if encoded is None or hasher.must_update(encoded):
        encoded = make_password(get_random_string(32), hasher=oauth2_settings.CLIENT_SECRET_HASHER)
        _dummy_hashes[hasher.algorithm] = encoded
    return encoded


def _possible_client_id(client_id) -> bool:
    max_length = get_application_model()._meta.get_field("client_id").max_length
    return isinstance(client_id, str) and "\x00" not in client_id and len(client_id) <= max_length


class TokenEndpointValidator(OAuth2Validator):
    """django-oauth-toolkit's validator, with client authentication at an even cost and without 500s."""

    def _extract_basic_auth(self, request):
        credentials = super()._extract_basic_auth(request)
        # base64 of non-ASCII text raises a ValueError that the toolkit does not expect (a 500).
        if credentials is not None and not credentials.isascii():
            return None
        return credentials

    def _load_application(self, client_id, request):
        application = super()._load_application(client_id, request) if _possible_client_id(client_id) else None
        # A request that names no client id has nothing to hide: it costs no verification.
        setattr(request, _MISSED, application is None and bool(client_id))
        return application

    def _check_secret(self, provided_secret, stored_secret):
        try:
            identify_hasher(stored_secret)
        except ValueError:  # stored in clear: the hasher's work is done all the same
            check_password(provided_secret, _dummy_hash())
            return constant_time_compare(provided_secret, stored_secret)
        return check_password(provided_secret, stored_secret)

    def _authenticate_basic_auth(self, request):
        return self._at_even_cost(super()._authenticate_basic_auth, request, secret="")

    def _authenticate_request_body(self, request):
        secret = getattr(request, "client_secret", "") or ""
        return self._at_even_cost(super()._authenticate_request_body, request, secret=secret)

    def _at_even_cost(self, authenticate, request, *, secret):
        """``authenticate(request)``, then a dummy verification when it stopped at an unknown client id."""
        setattr(request, _MISSED, False)
        authenticated = authenticate(request)
        if getattr(request, _MISSED, False):
            check_password(secret, _dummy_hash())
        return authenticated
