"""History rows for the bulk writes (set-wise writes send no signals, so history is written here).

A history row is copied by the database from the row just written, with one
``INSERT … SELECT`` per call: the same row django-simple-history's
``bulk_history_create`` builds from a model instance (the tracked fields, who,
when, why, ``+`` for a creation and ``~`` for a change), without building it in
Python. Callers write first, then record.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import cache

from django.conf import settings

from program_enrollments.api import _sql

CREATED = "+"
CHANGED = "~"


def record(model, rows, *, created: bool, actor, reason: str, when: datetime) -> None:
    """Write one history row per row in ``rows`` (saved instances): who (``actor``), when, what (the row), why.

    A row's own ``_change_reason`` (django-simple-history's attribute) is its reason instead of ``reason``.
    The history copies each row as the database holds it: call this after writing the rows.
    """
    rows = list(rows)
    if not rows:
        return
    if any(row.pk is None or hasattr(row, "_history_user") or hasattr(row, "_history_date") for row in rows):
        # Per-row authors or dates, or rows whose ids the database did not return (MySQL's
        # bulk_create): django-simple-history builds those rows from the instances.
        model.history.bulk_history_create(
            rows, update=not created, default_user=actor, default_change_reason=reason, default_date=when
        )
        return
    reasons = {row.pk: row._change_reason for row in rows if getattr(row, "_change_reason", None)}
    record_ids(model, [row.pk for row in rows], created=created, actor=actor, reason=reason, when=when, reasons=reasons)


def record_ids(
    model,
    ids: Iterable[int],
    *,
    created: bool,
    actor,
    reason: str,
    when: datetime,
    reasons: Mapping[int, str] | None = None,
) -> None:
    """Copy the rows ``ids`` of ``model`` into its history table in one ``INSERT … SELECT``.

    ``reasons`` gives some rows a reason of their own (``reason`` for the others).
    """
    ids = list(ids)
    if not ids or not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return
    history = model.history.model
    user = actor if actor is not None else history.get_default_history_user(None)
    user_id = getattr(user, "pk", None)
    tracked, copied = _tracked_columns(model)
    target = _sql.table(history)
    source = _sql.table(model)
    meta = [_sql.column(history, name) for name in ("history_date", "history_user", "history_type")]
    reason_column = _sql.column(history, "history_change_reason")
    id_column = _sql.column(model, "id")
    head = f"INSERT INTO {target} ({tracked}, {', '.join(meta)}, {reason_column}) "
    values = [_sql.timestamp(when), user_id, CREATED if created else CHANGED]
    if not reasons:
        condition, id_params = _sql.in_list(f"t.{id_column}", ids, _sql.BIGINT)
        # In id order: the history rows' ids follow the rows'.
        _sql.execute(
            f"{head}SELECT {copied}, %s, %s, %s, %s FROM {source} t WHERE {condition} ORDER BY t.{id_column}",
            [*values, reason, *id_params],
        )
        return
    if _sql.is_postgresql():
        _sql.execute(
            f"{head}SELECT {copied}, %s, %s, %s, COALESCE(v.reason, %s) FROM {source} t "
            f"JOIN unnest(%s::bigint[], %s::text[]) AS v(id, reason) ON t.{id_column} = v.id",
            [
                *values,
                reason,
                _sql.array(ids, _sql.BIGINT),
                _sql.array([reasons.get(row_id) for row_id in ids], _sql.TEXT),
            ],
        )
        return
    own = [row_id for row_id in ids if row_id in reasons]
    cases = " ".join(["WHEN %s THEN %s"] * len(own))
    condition, id_params = _sql.in_list(f"t.{id_column}", ids, _sql.BIGINT)
    _sql.execute(
        f"{head}SELECT {copied}, %s, %s, %s, CASE t.{id_column} {cases} ELSE %s END FROM {source} t WHERE {condition}",
        [*values, *(value for row_id in own for value in (row_id, reasons[row_id])), reason, *id_params],
    )


@cache
def _tracked_columns(model) -> tuple[str, str]:
    """The history table's copies of the tracked fields, and the source columns they copy (``t.``)."""
    history = model.history.model
    targets, sources = [], []
    for field in history.tracked_fields:
        targets.append(_sql.column(history, field.name))
        sources.append(f"t.{_sql.column(model, field.name)}")
    return ", ".join(targets), ", ".join(sources)


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
