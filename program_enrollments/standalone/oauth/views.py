"""``/oauth2/access_token``: OAuth2 tokens, as JWTs unless asked for a plain ``Bearer`` token.

The Open edX LMS issues a JWT when asked with ``token_type=jwt`` and a ``Bearer`` token
otherwise. The standalone host's API accepts JWTs only, so a token asked for without a
``token_type`` is a JWT here (``token_type=jwt`` works as in the LMS); ``token_type=bearer``
still gets the toolkit's plain OAuth2 token, and any other ``token_type`` is refused (400).

Client credentials only. Failed attempts are throttled (``throttling``), client secrets are checked
at one cost whatever the client id (``validators``), and every refusal is a JSON OAuth2 error
(4xx), whatever the request carries.
"""

import json

from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation
from django.http import JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from oauth2_provider.models import AccessToken
from oauth2_provider.views import TokenView

from program_enrollments.standalone.oauth import throttling
from program_enrollments.standalone.oauth.standing import application_standing
from program_enrollments.standalone.oauth.tokens import issue_jwt

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

# ``token_type`` values: a JWT (what the API accepts, the default) or the toolkit's plain Bearer token.
TOKEN_TYPES = ("jwt", "bearer")


def _oauth_error(status, error, description, headers=None):
    return JsonResponse(
        {"error": error, "error_description": description}, status=status, headers={**_NO_STORE, **(headers or {})}
    )


def _unreadable_body(request):
    """The 4xx answer to a body Django cannot read as a form (too large, too many fields, broken), else None."""
    try:
        request.POST  # noqa: B018 - parsed here, so that its errors are the client's
    except RequestDataTooBig:
        return _oauth_error(413, "invalid_request", "The request body is too large.")
    except (SuspiciousOperation, BadRequest, MultiPartParserError):
        return _oauth_error(400, "invalid_request", "The request body is not a readable form.")
    return None


def _refusal(token):
    """Why the token's application may not have tokens now (disabled, inactive user), else None."""
    application = token.application
    user = token.user or application.user
    if application_standing(application.client_id) is None:
        return "The application is disabled."
    if user is not None and not user.is_active:
        return "The application's service user is inactive."
    return None


class AccessTokenView(TokenView):
    # From the start: the toolkit hides the secret only once its own code runs.
    @method_decorator(sensitive_post_parameters("client_secret", "password"))
    def post(self, request, *args, **kwargs):
        wait = throttling.retry_after(request)
        if wait is not None:
            return _oauth_error(
                429,
                "slow_down",
                f"Too many failed attempts; try again in {wait} seconds.",
                headers={"Retry-After": str(wait)},
            )
        response = self._token_response(request, *args, **kwargs)
        if 400 <= response.status_code < 500:
            throttling.record_failure(request)
        return response

    def _token_response(self, request, *args, **kwargs):
        unreadable = _unreadable_body(request)
        if unreadable is not None:
            return unreadable
        # The host's applications use the client-credentials grant only (docs/tokens.rst); the toolkit's
        # other grants are not offered (its device-code branch answered a 500 without device_code).
        if request.POST.get("grant_type") != "client_credentials":
            return _oauth_error(400, "unsupported_grant_type", "Only the client_credentials grant is supported.")
        token_type = request.POST.get("token_type", "").lower() or "jwt"
        if token_type not in TOKEN_TYPES:
            return _oauth_error(
                400, "invalid_request", "token_type must be jwt (the default; the API accepts JWTs) or bearer."
            )
        response = super().post(request, *args, **kwargs)
        if response.status_code != 200:
            return response
        data = json.loads(response.content)
        token = AccessToken.objects.select_related("application__access", "application__user", "user").get(
            token=data["access_token"]
        )
        refusal = _refusal(token)
        if refusal is not None:
            token.delete()  # a plain Bearer token must not outlive the refusal either
            return _oauth_error(401, "invalid_client", refusal)
        if token_type == "bearer":
            return response
        application = token.application
        user = token.user or application.user
        if user is None:
            return _oauth_error(400, "invalid_client", "The application has no service user.")
        access = getattr(application, "access", None)
        scopes = token.scope.split()
        filters = []
        is_restricted = False
        if access is not None:
            allowed = set(access.scopes.split())
            scopes = [scope for scope in scopes if scope in allowed]
            filters = [f"content_org:{organization}" for organization in access.organizations.split()]
            is_restricted = access.is_restricted
        body = {
            "access_token": issue_jwt(
                application=application,
                user=user,
                scopes=scopes,
                filters=filters,
                is_restricted=is_restricted,
                expires_in=data["expires_in"],
            ),
            "token_type": "JWT",
            "expires_in": data["expires_in"],
            "scope": " ".join(scopes),
        }
        return JsonResponse(body, headers=_NO_STORE)
