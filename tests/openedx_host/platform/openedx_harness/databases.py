"""``DATABASES`` of the harness, from ``DATABASE_URL`` as in the standalone host's settings.

``postgres://...`` and ``mysql://...`` (MariaDB/MySQL, utf8mb4 with ``utf8mb4_unicode_ci`` as Tutor's
MySQL) select those servers; without ``DATABASE_URL`` an SQLite file under ``OPENEDX_HOST_VAR_DIR``
(default ``./var/openedx_host``) is used. ``ATOMIC_REQUESTS`` is on, as in the platform's settings.
"""

import os
from pathlib import Path

import dj_database_url


def database_from_environment(environ=None):
    """The ``default`` database settings."""
    environ = os.environ if environ is None else environ
    url = environ.get("DATABASE_URL", "").strip()
    if not url:
        var_dir = Path(environ.get("OPENEDX_HOST_VAR_DIR", Path.cwd() / "var" / "openedx_host"))
        var_dir.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{var_dir / 'lms.sqlite3'}"
    database = dj_database_url.parse(url, conn_max_age=0)
    engine = database["ENGINE"]
    if engine == "django.db.backends.sqlite3":
        database["ENGINE"] = "openedx_harness.sqlite3"
        # IMMEDIATE takes the write lock at BEGIN, so concurrent writers wait instead of failing.
        database["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    elif engine == "django.db.backends.mysql":
        database["OPTIONS"] = {"charset": "utf8mb4"}
        database["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
    database["ATOMIC_REQUESTS"] = True
    return database
