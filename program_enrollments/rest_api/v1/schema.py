"""The OpenAPI schema: how it describes the authentication classes, and the views serving it."""

from drf_spectacular import utils
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView
from rest_framework.permissions import AllowAny


def extend_schema(*args, **kwargs):
    """drf-spectacular's ``extend_schema``, on drf-spectacular's schema class whatever the host's default.

    On a view method, drf-spectacular builds on the method's own schema class, else on
    ``REST_FRAMEWORK['DEFAULT_SCHEMA_CLASS']``, read when the views module is imported. An
    Open edX LMS leaves that setting at DRF's own ``AutoSchema``, which cannot serve the
    schema; the method is given drf-spectacular's first.
    """
    decorate = utils.extend_schema(*args, **kwargs)

    def decorator(function):
        if "schema" not in getattr(function, "kwargs", {}):
            function.kwargs = {**getattr(function, "kwargs", {}), "schema": AutoSchema}
        return decorate(function)

    return decorator


class JwtAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "edx_rest_framework_extensions.auth.jwt.authentication.JwtAuthentication"
    match_subclasses = True
    name = "jwt"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A JWT from the LMS's /oauth2/access_token (token_type=jwt), sent as `JWT <token>`.",
        }


class OpenEdxBearerAuthenticationScheme(OpenApiAuthenticationExtension):
    """The Open edX LMS's OAuth2 access tokens (``openedx.core.lib.api.authentication``), present only there."""

    target_class = "openedx.core.lib.api.authentication.BearerAuthentication"
    match_subclasses = True
    optional = True
    name = "bearer"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "An OAuth2 access token of the LMS."}


class SessionAllowInactiveUserScheme(OpenApiAuthenticationExtension):
    """edx-drf-extensions' session authentication (the LMS's), described as drf-spectacular describes sessions."""

    target_class = "edx_rest_framework_extensions.auth.session.authentication.SessionAuthenticationAllowInactiveUser"
    match_subclasses = True
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        from django.conf import settings

        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}


class SchemaView(SpectacularAPIView):
    """The OpenAPI document: public, like the contract it describes.

    It authenticates nobody, so no host middleware (such as edx-drf-extensions'
    ``EnsureJWTAuthSettingsMiddleware``) changes drf-spectacular's own view classes through it.
    """

    authentication_classes = ()
    permission_classes = (AllowAny,)


class SchemaDocsView(SpectacularRedocView):
    """The documentation page; it loads the schema from the ``schema`` URL next to its own.

    The URL name is resolved in the namespace the page was reached through, since each host
    mounts the API under its own namespace (``programs_api`` in an Open edX LMS).
    """

    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        namespace = request.resolver_match.namespace if request.resolver_match else ""
        self.url_name = f"{namespace}:schema" if namespace else "schema"
        return super().get(request, *args, **kwargs)
