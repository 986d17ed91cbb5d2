"""Settings of the standalone host.

``DATABASE_URL`` selects the database (``postgres://...``, ``mysql://...``);
without it, an SQLite file under ``var/`` at the repository root is used.
``DATABASE_REPLICA_URL`` adds a read replica of it (alias ``read_replica``), where the
REST API's GET views read (``program_enrollments.routers``).
"""

import os
from pathlib import Path

import dj_database_url

from program_enrollments.standalone import development

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("PROGRAM_ENROLLMENTS_VAR_DIR", Path.cwd() / "var"))

# Debug mode only when asked for (`make run` asks). The secrets fall back to development values, which
# the system checks refuse with debug off (checks.py: runserver, manage.py and wsgi.py stop).
DEBUG = os.environ.get("DJANGO_DEBUG", "0") == "1"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or development.SECRET_KEY
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "oauth2_provider",
    "simple_history",
    "program_enrollments.standalone.lms",
    "program_enrollments.standalone.catalog",
    "program_enrollments.standalone.oauth",
    "program_enrollments",
]

# The JWT middleware of an Open edX LMS (lms/envs/common.py), in its order, so that the REST views
# meet here what they meet there: EnsureJWTAuthSettingsMiddleware appends NotJwtRestrictedApplication
# to the permissions of JWT views that do not name it (ours do; tests/rest_api/test_lms_middleware.py).
MIDDLEWARE = [
    "edx_django_utils.cache.middleware.RequestCacheMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "edx_rest_framework_extensions.auth.jwt.middleware.JwtAuthCookieMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "edx_rest_framework_extensions.auth.jwt.middleware.EnsureJWTAuthSettingsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "program_enrollments.standalone.urls"
WSGI_APPLICATION = "program_enrollments.standalone.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database_from_environment():
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
    return _database(url)


def _database(url):
    database = dj_database_url.parse(url, conn_max_age=0)
    engine = database["ENGINE"]
    if engine == "django.db.backends.sqlite3":
        database["ENGINE"] = "program_enrollments.standalone.sqlite3"
        # IMMEDIATE takes the write lock at BEGIN, so concurrent writers wait their
        # turn (up to the timeout) instead of failing with "database is locked".
        database["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    elif engine == "django.db.backends.mysql":
        database["OPTIONS"] = {"charset": "utf8mb4"}
        database["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
    return database


DATABASES = {"default": _database_from_environment()}
# A read replica of the default database (streaming replication, a MariaDB replica): the REST
# API's GET views read their pages there; everything else stays on default (routers.py).
if os.environ.get("DATABASE_REPLICA_URL", "").strip():
    DATABASES["read_replica"] = _database(os.environ["DATABASE_REPLICA_URL"].strip())
    # Tests that run with the setting read the default test database through it.
    DATABASES["read_replica"]["TEST"] = {**DATABASES["read_replica"].get("TEST", {}), "MIRROR": "default"}
    DATABASE_ROUTERS = ["program_enrollments.routers.ReadReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# As in Open edX (openedx/envs/common.py): history dates unindexed. The app's migrations are the
# same in every host, so its history tables must not depend on a host's choice here.
SIMPLE_HISTORY_DATE_INDEX = False

PROGRAM_ENROLLMENTS_COURSE_ENROLLMENT_MODEL = "lms.CourseEnrollment"
PROGRAM_ENROLLMENTS = {
    "LMS_BACKEND": "program_enrollments.standalone.backends.StandaloneLMSBackend",
    "CATALOG_BACKEND": "program_enrollments.standalone.backends.StandaloneCatalogBackend",
    # Refuses tokens whose application or user is gone, disabled or inactive (never re-creates a user).
    "AUTHENTICATION_CLASSES": [
        "program_enrollments.standalone.authentication.StandaloneJwtAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # A running job without a committed chunk for this long has lost its worker (docs/operator_guide.rst).
    "STALLED_JOB_SECONDS": int(os.environ.get("PROGRAM_ENROLLMENTS_STALLED_JOB_SECONDS", "120")),
}

# Celery (program_enrollments.standalone.celery): without a broker in the environment, tasks
# run eagerly in the calling process; with one, a worker runs them and beat schedules the expiry.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
# The queue the host's tasks go to and its workers read (celery worker -Q), "celery" unless set.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "celery")
# A job's task is acknowledged when it ends: a worker takes one message at a time.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis: a message taken by a worker that died unacknowledged is delivered again after the
# visibility timeout (seconds), checked about every restore interval (docs/operator_guide.rst).
_VISIBILITY_TIMEOUT = int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600"))
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": _VISIBILITY_TIMEOUT,
    "unacked_restore_interval": max(1, min(60, _VISIBILITY_TIMEOUT // 4)),
    "unacked_restore_throttle": 1,
}
CELERY_BEAT_SCHEDULE = {
    "program-enrollments-expire-waiting-enrollments": {
        "task": "program_enrollments.tasks.expire_waiting_enrollments",
        "schedule": 24 * 60 * 60,  # daily
        "kwargs": {"expiration_days": 60},
    },
    # Jobs that lost their worker (STALLED_JOB_SECONDS), or whose message was lost (idle_minutes), go on.
    "program-enrollments-resume-stalled-jobs": {
        "task": "program_enrollments.tasks.resume_stalled_jobs",
        "schedule": 60,
        "kwargs": {"idle_minutes": 30},
    },
    "program-enrollments-delete-finished-jobs": {
        "task": "program_enrollments.tasks.delete_finished_jobs",
        "schedule": 24 * 60 * 60,
        "kwargs": {"retention_days": 30},
    },
}

# JWTs in the Open edX shape (JWT_AUTH['JWT_ISSUERS']), HS256 with a shared secret.
# Override the development defaults in production (with debug off the host refuses them).
JWT_ISSUER = os.environ.get("PROGRAM_ENROLLMENTS_JWT_ISSUER", "http://127.0.0.1:8000/oauth2")
JWT_AUDIENCE = os.environ.get("PROGRAM_ENROLLMENTS_JWT_AUDIENCE", "program-enrollments")
JWT_SECRET_KEY = os.environ.get("PROGRAM_ENROLLMENTS_JWT_SECRET_KEY") or development.JWT_SECRET_KEY
JWT_AUTH = {
    "JWT_ISSUERS": [{"ISSUER": JWT_ISSUER, "AUDIENCE": JWT_AUDIENCE, "SECRET_KEY": JWT_SECRET_KEY}],
    "JWT_ISSUER": JWT_ISSUER,
    "JWT_AUDIENCE": JWT_AUDIENCE,
    "JWT_SECRET_KEY": JWT_SECRET_KEY,
    "JWT_ALGORITHM": "HS256",
    "JWT_VERIFY_EXPIRATION": True,
    "JWT_VERIFY_AUDIENCE": True,
    "JWT_LEEWAY": 1,
    "JWT_AUTH_HEADER_PREFIX": "JWT",
    # Verifies the signature strictly before the edx-drf-extensions handler (see jwt_decoding.py).
    "JWT_DECODE_HANDLER": "program_enrollments.standalone.jwt_decoding.decode_handler",
    "JWT_PAYLOAD_GET_USERNAME_HANDLER": lambda payload: payload.get("preferred_username"),
    "JWT_EXPIRATION_SECONDS": int(os.environ.get("PROGRAM_ENROLLMENTS_JWT_EXPIRATION_SECONDS", "3600")),
}

# Copy only the email claim onto users, never staff status: edx-drf-extensions' default also maps the
# administrator claim to is_staff, so a demoted user's token would make them staff again (the Open edX
# LMS sets the mapping to {}; system check program_enrollments.E007).
EDX_DRF_EXTENSIONS = {"JWT_PAYLOAD_USER_ATTRIBUTE_MAPPING": {"email": "email"}}

# The app's views take their authentication classes from PROGRAM_ENROLLMENTS["AUTHENTICATION_CLASSES"]
# (default: the two below); these defaults serve other DRF views only.
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "program_enrollments.standalone.authentication.StandaloneJwtAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Program enrollments API",
    "DESCRIPTION": "Bulk enrollment of learners into programs and their course runs; "
    "at most one program holds a learner's active enrollment in a course run.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The documentation page's scripts come from the installed sidecar package, not a CDN.
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

# OAuth2 client credentials (django-oauth-toolkit) for partner scripts; /oauth2/access_token
# returns a JWT when asked with token_type=jwt, as the Open edX LMS does.
OAUTH2_PROVIDER = {
    "SCOPES": {
        "program_enrollments:read": "Read program enrollments",
        "program_enrollments:write": "Write program enrollments",
    },
    "DEFAULT_SCOPES": ["program_enrollments:read", "program_enrollments:write"],
    "ACCESS_TOKEN_EXPIRE_SECONDS": JWT_AUTH["JWT_EXPIRATION_SECONDS"],
    # Checks client secrets at one cost whatever the client id, and refuses malformed ones with a 401.
    "OAUTH2_VALIDATOR_CLASS": "program_enrollments.standalone.oauth.validators.TokenEndpointValidator",
}
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"

# Failed attempts at /oauth2/access_token allowed per client id and per client address, counted in the
# cache below (program_enrollments/standalone/oauth/throttling.py); "<count>/<period>", None for no limit.
TOKEN_ENDPOINT_THROTTLE = {
    "FAILURES_PER_CLIENT": os.environ.get("PROGRAM_ENROLLMENTS_TOKEN_FAILURES_PER_CLIENT", "10/5m"),
    "FAILURES_PER_ADDRESS": os.environ.get("PROGRAM_ENROLLMENTS_TOKEN_FAILURES_PER_ADDRESS", "30/5m"),
}

# Each process has its own counters in this cache, which needs no setup. Several processes (gunicorn
# workers, several servers) share the limits only through a shared cache such as Redis
# (docs/host_integration.rst). Room for the counters of many client ids: a full cache drops entries.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": 10_000},
    }
}

# The debug page hides DATABASE_URL and passwords written into URLs, as well as Django's patterns.
DEFAULT_EXCEPTION_REPORTER_FILTER = "program_enrollments.standalone.exception_reports.ExceptionReporterFilter"

AUTH_PASSWORD_VALIDATORS = []
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "program_enrollments": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
        # A server error is logged with its traceback whatever DEBUG says (Django logs it only with DEBUG).
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}
