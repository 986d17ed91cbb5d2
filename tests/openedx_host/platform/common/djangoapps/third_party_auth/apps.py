"""Mirrors ``common/djangoapps/third_party_auth/apps.py`` (label ``third_party_auth``)."""

from django.apps import AppConfig


class ThirdPartyAuthConfig(AppConfig):
    """Third-party authentication: here only the SAML provider configurations."""

    name = "common.djangoapps.third_party_auth"
    label = "third_party_auth"
    verbose_name = "Third-party authentication"
    default_auto_field = "django.db.models.AutoField"
