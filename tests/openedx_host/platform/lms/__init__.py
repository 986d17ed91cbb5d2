"""Stand-in of the platform's ``lms`` package; like the platform's, importing it sets up the Celery app."""

from openedx_harness.celery import APP as CELERY_APP  # noqa: F401
