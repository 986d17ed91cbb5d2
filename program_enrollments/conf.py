"""The one accessor for the ``PROGRAM_ENROLLMENTS`` settings dict.

Values are read at call time (never copied into module constants) so that
``override_settings`` and a host that finalises its settings after importing
plugins both work.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

SETTINGS_NAME = "PROGRAM_ENROLLMENTS"

# The swappable course-enrollment model, a top-level setting like AUTH_USER_MODEL.
COURSE_ENROLLMENT_MODEL_SETTING = "PROGRAM_ENROLLMENTS_COURSE_ENROLLMENT_MODEL"
DEFAULT_COURSE_ENROLLMENT_MODEL = "student.CourseEnrollment"

DEFAULTS: dict[str, Any] = {
    # Dotted path of the class talking to the host LMS (course enrollments, users). No default:
    # each host names its own (the Open edX plugin settings and the standalone host's settings do),
    # so that a host that forgot cannot silently use another host's models.
    "LMS_BACKEND": None,
    # Dotted path of the class answering program catalog questions (no default, as above).
    "CATALOG_BACKEND": None,
    # Learners decided together in one set of queries; larger calls are split into chunks.
    "WRITE_CHUNK_SIZE": 1000,
    # Most learners one REST write request may carry (413 above it); never below 25,
    # the batch size Open edX clients send.
    "MAX_BATCH_SIZE": 1000,
    # Whether an update (PUT) moves a learner already in the program to the curriculum of the
    # request. Off, as in Open edX's built-in app: registrar sends the program's active curriculum
    # with every write, and a curriculum revision must not silently move existing learners.
    "UPDATE_MOVES_CURRICULUM": False,
    # Seconds without a committed chunk after which a running background job is taken as lost
    # (its worker died): reading its status sends its task again, at most once per this period.
    "STALLED_JOB_SECONDS": 120,
    # Page sizes of the REST reads: the default, and the most a client may ask for.
    "PAGE_SIZE": 100,
    "MAX_PAGE_SIZE": 1000,
    # Dotted paths of the REST views' DRF authentication classes, tried in order. The Open edX
    # plugin settings name the LMS's (JWT, its OAuth2 Bearer tokens, its session class).
    "AUTHENTICATION_CLASSES": (
        "edx_rest_framework_extensions.auth.jwt.authentication.JwtAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ),
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


# The flag of Open edX's built-in app that enables the ``integration-reset`` endpoint (sandboxes only).
ENROLLMENT_RESET_FLAG = "ENABLE_ENROLLMENT_RESET"


def enrollment_reset_enabled() -> bool:
    """Whether the ``integration-reset`` endpoint is on: ``ENABLE_ENROLLMENT_RESET``, as Open edX reads it.

    A top-level setting (newer Open edX settings) or a key of the ``FEATURES`` dict (older
    ones, and deployments' YAML); off when neither says True.
    """
    features = getattr(settings, "FEATURES", None) or {}
    return bool(getattr(settings, ENROLLMENT_RESET_FLAG, False) or features.get(ENROLLMENT_RESET_FLAG, False))


class BackendNotConfigured(ImproperlyConfigured):
    """A backend setting is empty (system checks E001 and E002 report it at start-up)."""


def backend_class(name: str) -> type:
    """Import the class named by the ``LMS_BACKEND`` or ``CATALOG_BACKEND`` setting.

    Raises:
        BackendNotConfigured: the setting is empty.
    """
    path = get(name)
    if not path:
        raise BackendNotConfigured(f"{SETTINGS_NAME}['{name}'] is not set; the host must name its backend.")
    return import_string(path)
