"""SQLite for the standalone host, told the real bound-parameter limit of the linked library.

Django 5.2 assumes SQLite's historical limit of 999 parameters per statement and
splits bulk inserts and updates into batches of that size. SQLite 3.32 and later
allow 32766 (Debian builds 250000), so a 1000-learner batch fits one statement:
the query count of a bulk write then stays flat, as on PostgreSQL and MariaDB.
"""

import sqlite3

from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        self.features.max_query_params = connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        return connection
