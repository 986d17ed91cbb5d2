"""The one accessor for the ``PROGRAM_ENROLLMENTS`` settings dict.

Values are read at call time (never copied into module constants) so that
``override_settings`` and a host that finalises its settings after importing
plugins both work.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

SETTINGS_NAME = "PROGRAM_ENROLLMENTS"

# The swappable course-enrollment model, a top-level setting like AUTH_USER_MODEL.
COURSE_ENROLLMENT_MODEL_SETTING = "PROGRAM_ENROLLMENTS_COURSE_ENROLLMENT_MODEL"
DEFAULT_COURSE_ENROLLMENT_MODEL = "student.CourseEnrollment"

DEFAULTS: dict[str, Any] = {
    # Dotted path of the class talking to the host LMS (course enrollments, users).
    "LMS_BACKEND": "program_enrollments.backends.standalone.StandaloneLMSBackend",
    # Dotted path of the class answering program catalog questions.
    "CATALOG_BACKEND": "program_enrollments.backends.standalone.StandaloneCatalogBackend",
    # Learners decided together in one set of queries; larger calls are split into chunks.
    "WRITE_CHUNK_SIZE": 1000,
    # Most learners one REST write request may carry (413 above it); never below 25,
    # the batch size Open edX clients send.
    "MAX_BATCH_SIZE": 1000,
    # Page sizes of the REST reads: the default, and the most a client may ask for.
    "PAGE_SIZE": 100,
    "MAX_PAGE_SIZE": 1000,
}

MIN_BATCH_SIZE = 25


def get(name: str) -> Any:
    """Return the current value of one ``PROGRAM_ENROLLMENTS`` setting."""
    if name not in DEFAULTS:
        raise KeyError(f"Unknown {SETTINGS_NAME} setting: {name}")
    return getattr(settings, SETTINGS_NAME, {}).get(name, DEFAULTS[name])


def course_enrollment_model_label() -> str:
    """Return the ``app_label.Model`` of the course-enrollment model the app points at."""
    return getattr(settings, COURSE_ENROLLMENT_MODEL_SETTING, DEFAULT_COURSE_ENROLLMENT_MODEL)


def backend_class(name: str) -> type:
    """Import the class named by the ``LMS_BACKEND`` or ``CATALOG_BACKEND`` setting."""
    return import_string(get(name))
