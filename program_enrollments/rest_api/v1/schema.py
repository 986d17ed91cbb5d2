"""How the OpenAPI schema describes the JWT authentication of the Open edX convention."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class JwtAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "edx_rest_framework_extensions.auth.jwt.authentication.JwtAuthentication"
    name = "jwt"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A JWT from the LMS's /oauth2/access_token (token_type=jwt), sent as `JWT <token>`.",
        }
