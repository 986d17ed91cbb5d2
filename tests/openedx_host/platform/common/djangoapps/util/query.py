"""Mirrors ``common/djangoapps/util/query.py``: read from the ``read_replica`` database when one is configured."""

from django.conf import settings

_READ_REPLICA_DB_ALIAS = "read_replica"


def use_read_replica_if_available(queryset):
    """``queryset`` on the read replica when ``DATABASES`` has one, else unchanged."""
    return queryset.using(_READ_REPLICA_DB_ALIAS) if _READ_REPLICA_DB_ALIAS in settings.DATABASES else queryset


def read_replica_or_default():
    """``'read_replica'`` when ``DATABASES`` has it, else ``'default'`` (for ``.using(...)``)."""
    return _READ_REPLICA_DB_ALIAS if _READ_REPLICA_DB_ALIAS in settings.DATABASES else "default"
