"""Retiring a learner: their student keys replaced wherever the app keeps them.

The host's retirement pipeline calls this (in Open edX, through the receiver of
``USER_RETIRE_LMS_MISC``); registrar's reads by key keep working with the
replaced key, which stays unique per program.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.db.models import Q

from program_enrollments.models import AdoptionRecord, ProgramEnrollment

RETIREMENT_REASON = "Learner retired: student key replaced"


def retire_student_keys(*, user_id: int, retired_key: Callable[[str], str], is_retired: Callable[[str], bool]) -> int:
    """Replace a user's student keys with ``retired_key(key)`` in live and history program enrollments.

    Covers the user's program enrollments (every history row of each, including
    those written before linking) and the history of the user's program
    enrollments that no longer exist. The live row is saved, so its derived
    columns follow (the case-folded key; ``learner_ref`` stays ``user:<id>``) and
    one history row records the retirement. A program keeps one unique key per
    learner, so registrar's reads by key keep working with the replaced key.
    Keys already replaced (``is_retired``) are left alone, so repeating the call changes
    nothing. The host decides the form of a retired key: in Open edX,
    ``openedx.core.lib.user_util``'s.

    Also covered: the enrollments that adopting Open edX's built-in tables merged
    into one of the learner's, and the adoption records naming the keys.

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
            if not is_retired(key):
                history.filter(id__in=ids, external_user_key=key).update(external_user_key=retired_key(key))
        _retire_in_adoption_records(ids, {key: retired_key(key) for key in keys if not is_retired(key)})
        count = 0
        for enrollment in sorted(enrollments, key=lambda row: row.id):
            if is_retired(enrollment.external_user_key):
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
