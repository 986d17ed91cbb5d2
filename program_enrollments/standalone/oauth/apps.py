from django.apps import AppConfig


class OAuthConfig(AppConfig):
    """OAuth2 client credentials that return Open edX-style JWTs (the LMS's /oauth2/access_token)."""

    name = "program_enrollments.standalone.oauth"
    label = "standalone_oauth"
    verbose_name = "API clients (standalone host)"
    default_auto_field = "django.db.models.BigAutoField"
