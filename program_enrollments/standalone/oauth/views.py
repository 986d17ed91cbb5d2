"""``/oauth2/access_token``: OAuth2 tokens, as JWTs when asked with ``token_type=jwt`` (as the Open edX LMS does)."""

import json

from django.http import JsonResponse
from oauth2_provider.models import AccessToken
from oauth2_provider.views import TokenView

from program_enrollments.standalone.oauth.standing import application_standing
from program_enrollments.standalone.oauth.tokens import issue_jwt


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
    def post(self, request, *args, **kwargs):
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
            return JsonResponse({"error": "invalid_client", "error_description": refusal}, status=401)
        if request.POST.get("token_type", "").lower() != "jwt":
            return response
        application = token.application
        user = token.user or application.user
        if user is None:
            return JsonResponse(
                {"error": "invalid_client", "error_description": "The application has no service user."}, status=400
            )
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
        return JsonResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})
