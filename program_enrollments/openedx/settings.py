"""Plugin settings for an Open edX LMS and CMS (edx-django-utils ``settings_config``).

``plugin_settings`` runs while the platform builds its settings module, after
the platform's own settings and before the operator's overrides (Tutor patches,
YAML) are applied, so every value set here is a default: a value the settings
already hold is kept.
"""

from __future__ import annotations

LMS_BACKEND = "program_enrollments.openedx.backends.OpenEdxLMSBackend"
CATALOG_BACKEND = "program_enrollments.openedx.backends.OpenEdxCatalogBackend"
COURSE_ENROLLMENT_MODEL = "student.CourseEnrollment"
# The authentication classes of the built-in app's views (lms/djangoapps/program_enrollments/rest_api/v1/views.py).
AUTHENTICATION_CLASSES = [
    "edx_rest_framework_extensions.auth.jwt.authentication.JwtAuthentication",
    "openedx.core.lib.api.authentication.BearerAuthenticationAllowInactiveUser",
    "edx_rest_framework_extensions.auth.session.authentication.SessionAuthenticationAllowInactiveUser",
]
# The scopes of restricted partner applications. The LMS only issues a token the scopes that are both
# in its OAUTH2_PROVIDER['SCOPES'] and granted to the application (ApplicationAccess in the admin).
SCOPES = {
    "program_enrollments:read": "Read program enrollments",
    "program_enrollments:write": "Write program enrollments",
}


# The API's schema and documentation page (drf-spectacular, with its scripts from the sidecar
# package rather than a CDN); neither app has models.
DOCUMENTATION_APPS = ("drf_spectacular", "drf_spectacular_sidecar")
SPECTACULAR_DEFAULTS = {"REDOC_DIST": "SIDECAR", "SWAGGER_UI_DIST": "SIDECAR", "SWAGGER_UI_FAVICON_HREF": "SIDECAR"}


def plugin_settings(settings) -> None:
    """Point the app at the platform's course enrollments and the Open edX backends unless set already."""
    if not getattr(settings, "PROGRAM_ENROLLMENTS_COURSE_ENROLLMENT_MODEL", None):
        settings.PROGRAM_ENROLLMENTS_COURSE_ENROLLMENT_MODEL = COURSE_ENROLLMENT_MODEL
    # A copy: the dict may be shared with another settings module (the CMS imports the LMS's).
    config = dict(getattr(settings, "PROGRAM_ENROLLMENTS", None) or {})
    if not config.get("LMS_BACKEND"):
        config["LMS_BACKEND"] = LMS_BACKEND
    if not config.get("CATALOG_BACKEND"):
        config["CATALOG_BACKEND"] = CATALOG_BACKEND
    config.setdefault("AUTHENTICATION_CLASSES", list(AUTHENTICATION_CLASSES))
    settings.PROGRAM_ENROLLMENTS = config
    apps = getattr(settings, "INSTALLED_APPS", None)
    if isinstance(apps, list):
        apps.extend(app for app in DOCUMENTATION_APPS if app not in apps)
    settings.SPECTACULAR_SETTINGS = {**SPECTACULAR_DEFAULTS, **(getattr(settings, "SPECTACULAR_SETTINGS", None) or {})}
    provider = getattr(settings, "OAUTH2_PROVIDER", None)
    if isinstance(provider, dict):
        # A copy, as above; the platform's own scopes are kept.
        provider = dict(provider)
        provider["SCOPES"] = {**SCOPES, **provider.get("SCOPES", {})}
        settings.OAUTH2_PROVIDER = provider
