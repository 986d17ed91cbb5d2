"""
Stand-in for the Open edX built-in app ``lms.djangoapps.program_enrollments`` at its migration 0012.

Mirrors the platform package ``lms/djangoapps/program_enrollments/`` (openedx-platform): the same
AppConfig, label, models, table names, migration names and URL mount, so that the harness LMS can
start with the built-in app installed, fill its tables (see ``tests/openedx_host/seed_builtin.py``)
and then exercise the takeover by our ``program_enrollments`` app.

Only what the takeover and its tests touch is reproduced; the built-in app's write API, SSO linking,
retirement receiver, Celery task and most REST views are left out.
"""
