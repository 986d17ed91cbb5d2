"""Signal receivers for an Open edX LMS, connected by edx-django-utils' ``signals_config``.

* ``link_on_saml_identity``: ``post_save`` of social_django's ``UserSocialAuth``;
  a SAML identity ``<slug>:<student key>`` links the learner's waiting program
  enrollments in the programs of the provider's organization.
* ``retire_program_enrollments``: the LMS's ``USER_RETIRE_LMS_MISC``; the
  retired learner's student keys are replaced in live and history rows.

Platform modules are imported inside the functions (see the package docstring).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction

from program_enrollments import api

log = logging.getLogger(__name__)

RETIRED_KEY_PREFIX = "retired_external_key_"


# --- SSO linking ------------------------------------------------------------------------------


def link_on_saml_identity(sender, instance, **kwargs) -> None:
    """Link the waiting program enrollments of a learner whose SAML identity was just saved.

    Runs on every save of a ``UserSocialAuth``, as the platform's built-in app did
    (a uid may be rewritten, e.g. by ``migrate_saml_uids``). The uid must be
    ``<slug>:<student key>``, with ``<slug>`` the slug of exactly one current SAML
    provider config of the same backend, attached to an organization; anything
    else is ignored (and logged). The linking itself is the core's
    ``link_waiting_program_enrollments``, which re-applies the one-active rule.

    Linking runs when the transaction that saved the identity commits (at once
    when none is open). The SSO pipeline saves the identity inside the login
    request's transaction (``ATOMIC_REQUESTS``): deferring keeps the linking's row
    locks out of that long transaction, never links an identity that is rolled
    back, and lets linking read the committed identity. A failure of linking is
    logged and never breaks the login; the learner is linked on a later login or
    by the ``link_program_enrollments`` command.
    """
    try:
        target = _saml_link_target(instance)
    except Exception:  # noqa: BLE001 - a broken provider lookup must not break SSO login
        log.exception("Could not read the SAML provider of social auth %s; not linking.", instance.pk)
        return
    if target is None:
        return
    organization_key, student_key = target
    user = instance.user
    transaction.on_commit(lambda: _link(organization_key, student_key, user))


def _saml_link_target(instance) -> tuple[str, str] | None:
    """(organization short name, student key) of a SAML identity, or None to ignore it."""
    from common.djangoapps.third_party_auth.models import SAMLProviderConfig

    uid = instance.uid or ""
    slug, separator, student_key = uid.partition(":")
    if not (separator and slug and student_key):
        log.debug("Ignoring non-SAML social auth %s of user %s.", instance.pk, instance.user_id)
        return None
    try:
        provider = SAMLProviderConfig.objects.current_set().select_related("organization").get(slug=slug)
    except SAMLProviderConfig.DoesNotExist:
        log.info("Social auth of user %s names provider %r, which is not a SAML provider.", instance.user_id, slug)
        return None
    except SAMLProviderConfig.MultipleObjectsReturned:
        log.warning(
            "Not linking the waiting enrollments of user %s: several current SAML configurations have slug %r.",
            instance.user_id,
            slug,
        )
        return None
    if provider.backend_name != instance.provider:
        log.debug("Ignoring social auth %s of backend %s: not SAML.", instance.pk, instance.provider)
        return None
    if provider.organization is None:
        log.debug("SAML provider %r has no organization; nothing to link for user %s.", slug, instance.user_id)
        return None
    return provider.organization.short_name, student_key


def _link(organization_key: str, student_key: str, user) -> None:
    from program_enrollments.api import link_waiting_program_enrollments

    try:
        outcomes = link_waiting_program_enrollments(
            organization_key=organization_key, student_key=student_key, user=user
        )
    except Exception:  # noqa: BLE001 - linking must never break SSO login
        log.exception(
            "Could not link the waiting program enrollments of user %s (organization %s).", user.pk, organization_key
        )
        return
    for outcome in outcomes:
        if outcome.error:
            log.warning("Linking user %s on SAML login: %s", user.pk, outcome.error)
        else:
            log.info(
                "Linked user %s to a waiting program enrollment of organization %s on SAML login%s.",
                user.pk,
                organization_key,
                f"; deactivated in {', '.join(outcome.deactivated_courses)}" if outcome.deactivated_courses else "",
            )


# --- retirement -------------------------------------------------------------------------------


def retire_program_enrollments(sender, user=None, **kwargs) -> None:
    """Replace the retired learner's student keys in their program enrollments and their history.

    The replacement is the platform's: ``retired_external_key_`` + sha1(last salt of
    ``RETIRED_USER_SALTS`` + the lower-cased key) (``openedx.core.lib.user_util``).
    Errors propagate, so the retirement pipeline reports the step as failed and
    retries it; a retry finds the keys already replaced and changes nothing.
    """
    if user is None:
        return
    from openedx.core.lib.user_util import get_retired_external_key

    salts = settings.RETIRED_USER_SALTS
    retired = api.retire_student_keys(
        user_id=user.pk, retired_key=lambda key: get_retired_external_key(key, salts), is_retired=_is_retired
    )
    log.info("Retired the student keys of %d program enrollment(s) of user %s.", retired, user.pk)


def _is_retired(key: str) -> bool:
    """Whether ``key`` is already a retired key (``retired_external_key_`` and 40 hex digits)."""
    digest = key[len(RETIRED_KEY_PREFIX) :]
    return (
        key.startswith(RETIRED_KEY_PREFIX)
        and len(digest) == 40
        and all(character in "0123456789abcdef" for character in digest)
    )
