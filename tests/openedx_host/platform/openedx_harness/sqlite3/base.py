"""SQLite told the real bound-parameter limit of the linked library.

Django assumes SQLite's historical limit of 999 parameters per statement and splits bulk writes into
batches of that size; current SQLite builds allow far more, so a large batch stays one statement, as
on MySQL and PostgreSQL (the same reasoning as the standalone host's engine, which the harness must
not import).
"""

import sqlite3

from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        self.features.max_query_params = connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        return connection
