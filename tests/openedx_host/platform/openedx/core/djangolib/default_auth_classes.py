"""Mirrors ``openedx/core/djangolib/default_auth_classes.py``: the LMS's DRF default authentication classes.

The platform subclasses edx-drf-extensions' ``JwtAuthentication`` and DRF's ``SessionAuthentication`` only
to record monitoring attributes; so do these.
"""

from edx_django_utils.monitoring import set_custom_attribute
from edx_rest_framework_extensions.auth.jwt.authentication import JwtAuthentication
from rest_framework.authentication import SessionAuthentication


class DefaultSessionAuthentication(SessionAuthentication):
    """Session authentication that records ``using_default_auth_classes`` and ``session_auth_result``."""

    def authenticate(self, request):
        set_custom_attribute("using_default_auth_classes", True)
        try:
            user_and_auth = super().authenticate(request)
        except Exception:
            set_custom_attribute("session_auth_result", "failure")
            raise
        set_custom_attribute("session_auth_result", "success" if user_and_auth else "skipped")
        return user_and_auth


class DefaultJwtAuthentication(JwtAuthentication):
    """JWT authentication that records ``using_default_auth_classes``."""

    def authenticate(self, request):
        set_custom_attribute("using_default_auth_classes", True)
        return super().authenticate(request)
