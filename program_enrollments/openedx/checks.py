"""System checks of the Open edX host (ids ``program_enrollments.E1xx``).

When the Open edX backends are configured, the platform parts they and the
receivers use must be importable and installed, and the app's foreign key must
point at the platform's ``student.CourseEnrollment``; otherwise ``manage.py
check`` (and ``migrate``, ``runserver``, which run the checks) fails at start-up
with a hint, instead of the first request failing.

Nothing here is registered at import time (the core imports no host module).
Each Open edX backend class has a ``check()`` class method returning its errors,
for the core's backend check to call on whichever backend is configured;
``check_openedx_backends`` is the same as a Django check function, for a host
that registers it itself.
"""

from __future__ import annotations

import importlib

from django.apps import apps
from django.conf import settings
from django.core import checks
from django.utils.module_loading import import_string

from program_enrollments import conf

COURSE_ENROLLMENT_MODEL = "student.CourseEnrollment"

# (module, attribute, what it is for): what the LMS backend and the compatibility layer use.
LMS_PARTS = (
    ("common.djangoapps.student.models", "CourseEnrollment", "course enrollments"),
    ("common.djangoapps.student.roles", "CourseStaffRole", "the course staff role"),
    ("openedx.core.djangoapps.content.course_overviews.models", "CourseOverview", "course runs"),
    ("common.djangoapps.third_party_auth.models", "SAMLProviderConfig", "SAML providers"),
    ("social_django.models", "UserSocialAuth", "SAML identities (social-auth-app-django)"),
    ("organizations.models", "Organization", "organizations (edx-organizations)"),
)
CATALOG_PARTS = (("openedx.core.djangoapps.catalog.utils", "get_programs", "the programs of the catalog cache"),)
RECEIVER_PARTS = (
    ("openedx.core.djangoapps.user_api.accounts.signals", "USER_RETIRE_LMS_MISC", "user retirement"),
    ("openedx.core.lib.user_util", "get_retired_external_key", "retired student keys"),
)

_INSTALL_HINT = (
    "The Open edX backends run inside an Open edX LMS (openedx-platform on the Python path, "
    "with its apps installed). Outside one, set {setting}['{name}'] to another host's backend."
)


def _missing(parts) -> list[tuple[str, str]]:
    """(dotted path, reason) of each part that cannot be imported or whose app is not installed."""
    missing = []
    for module, attribute, _purpose in parts:
        path = f"{module}.{attribute}"
        try:
            value = getattr(importlib.import_module(module), attribute)
        except Exception as error:  # noqa: BLE001 - ImportError, or RuntimeError for a model of an uninstalled app
            missing.append((path, f"{type(error).__name__}: {error}"))
            continue
        meta = getattr(value, "_meta", None)
        if meta is not None and getattr(meta, "app_config", None) is None:
            missing.append((path, "its app is not in INSTALLED_APPS"))
    return missing


def _parts_errors(parts, *, check_id: str, backend: str, name: str) -> list[checks.Error]:
    return [
        checks.Error(
            f"{backend} needs {path}, which is unavailable ({reason}).",
            hint=_INSTALL_HINT.format(setting=conf.SETTINGS_NAME, name=name),
            obj=backend,
            id=f"program_enrollments.{check_id}",
        )
        for path, reason in _missing(parts)
    ]


JWT_AUTHENTICATION = "edx_rest_framework_extensions.auth.jwt.authentication.JwtAuthentication"


def _jwt_key_warnings() -> list[checks.Warning]:
    """W101: JWTs are accepted but the LMS has no public signing keys to check them against.

    edx-drf-extensions first checks a token against ``JWT_PUBLIC_SIGNING_JWK_SET``, and an empty
    set counts as verified there: a token signed with any key would reach the API.
    """
    if JWT_AUTHENTICATION not in list(conf.get("AUTHENTICATION_CLASSES") or ()):
        return []
    if (getattr(settings, "JWT_AUTH", None) or {}).get("JWT_PUBLIC_SIGNING_JWK_SET"):
        return []
    return [
        checks.Warning(
            "JWT_AUTH['JWT_PUBLIC_SIGNING_JWK_SET'] is empty, so edx-drf-extensions does not check the signature of "
            "the JWTs the program enrollments API accepts.",
            hint="Configure the LMS's asymmetric JWT signing keys (Tutor does: JWT_PRIVATE_SIGNING_JWK and "
            "JWT_PUBLIC_SIGNING_JWK_SET), or leave JwtAuthentication out of "
            "PROGRAM_ENROLLMENTS['AUTHENTICATION_CLASSES'].",
            obj="OpenEdxLMSBackend",
            id="program_enrollments.W101",
        )
    ]


def check_lms_backend() -> list[checks.CheckMessage]:
    """Messages for ``OpenEdxLMSBackend``: platform parts (E101), course-enrollment model (E102), JWT keys (W101)."""
    errors = _parts_errors(LMS_PARTS, check_id="E101", backend="OpenEdxLMSBackend", name="LMS_BACKEND")
    errors.extend(_jwt_key_warnings())
    label = conf.course_enrollment_model_label()
    hint = (
        f"Remove {conf.COURSE_ENROLLMENT_MODEL_SETTING} from the settings (the plugin settings set it to "
        f"{COURSE_ENROLLMENT_MODEL!r}) or set it to {COURSE_ENROLLMENT_MODEL!r}."
    )
    if label != COURSE_ENROLLMENT_MODEL:
        errors.append(
            checks.Error(
                f"{conf.COURSE_ENROLLMENT_MODEL_SETTING} is {label!r}, but the Open edX backend enrolls learners "
                f"through {COURSE_ENROLLMENT_MODEL}.",
                hint=hint,
                obj="OpenEdxLMSBackend",
                id="program_enrollments.E102",
            )
        )
    else:
        model, platform_model = _course_enrollment_models(label)
        if model is not None and platform_model is not None and model is not platform_model:
            errors.append(
                checks.Error(
                    f"{label} is {model.__module__}.{model.__name__}, not the platform's "
                    "common.djangoapps.student.models.CourseEnrollment.",
                    hint=hint,
                    obj="OpenEdxLMSBackend",
                    id="program_enrollments.E102",
                )
            )
    errors.extend(_parts_errors(RECEIVER_PARTS, check_id="E104", backend="OpenEdxLMSBackend", name="LMS_BACKEND"))
    salts = getattr(settings, "RETIRED_USER_SALTS", None)
    if not isinstance(salts, list | tuple) or not salts:
        errors.append(
            checks.Error(
                "RETIRED_USER_SALTS must be a non-empty list of salts: the retirement receiver replaces a retired "
                "learner's student keys with a hash salted by its last item.",
                hint="Set RETIRED_USER_SALTS as the LMS's settings do (openedx/envs/common.py).",
                obj="OpenEdxLMSBackend",
                id="program_enrollments.E104",
            )
        )
    return errors


def _course_enrollment_models(label: str) -> tuple[type | None, type | None]:
    """The model ``label`` names and the platform's CourseEnrollment; None for what is missing.

    What is missing is reported by E101 (or the core's E003), not again here.
    """
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        model = None
    try:
        from common.djangoapps.student.models import CourseEnrollment
    except Exception:  # noqa: BLE001 - ImportError, or RuntimeError when the student app is not installed
        CourseEnrollment = None
    return model, CourseEnrollment


def check_catalog_backend() -> list[checks.Error]:
    """Errors for ``OpenEdxCatalogBackend``: the catalog cache functions (E103)."""
    return _parts_errors(CATALOG_PARTS, check_id="E103", backend="OpenEdxCatalogBackend", name="CATALOG_BACKEND")


def check_openedx_backends(app_configs=None, **kwargs) -> list[checks.Error]:
    """The Django check: run the Open edX checks of whichever configured backend is an Open edX one.

    A backend path that cannot be imported is the core's E001/E002, not reported here.
    """
    from program_enrollments.openedx.backends import OpenEdxCatalogBackend, OpenEdxLMSBackend

    errors: list[checks.Error] = []
    for name, base, check in (
        ("LMS_BACKEND", OpenEdxLMSBackend, check_lms_backend),
        ("CATALOG_BACKEND", OpenEdxCatalogBackend, check_catalog_backend),
    ):
        path = conf.get(name)
        try:
            backend = import_string(path) if path else None
        except ImportError:
            continue
        if isinstance(backend, type) and issubclass(backend, base):
            errors.extend(check())
    return errors
