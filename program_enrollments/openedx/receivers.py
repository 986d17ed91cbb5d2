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
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from program_enrollments.models import AdoptionRecord, ProgramEnrollment

log = logging.getLogger(__name__)

RETIRED_KEY_PREFIX = "retired_external_key_"
RETIREMENT_REASON = "Learner retired: student key replaced"


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
    retired = retire_student_keys(user_id=user.pk, retired_key=lambda key: get_retired_external_key(key, salts))
    log.info("Retired the student keys of %d program enrollment(s) of user %s.", retired, user.pk)


def retire_student_keys(*, user_id: int, retired_key: Callable[[str], str]) -> int:
    """Replace a user's student keys with ``retired_key(key)`` in live and history program enrollments.

    Covers the user's program enrollments (every history row of each, including
    those written before linking) and the history of the user's program
    enrollments that no longer exist. The live row is saved, so its derived
    columns follow (the case-folded key; ``learner_ref`` stays ``user:<id>``) and
    one history row records the retirement. A program keeps one unique key per
    learner, so registrar's reads by key keep working with the replaced key.
    Keys already replaced are left alone (repeating the call changes nothing).

    Returns the number of live program enrollments whose key was replaced.
    """
    history = ProgramEnrollment.history.model.objects
    with transaction.atomic():
        enrollments = list(
            ProgramEnrollment.objects.select_for_update().filter(user_id=user_id, external_user_key__isnull=False)
        )
        live_ids = {enrollment.id for enrollment in enrollments}
        past_ids = set(history.filter(user_id=user_id).values_list("id", flat=True)) - live_ids
        deleted_ids = past_ids - set(ProgramEnrollment.objects.filter(id__in=past_ids).values_list("id", flat=True))
        # Enrollments that adopting the built-in tables merged into one of the learner's (the same
        # learner under another curriculum or letter case): archived, their history still theirs.
        merged_ids = set(
            AdoptionRecord.objects.filter(
                table="programenrollment", action=AdoptionRecord.Action.ARCHIVED, kept_row_id__in=live_ids | past_ids
            ).values_list("row_id", flat=True)
        )
        ids = live_ids | deleted_ids | merged_ids
        if not ids:
            return 0
        keys = set(
            history.filter(id__in=ids, external_user_key__isnull=False)
            .values_list("external_user_key", flat=True)
            .distinct()
        ) | {enrollment.external_user_key for enrollment in enrollments}
        for key in sorted(keys):
            if not _is_retired(key):
                history.filter(id__in=ids, external_user_key=key).update(external_user_key=retired_key(key))
        _retire_in_adoption_records(ids, {key: retired_key(key) for key in keys if not _is_retired(key)})
        count = 0
        for enrollment in sorted(enrollments, key=lambda row: row.id):
            if _is_retired(enrollment.external_user_key):
                continue
            enrollment.external_user_key = retired_key(enrollment.external_user_key)
            enrollment._change_reason = RETIREMENT_REASON
            enrollment.save(update_fields=["external_user_key", "external_user_key_normalized", "modified"])
            count += 1
    return count


def _retire_in_adoption_records(enrollment_ids, replacements: dict[str, str]) -> None:
    """Replace the keys in what the adoption of the built-in tables recorded (the rows as they were, reasons).

    In a row as it was, a value equal to a key is replaced; in a reason, a key is quoted as
    Python quotes it (``repr``), and only such quoted occurrences are replaced, so that a short
    key never rewrites the ids a reason also names.
    """
    if not replacements:
        return
    by_folded = {key.casefold(): retired for key, retired in replacements.items()}

    def replace(value):
        if isinstance(value, str):
            return by_folded.get(value.casefold(), value)
        if isinstance(value, dict):
            return {name: replace(item) for name, item in value.items()}
        if isinstance(value, list):
            return [replace(item) for item in value]
        return value

    mentions = Q(table="programenrollment", row_id__in=enrollment_ids)
    for key in replacements:
        mentions |= Q(reason__contains=repr(key))
    for record in AdoptionRecord.objects.select_for_update().filter(mentions):
        reason = record.reason
        for key, retired in replacements.items():
            reason = reason.replace(repr(key), repr(retired))
        record.reason, record.data = reason, replace(record.data)
        record.save(update_fields=["reason", "data"])


def _is_retired(key: str) -> bool:
    """Whether ``key`` is already a retired key (``retired_external_key_`` and 40 hex digits)."""
    digest = key[len(RETIRED_KEY_PREFIX) :]
    return (
        key.startswith(RETIRED_KEY_PREFIX)
        and len(digest) == 40
        and all(character in "0123456789abcdef" for character in digest)
    )
