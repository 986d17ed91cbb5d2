"""Stand-in of the platform's ``cms`` package (Studio)."""

from openedx_harness.celery import APP as CELERY_APP  # noqa: F401
