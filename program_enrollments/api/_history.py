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
