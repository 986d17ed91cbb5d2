"""Stand-in of the ``SAMLProviderConfig`` part of ``common/djangoapps/third_party_auth/models.py``.

A ``ConfigurationModel`` (django-config-models): every save adds a row, and
``SAMLProviderConfig.objects.current_set()`` holds the newest row per ``KEY_FIELDS = ('slug',)``.
Same table (``third_party_auth_samlproviderconfig``) and the platform's columns that matter here;
left out are the ``site`` FK (the harness has no ``django.contrib.sites``), ``saml_configuration``,
the icon and the per-attribute mapping columns, and everything of the SAML login itself.

The uids live in social-auth-app-django's real ``UserSocialAuth`` (``social_django``): a learner who
logged in through provider ``slug`` with remote id ``key`` has a row ``provider='tpa-saml'``,
``uid='<slug>:<key>'``.
"""

import logging

from config_models.models import ConfigurationModel
from django.db import models
from organizations.models import Organization

log = logging.getLogger(__name__)


class ProviderConfig(ConfigurationModel):
    """Abstract base of the third-party auth provider configurations, keyed by ``slug``."""

    KEY_FIELDS = ("slug",)

    icon_class = models.CharField(max_length=50, blank=True, default="fa-sign-in")
    name = models.CharField(max_length=50, blank=True, help_text="Name of this provider (shown to users)")
    slug = models.SlugField(max_length=30, db_index=True, default="default")
    secondary = models.BooleanField(default=False)
    # No related_name: an organization's configs are organization.samlproviderconfig_set.
    organization = models.ForeignKey(Organization, blank=True, null=True, on_delete=models.CASCADE)
    skip_hinted_login_dialog = models.BooleanField(default=False)
    skip_registration_form = models.BooleanField(default=False)
    skip_email_verification = models.BooleanField(default=False)
    send_welcome_email = models.BooleanField(default=False)
    visible = models.BooleanField(default=False)
    max_session_length = models.PositiveIntegerField(null=True, blank=True, default=None)
    send_to_registration_first = models.BooleanField(default=False)
    sync_learner_profile_data = models.BooleanField(default=False)
    enable_sso_id_verification = models.BooleanField(default=False)
    disable_for_enterprise_sso = models.BooleanField(default=False)
    was_valid_at = models.DateTimeField(blank=True, null=True)

    prefix = None  # the provider_id prefix, set by subclasses
    backend_name = None  # a field or a fixed value in subclasses
    accepts_logins = True

    class Meta:
        app_label = "third_party_auth"
        abstract = True

    @property
    def provider_id(self):
        """The provider's unique id: ``<prefix>-<key fields>``."""
        assert self.prefix is not None
        return "-".join((self.prefix,) + tuple(getattr(self, field) for field in self.KEY_FIELDS))

    def match_social_auth(self, social_auth):
        """Whether the ``UserSocialAuth`` row belongs to this provider."""
        return self.backend_name == social_auth.provider

    def get_remote_id_from_social_auth(self, social_auth):
        """The remote id of a ``UserSocialAuth`` row of this provider."""
        assert self.match_social_auth(social_auth)
        return social_auth.uid

    def get_social_auth_uid(self, remote_id):
        """The ``UserSocialAuth.uid`` of the learner ``remote_id``."""
        return remote_id


class SAMLProviderConfig(ProviderConfig):
    """The configuration of one SAML identity provider (several may belong to one organization)."""

    prefix = "saml"
    display_name = models.CharField(max_length=35, blank=True, help_text="A configuration nickname.")
    backend_name = models.CharField(max_length=50, default="tpa-saml", blank=True)
    entity_id = models.CharField(max_length=255, verbose_name="Entity ID", blank=True)
    metadata_source = models.CharField(max_length=255, blank=True)
    automatic_refresh_enabled = models.BooleanField(default=True)
    debug_mode = models.BooleanField(default=False)
    other_settings = models.TextField(verbose_name="Advanced settings", blank=True)
    archived = models.BooleanField(default=False)

    class Meta:
        app_label = "third_party_auth"
        verbose_name = "Provider Configuration (SAML IdP)"
        verbose_name_plural = "Provider Configuration (SAML IdPs)"

    def __str__(self):
        return f"SAMLProviderConfig {self.slug} ({self.entity_id})"

    def save(self, *args, **kwargs):
        # The platform only logs (does not refuse) an entity id already used by another current provider.
        others = (
            SAMLProviderConfig.objects.current_set()
            .filter(entity_id=self.entity_id, archived=False)
            .exclude(slug=self.slug)
        )
        if self.entity_id and others.exists():
            log.warning("Entity ID: %s already in use", self.entity_id)
        super().save(*args, **kwargs)

    def get_url_params(self):
        return {"idp": self.slug}

    def match_social_auth(self, social_auth):
        """Whether the row is this provider's: backend ``tpa-saml`` (by default) and uid ``<slug>:...``."""
        return self.backend_name == social_auth.provider and social_auth.uid.startswith(self.slug + ":")

    def get_remote_id_from_social_auth(self, social_auth):
        """The remote id: the uid without its ``<slug>:`` prefix."""
        assert self.match_social_auth(social_auth)
        return social_auth.uid[len(self.slug) + 1 :]

    def get_social_auth_uid(self, remote_id):
        """The uid of remote id ``remote_id``: ``<slug>:<remote_id>``."""
        return f"{self.slug}:{remote_id}"
