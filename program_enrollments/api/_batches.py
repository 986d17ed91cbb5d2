"""Running a bulk operation chunk by chunk, each chunk in one transaction, failures per learner.

A chunk is decided and applied in one transaction with a fixed number of
queries. When the database refuses it (a unique constraint hit by a concurrent
writer, a deadlock, a lock timeout) the whole chunk is decided again from
scratch: the re-read sees what the other writer committed, so the learner it
won becomes ``conflicted`` instead of an error. Any other failure, or a chunk
that keeps failing, is retried one learner at a time so that only the learners
that really fail are reported ``internal-error``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import TypeVar

from django.db import DatabaseError, IntegrityError, OperationalError, transaction

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Outcome = TypeVar("Outcome")

# Attempts at a chunk refused by the database before falling back to one learner at a time.
CHUNK_ATTEMPTS = 4
LEARNER_ATTEMPTS = 3

_RETRYABLE = (IntegrityError, OperationalError)


def chunked(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    """Yield lists of at most ``size`` items."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def run_in_chunks(
    items: Sequence[Item],
    *,
    size: int,
    apply: Callable[[list[Item]], dict[str, Outcome]],
    on_failure: Callable[[Item], dict[str, Outcome]],
) -> dict[str, Outcome]:
    """Apply ``apply`` to chunks of ``items``, isolating failures per item.

    ``apply`` decides and writes one chunk and returns outcomes by key; it runs
    inside a transaction opened here. ``on_failure`` gives the outcome of an
    item that could not be applied.
    """
    outcomes: dict[str, Outcome] = {}
    for chunk in chunked(items, size):
        outcomes.update(run_chunk(chunk, apply=apply, on_failure=on_failure))
    return outcomes


def run_chunk(
    chunk: list[Item],
    *,
    apply: Callable[[list[Item]], dict[str, Outcome]],
    on_failure: Callable[[Item], dict[str, Outcome]],
) -> dict[str, Outcome]:
    """Apply one chunk atomically, retrying refused chunks and isolating failing items."""
    try:
        return _attempt(chunk, apply, CHUNK_ATTEMPTS)
    except Exception:  # noqa: BLE001 - any failure falls back to one learner at a time
        log.warning("A chunk of %d learners failed; applying them one at a time.", len(chunk), exc_info=True)
    outcomes: dict[str, Outcome] = {}
    for item in chunk:
        try:
            outcomes.update(_attempt([item], apply, LEARNER_ATTEMPTS))
        except Exception:  # noqa: BLE001 - reported per learner as internal-error
            log.exception("Could not apply the write of one learner.")
            outcomes.update(on_failure(item))
    return outcomes


def _attempt(chunk, apply, attempts):
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic():
                return apply(chunk)
        except _RETRYABLE as error:
            if attempt == attempts or _in_broken_transaction():
                raise
            log.info("Database refused a chunk (attempt %d/%d): %s; deciding it again.", attempt, attempts, error)
    raise AssertionError("unreachable")


def _in_broken_transaction() -> bool:
    """Whether an enclosing transaction was rolled back by the database (nothing can be retried)."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return False
    try:
        connection.validate_no_broken_transaction()
    except transaction.TransactionManagementError:
        return True
    except DatabaseError:
        return True
    return False
