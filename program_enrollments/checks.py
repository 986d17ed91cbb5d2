"""System checks of the app's configuration (ids ``program_enrollments.E00x``)."""

from django.apps import apps
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from program_enrollments import conf
from program_enrollments.backends.base import CatalogBackend, LMSBackend


@checks.register()
def check_backends(app_configs=None, **kwargs):
    errors = []
    for name, base, check_id in (("LMS_BACKEND", LMSBackend, "E001"), ("CATALOG_BACKEND", CatalogBackend, "E002")):
        path = conf.get(name)
        if not path:
            errors.append(
                checks.Error(
                    f"{conf.SETTINGS_NAME}['{name}'] is not set.",
                    hint="In an Open edX LMS the plugin settings set it; the standalone host's settings set "
                    f"it too. Any other host names a {base.__name__} subclass there.",
                    id=f"program_enrollments.{check_id}",
                )
            )
            continue
        try:
            backend = import_string(path)
        except ImportError as error:
            errors.append(
                checks.Error(
                    f"{conf.SETTINGS_NAME}['{name}'] names {path!r}, which cannot be imported: {error}",
                    hint=f"Set {conf.SETTINGS_NAME}['{name}'] to the dotted path of a {base.__name__} subclass.",
                    id=f"program_enrollments.{check_id}",
                )
            )
            continue
        if not (isinstance(backend, type) and issubclass(backend, base)):
            errors.append(
                checks.Error(
                    f"{conf.SETTINGS_NAME}['{name}'] names {path!r}, which is not a {base.__name__} subclass.",
                    hint=f"Subclass program_enrollments.backends.base.{base.__name__}.",
                    id=f"program_enrollments.{check_id}",
                )
            )
            continue
        # What the backend needs from its host (the Open edX backends: the platform's models and APIs).
        errors.extend(backend.check(app_configs=app_configs))
    return errors


@checks.register(checks.Tags.models)
def check_course_enrollment_model(app_configs=None, **kwargs):
    label = conf.course_enrollment_model_label()
    try:
        apps.get_model(label, require_ready=False)
    except (LookupError, ValueError):
        return [
            checks.Error(
                f"{conf.COURSE_ENROLLMENT_MODEL_SETTING} refers to {label!r}, which is not an installed model.",
                hint="Point it at the host's course-enrollment model, e.g. 'student.CourseEnrollment' in an "
                "Open edX LMS or 'lms.CourseEnrollment' in the standalone host.",
                id="program_enrollments.E003",
            )
        ]
    return []


def _positive_integer(name: str, check_id: str, hint: str | None = None) -> list:
    """The error of setting ``name`` unless it is a positive integer (``True`` is not one)."""
    value = conf.get(name)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return []
    return [
        checks.Error(
            f"{conf.SETTINGS_NAME}['{name}'] must be a positive integer, not {value!r}.",
            hint=hint,
            id=f"program_enrollments.{check_id}",
        )
    ]


@checks.register()
def check_chunk_size(app_configs=None, **kwargs):
    return _positive_integer("WRITE_CHUNK_SIZE", "E004")


@checks.register()
def check_stalled_job_seconds(app_configs=None, **kwargs):
    return _positive_integer(
        "STALLED_JOB_SECONDS",
        "E008",
        hint="Seconds a running job may go without committing a chunk before its task is sent again "
        "(default 120): longer than the slowest chunk of WRITE_CHUNK_SIZE learners.",
    )


@checks.register()
def check_rest_limits(app_configs=None, **kwargs):
    errors = []
    batch = conf.get("MAX_BATCH_SIZE")
    if not isinstance(batch, int) or isinstance(batch, bool) or batch < conf.MIN_BATCH_SIZE:
        errors.append(
            checks.Error(
                f"{conf.SETTINGS_NAME}['MAX_BATCH_SIZE'] must be an integer of at least {conf.MIN_BATCH_SIZE}, "
                f"not {batch!r}.",
                hint=f"Open edX clients send {conf.MIN_BATCH_SIZE} learners per request; the default is 1000.",
                id="program_enrollments.E005",
            )
        )
    for name in ("PAGE_SIZE", "MAX_PAGE_SIZE"):
        errors.extend(_positive_integer(name, "E006"))
    return errors


# User fields no token claim may set: staff and superuser status and the active flag are the
# database's to decide, or a replayed token would re-grant what an administrator took away.
_PRIVILEGE_FIELDS = ("is_staff", "is_superuser", "is_active")


def _uses_edx_jwt_authentication() -> bool:
    """Whether the app's views, or the host's DRF defaults, authenticate with edx-drf-extensions' JWTs."""
    from edx_rest_framework_extensions.auth.jwt.authentication import JwtAuthentication
    from rest_framework.settings import api_settings

    from program_enrollments.rest_api.v1.authentication import configured_authentication_classes

    try:
        classes = [*configured_authentication_classes(), *api_settings.DEFAULT_AUTHENTICATION_CLASSES]
    except (ImportError, ImproperlyConfigured):
        classes = list(api_settings.DEFAULT_AUTHENTICATION_CLASSES)
    return any(isinstance(cls, type) and issubclass(cls, JwtAuthentication) for cls in classes)


@checks.register()
def check_jwt_claims_grant_no_privileges(app_configs=None, **kwargs):
    try:
        from edx_rest_framework_extensions.settings import get_setting
    except ImportError:  # no edx-drf-extensions, no claim copying
        return []
    mapping = get_setting("JWT_PAYLOAD_USER_ATTRIBUTE_MAPPING") or {}
    copied = sorted(f"{claim!r} -> {field}" for claim, field in mapping.items() if field in _PRIVILEGE_FIELDS)
    if not copied or not _uses_edx_jwt_authentication():
        return []
    return [
        checks.Error(
            "EDX_DRF_EXTENSIONS['JWT_PAYLOAD_USER_ATTRIBUTE_MAPPING'] copies JWT claims onto privilege fields "
            f"of the user ({', '.join(copied)}): a token claiming administrator would make its user staff again "
            "after an administrator took the status away.",
            hint="Set EDX_DRF_EXTENSIONS = {'JWT_PAYLOAD_USER_ATTRIBUTE_MAPPING': {}} as the Open edX LMS does "
            "(or keep only {'email': 'email'}); without the key, edx-drf-extensions maps administrator to "
            "is_staff.",
            id="program_enrollments.E007",
        )
    ]
