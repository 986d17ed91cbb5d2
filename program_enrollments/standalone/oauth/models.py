"""What an OAuth2 application's JWTs say: restricted or not, its scopes, its organizations."""

from django.db import models
from oauth2_provider.models import Application


class ApplicationAccess(models.Model):
    """The JWT claims of an application's tokens, as the Open edX LMS records them.

    A restricted application acts as itself, not as its user: the API lets it
    do what its ``scopes`` allow on the programs of its ``organizations`` only.
    """

    application = models.OneToOneField(Application, on_delete=models.CASCADE, related_name="access")
    is_restricted = models.BooleanField(default=True)
    scopes = models.CharField(
        max_length=255,
        blank=True,
        default="program_enrollments:read",
        help_text="Space-separated: program_enrollments:read, program_enrollments:write.",
    )
    enabled = models.BooleanField(
        default=True,
        help_text="Unchecked: the token endpoint refuses the application and the API its tokens, at once.",
    )
    organizations = models.CharField(
        max_length=1000, blank=True, help_text="Space-separated organization keys, e.g. 'GTx MITx'."
    )

    class Meta:
        verbose_name = "application access"
        verbose_name_plural = "application access"

    def __str__(self):
        return f"{self.application}: {self.scopes} on {self.organizations or 'no organization'}"
