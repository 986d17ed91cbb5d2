"""Overriding the app's settings in tests."""

from django.conf import settings
from django.test import override_settings


def override_program_enrollments(**values):
    """``override_settings`` of some ``PROGRAM_ENROLLMENTS`` keys, keeping the host's others (its backends)."""
    return override_settings(PROGRAM_ENROLLMENTS={**getattr(settings, "PROGRAM_ENROLLMENTS", {}), **values})
