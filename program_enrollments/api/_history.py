"""History rows for bulk writes (bulk_create and bulk_update send no signals, so history is written here)."""

from __future__ import annotations

from datetime import datetime


def record(model, rows, *, created: bool, actor, reason: str, when: datetime) -> None:
    """Write one history row per row in ``rows``: who (``actor``), when, what (the row), why (``reason``)."""
    if rows:
        model.history.bulk_history_create(
            rows,
            update=not created,
            default_user=actor,
            default_change_reason=reason,
            default_date=when,
        )


def record_deletion(model, rows, *, actor, reason: str, when: datetime) -> None:
    """Write one deletion history row (type ``-``) per row in ``rows``, all in one insert per batch.

    For rows about to be deleted without signals (``bulk_history_create`` only writes
    creations and updates): their history stays, and says who deleted them and why.
    """
    if not rows:
        return
    history = model.history.model
    history.objects.bulk_create(
        [
            history(
                history_date=when,
                history_user=actor,
                history_change_reason=reason,
                history_type="-",
                **{field.attname: getattr(row, field.attname) for field in history.tracked_fields},
            )
            for row in rows
        ]
    )
