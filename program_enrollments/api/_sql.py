"""Plain SQL for the write path: set-wise statements built from columns, not model instances.

The bulk writers read the few columns a decision needs, insert new rows with one
multi-row ``INSERT … RETURNING``, change rows with one ``UPDATE … WHERE id IN (…)``
per target state, and copy history rows with ``INSERT … SELECT`` from the rows just
written (``_history``). Building those statements through the ORM costs a model
instance and a round of field preparation per row and per column; here a value is
prepared once per statement where it is shared (a course key, a timestamp, a
program uuid) and passed as it is where it is not.

Lists of values: PostgreSQL gets one array parameter (``= ANY(%s::bigint[])``,
``unnest(%s::text[], …)``), so a statement's text does not grow with the chunk;
MariaDB, MySQL and SQLite get one placeholder per value. Every statement goes
through Django's cursor, so query logging and counting see it.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

# Array types of PostgreSQL parameters, by the kind of value.
BIGINT = "bigint"
TEXT = "text"
UUID_TYPE = "uuid"
BOOLEAN = "boolean"
TIMESTAMP = "timestamptz"


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def column(model, name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


def columns(model, names: Iterable[str]) -> str:
    return ", ".join(column(model, name) for name in names)


def prep(model, name: str, value):
    """``value`` as the database stores field ``name`` of ``model`` (a uuid as 32 hex digits on MySQL, say)."""
    if value is None:
        return None
    return model._meta.get_field(name).get_db_prep_value(value, connection, prepared=False)


def timestamp(value):
    """A timezone-aware datetime as this connection takes it."""
    return connection.ops.adapt_datetimefield_value(value)


def for_update() -> str:
    """`` FOR UPDATE`` where the database locks read rows (SQLite locks the whole database instead)."""
    return " FOR UPDATE" if connection.features.has_select_for_update else ""


def array(values: Iterable, kind: str):
    """A PostgreSQL array parameter of ``values`` (to be cast to ``kind[]`` in the statement).

    Text, integer, boolean and uuid arrays are passed as one array literal built here with
    ``str.join``: the driver's client-side binding would otherwise check each element of the
    list for characters to escape (most of the time a 1000-row statement took to prepare).
    """
    values = values if isinstance(values, list) else list(values)
    if kind == TEXT:
        if None not in values:
            joined = '","'.join(values)
            if "\\" not in joined and joined.count('"') == 2 * (len(values) - 1):
                return '{"' + joined + '"}' if values else "{}"
        return "{" + ",".join("NULL" if value is None else _quoted(value) for value in values) + "}"
    if kind == BIGINT:
        if None not in values:
            return "{" + ",".join(map(str, values)) + "}"
        return "{" + ",".join("NULL" if value is None else str(int(value)) for value in values) + "}"
    if kind == BOOLEAN:
        return "{" + ",".join("NULL" if value is None else ("t" if value else "f") for value in values) + "}"
    if kind == UUID_TYPE:
        return "{" + ",".join("NULL" if value is None else str(value) for value in values) + "}"
    return list(values)


def array_literal(values: Iterable) -> str:
    """A PostgreSQL array literal of ints, strings, UUIDs, booleans and NULLs, for the statement to cast.

    For columns whose values are of mixed kinds from one call to the next (``array`` when
    the kind is known). Integers and plain strings are joined as they are; other values
    are quoted one by one.
    """
    values = values if isinstance(values, list) else list(values)
    kinds = set(map(type, values))
    if kinds <= {int, type(None)}:
        return array(values, BIGINT)
    if kinds == {str}:
        return array(values, TEXT)
    return "{" + ",".join(map(_element, values)) + "}"


def _element(value) -> str:
    if value is None:
        return "NULL"
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, int):
        return str(value)
    return _quoted(str(value))


def _quoted(value: str) -> str:
    """An element of an array literal: always quoted, so that no text reads as NULL or splits."""
    if "\\" in value or '"' in value:
        value = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{value}"'


def in_list(sql_column: str, values: Sequence, array_type: str) -> tuple[str, list]:
    """``column IN (…)`` for ``values`` (non-empty), as SQL and its parameters."""
    if is_postgresql():
        return f"{sql_column} = ANY(%s::{array_type}[])", [array(values, array_type)]
    if array_type == BIGINT and None not in values:
        # Integers are written into the statement (``int`` makes each one a number): the driver
        # would otherwise escape a parameter per value (MySQLdb), or Django rewrite one (SQLite).
        return f"{sql_column} IN ({','.join(map(str, map(int, values)))})", []
    return f"{sql_column} IN ({', '.join(['%s'] * len(values))})", list(values)


def in_parts(
    sql_column: str, values: Sequence, array_type: str, *, other_params: int = 0
) -> Iterator[tuple[str, list]]:
    """``in_list`` in as many parts as the database's limit of placeholders per statement needs.

    One part on PostgreSQL (one array parameter) and for integers (written into the statement);
    elsewhere parts of at most the limit less the statement's ``other_params`` (SQLite's limit is
    32,766 by default: only the transfers' chunks of several thousand learners reach it).
    """
    limit = connection.features.max_query_params
    if is_postgresql() or not limit or (array_type == BIGINT and None not in values):
        yield in_list(sql_column, values, array_type)
        return
    size = max(1, limit - other_params)
    for start in range(0, len(values), size):
        yield in_list(sql_column, values[start : start + size], array_type)


def fetch(sql: str, params: Sequence) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def execute(sql: str, params: Sequence) -> int:
    """Run one statement; return the number of rows it changed."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def as_datetime(value):
    """A datetime column's value as the ORM gives it (SQLite returns text, MySQL naive UTC)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and settings.USE_TZ and timezone.is_naive(value):
        value = timezone.make_aware(value, datetime.UTC)
    return value


def as_bool(value) -> bool | None:
    """A boolean column's value as Python's (MySQL returns 0 and 1)."""
    return None if value is None else bool(value)


def insert(
    model,
    names: Sequence[str],
    rows: Sequence[Sequence[Any]],
    types: Sequence[str],
    *,
    returning: Sequence[str] = ("id",),
    lookup: Callable[[], list[tuple]] | None = None,
) -> list[tuple]:
    """Insert ``rows`` (values in the order of ``names``, prepared) in one statement; return ``returning`` of each.

    PostgreSQL: ``INSERT … SELECT FROM unnest(arrays…)``; elsewhere a multi-row
    ``VALUES``. The returned tuples are in no particular order: callers return a
    key column with the id. A database without ``RETURNING`` on inserts (MySQL)
    reads them back with ``lookup``, a query that returns the same tuples.
    """
    if not rows:
        return []
    target = f"INSERT INTO {table(model)} ({columns(model, names)})"
    back = f" RETURNING {columns(model, returning)}"
    if is_postgresql():
        # A column with one value for every row (a timestamp, the course run, a status) is one
        # parameter; the others are arrays, unnested side by side.
        selected, constants, arrays = [], [], []
        for index, (values, kind) in enumerate(zip(zip(*rows, strict=True), types, strict=True)):
            first = values[0]
            if values.count(first) == len(values):
                selected.append(f"%s::{kind}")
                constants.append(first)
            else:
                selected.append(f"v.c{index}")
                arrays.append((index, kind, array(values, kind)))
        if arrays:
            unnest = ", ".join(f"%s::{kind}[]" for _, kind, _ in arrays)
            source = f"unnest({unnest}) AS v({', '.join(f'c{index}' for index, _, _ in arrays)})"
        else:
            source = f"generate_series(1, {len(rows):d})"
        sql = f"{target} SELECT {', '.join(selected)} FROM {source}{back}"
        return fetch(sql, [*constants, *(values for _, _, values in arrays)])
    row_sql = "(" + ", ".join(["%s"] * len(names)) + ")"
    sql = f"{target} VALUES {', '.join([row_sql] * len(rows))}"
    params = [value for row in rows for value in row]
    if connection.features.can_return_rows_from_bulk_insert:
        return fetch(sql + back, params)
    execute(sql, params)
    if lookup is None:
        raise ValueError("A database without INSERT … RETURNING needs a lookup to read the new ids.")
    return lookup()


def update_ids(model, values: dict[str, Any], ids: Sequence[int]) -> int:
    """``UPDATE … SET`` the same prepared ``values`` on the rows ``ids``: one statement."""
    if not ids:
        return 0
    assignments = ", ".join(f"{column(model, name)} = %s" for name in values)
    condition, id_params = in_list(column(model, "id"), ids, BIGINT)
    return execute(f"UPDATE {table(model)} SET {assignments} WHERE {condition}", [*values.values(), *id_params])


def update_rows(
    model,
    names: Sequence[str],
    values_by_id: dict[int, Sequence[Any]],
    kinds: Sequence[str],
    *,
    same: dict[str, Any] | None = None,
) -> int:
    """Give each row its own prepared values of columns ``names`` (and ``same`` to all) in one statement.

    PostgreSQL: ``UPDATE … FROM unnest(ids, values…)``; elsewhere ``CASE id WHEN … END`` per column.
    """
    if not values_by_id:
        return 0
    ids = list(values_by_id)
    same = same or {}
    shared = [f"{column(model, name)} = %s" for name in same]
    if is_postgresql():
        own = [f"{column(model, name)} = v.c{index}" for index, name in enumerate(names)]
        arrays = ", ".join(f"%s::{kind}[]" for kind in kinds)
        aliases = ", ".join(f"c{index}" for index in range(len(names)))
        return execute(
            f"UPDATE {table(model)} AS t SET {', '.join([*own, *shared])} "
            f"FROM unnest(%s::bigint[], {arrays}) AS v(id, {aliases}) WHERE t.{column(model, 'id')} = v.id",
            [
                *same.values(),
                array(ids, BIGINT),
                *(array([values_by_id[row_id][index] for row_id in ids], kind) for index, kind in enumerate(kinds)),
            ],
        )
    id_column = column(model, "id")
    cases = " ".join(["WHEN %s THEN %s"] * len(ids))
    own = [f"{column(model, name)} = CASE {id_column} {cases} END" for name in names]
    params = [value for index in range(len(names)) for row_id in ids for value in (row_id, values_by_id[row_id][index])]
    condition, id_params = in_list(id_column, ids, BIGINT)
    return execute(
        f"UPDATE {table(model)} SET {', '.join([*own, *shared])} WHERE {condition}",
        [*params, *same.values(), *id_params],
    )
