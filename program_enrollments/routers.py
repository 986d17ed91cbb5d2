"""Reading from a read replica: the REST API's GET views read their answer there when the host has one.

The replica is the database alias ``read_replica``, the name the Open edX LMS gives its own
(``EDX_READ_REPLICA_DB_NAME`` renames it, as in edx-django-utils). Without that alias, every
query goes to ``default`` and nothing here changes anything.

* :func:`replica_reads` marks a block of code (a GET view's handler) whose reads may be
  answered by the replica. Authentication and permission checks run before it, on
  ``default``, so a revoked grant or a deactivated account counts at once, whatever the
  replica's lag.
* In the standalone host, :class:`ReadReplicaRouter` (``DATABASE_ROUTERS``) sends the marked
  reads to the replica, and every other query to ``default``: writes, reads inside a
  transaction opened within the block (the reads of a write), the admin, management
  commands and migrations. It never migrates the replica (a copy of ``default``).
* In an Open edX LMS, whose settings already install edx-django-utils' router
  (``edx_django_utils.db.read_replica.ReadReplicaRouter``), the block is also run inside that
  router's ``read_queries_only()``, so the LMS's own router sends its reads to the LMS's
  replica, as it does for the platform's own replica reads.

Reads on a replica may lag behind the last writes: a learner written a moment ago can be
missing from a page read just after. Clients that read their own writes (the write's
answer already lists each learner's status) do not need the page for that.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

# The alias of the replica in DATABASES, and the setting that renames it (edx-django-utils').
DEFAULT_REPLICA_ALIAS = "read_replica"
REPLICA_ALIAS_SETTING = "EDX_READ_REPLICA_DB_NAME"
# The Open edX LMS's router, which routes reads to its replica inside read_queries_only().
PLATFORM_ROUTER = "edx_django_utils.db.read_replica.ReadReplicaRouter"

# For each replica_reads() block under way in this thread or task, innermost last: how many
# atomic blocks the default connection had open when it began.
_blocks: ContextVar[tuple[int, ...]] = ContextVar("program_enrollments_replica_reads", default=())


def replica_alias() -> str | None:
    """The alias of the read replica in ``DATABASES``, or None when the host has none."""
    alias = getattr(settings, REPLICA_ALIAS_SETTING, DEFAULT_REPLICA_ALIAS)
    return alias if alias in settings.DATABASES else None


def reading_from_replica() -> bool:
    """Whether a read made here, now, goes to the replica (inside :func:`replica_reads`, outside a write)."""
    blocks = _blocks.get()
    if not blocks or replica_alias() is None:
        return False
    # A transaction opened inside the block is a write's: its reads must see what it writes.
    return len(connections[DEFAULT_DB_ALIAS].atomic_blocks) <= blocks[-1]


@contextlib.contextmanager
def replica_reads() -> Iterator[None]:
    """Let the reads of this block (or of the decorated function) go to the read replica, if any.

    Usable as ``with replica_reads():`` or as the decorator ``@replica_reads()``. Without a
    replica it changes nothing. Writes, and reads inside a transaction opened within the
    block, still go to ``default``.
    """
    if replica_alias() is None:
        yield
        return
    token = _blocks.set((*_blocks.get(), len(connections[DEFAULT_DB_ALIAS].atomic_blocks)))
    try:
        with _platform_reads():
            yield
    finally:
        _blocks.reset(token)


def _platform_reads():
    """The Open edX LMS's own replica block, where its router is installed; else nothing."""
    if PLATFORM_ROUTER not in getattr(settings, "DATABASE_ROUTERS", ()):
        return contextlib.nullcontext()
    from edx_django_utils.db.read_replica import read_queries_only

    return read_queries_only()


class ReadReplicaRouter:
    """The standalone host's router: reads inside :func:`replica_reads` from the replica, all else on default.

    Install it with ``DATABASE_ROUTERS = ["program_enrollments.routers.ReadReplicaRouter"]``
    (the standalone host does when ``DATABASE_REPLICA_URL`` is set).
    """

    def db_for_read(self, model, **hints):
        return replica_alias() if reading_from_replica() else DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        # Explicit, so that saving an object read from the replica writes to default.
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # One database seen through two connections: rows of either may be related.
        databases = {DEFAULT_DB_ALIAS, replica_alias()} - {None}
        if obj1._state.db in databases and obj2._state.db in databases:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The replica receives its schema from default (replication), never from migrate.
        if replica_alias() is not None and db == replica_alias():
            return False
        return None
