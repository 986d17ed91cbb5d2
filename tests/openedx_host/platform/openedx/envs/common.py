"""Stand-in of ``openedx/envs/common.py``: settings shared by the LMS and the CMS.

Holds the platform's values of the settings that change how an app behaves inside Open edX
(``DEFAULT_AUTO_FIELD``, ``SIMPLE_HISTORY_DATE_INDEX``, ``JWT_AUTH``, ``EDX_DRF_EXTENSIONS``,
``REST_FRAMEWORK``, ``RETIRED_USER_SALTS``, ``COURSE_MODE_DEFAULTS``); the JWT keys are a fixed HS256 test
secret and issuer (a deployment sets its own). ``DATABASES`` comes from ``DATABASE_URL`` (see
``openedx_harness.databases``), with ``ATOMIC_REQUESTS`` on.
"""

import json
import os
from pathlib import Path

from openedx_harness.databases import database_from_environment

# Marks the harness settings (the platform has no such setting); tests/openedx/conftest.py reads it.
OPENEDX_HOST_HARNESS = True

SECRET_KEY = os.environ.get("OPENEDX_HOST_SECRET_KEY", "openedx-host-harness-secret-key")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

DATABASES = {"default": database_from_environment()}

# The platform's tables have int primary keys; models that do not say otherwise get AutoField.
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
# Otherwise simple-history indexes history_date, and makemigrations wants a migration for every history table.
SIMPLE_HISTORY_DATE_INDEX = False

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "openedx-host",
        "KEY_FUNCTION": None,
        "TIMEOUT": None,
    },
}

TIME_ZONE = "UTC"
USE_TZ = True
LANGUAGE_CODE = "en"
USE_I18N = True
STATIC_URL = "/static/"
AUTH_PASSWORD_VALIDATORS = []
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SITE_ID = 1

AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]

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

############################## JWT (edx-drf-extensions) ##############################

JWT_ISSUER = os.environ.get("OPENEDX_HOST_JWT_ISSUER", "http://127.0.0.1:8000/oauth2")
JWT_AUDIENCE = os.environ.get("OPENEDX_HOST_JWT_AUDIENCE", "openedx-host")
JWT_SECRET_KEY = os.environ.get("OPENEDX_HOST_JWT_SECRET_KEY", "openedx-host-jwt-secret")
# An RSA pair made for this harness only (openedx_harness/jwt_keys.json, not a secret of any deployment),
# as Tutor gives every LMS one: with no public key set, edx-drf-extensions counts a token checked against
# no keys as verified, so a JWT signed with any key would pass.
_JWT_KEYS = json.loads((Path(__file__).resolve().parents[2] / "openedx_harness" / "jwt_keys.json").read_text())
JWT_PRIVATE_SIGNING_JWK = json.dumps(_JWT_KEYS["private"])
JWT_PUBLIC_SIGNING_JWK_SET = json.dumps(_JWT_KEYS["public_set"])

JWT_AUTH = {
    "JWT_VERIFY_EXPIRATION": True,
    "JWT_PAYLOAD_GET_USERNAME_HANDLER": lambda payload: payload.get("username"),
    "JWT_LEEWAY": 1,
    "JWT_DECODE_HANDLER": "edx_rest_framework_extensions.auth.jwt.decoder.jwt_decode_handler",
    "JWT_AUTH_COOKIE": "edx-jwt-cookie",
    "JWT_EXPIRATION": 30,
    "JWT_IN_COOKIE_EXPIRATION": 60 * 60,
    "JWT_LOGIN_CLIENT_ID": "login-service-client-id",
    "JWT_LOGIN_SERVICE_USERNAME": "login_service_user",
    "JWT_SUPPORTED_VERSION": "1.2.0",
    "JWT_ALGORITHM": "HS256",
    "JWT_SECRET_KEY": JWT_SECRET_KEY,
    "JWT_SIGNING_ALGORITHM": "RS512",
    "JWT_PRIVATE_SIGNING_JWK": JWT_PRIVATE_SIGNING_JWK,
    "JWT_PUBLIC_SIGNING_JWK_SET": JWT_PUBLIC_SIGNING_JWK_SET,
    "JWT_ISSUER": JWT_ISSUER,
    "JWT_AUDIENCE": JWT_AUDIENCE,
    "JWT_ISSUERS": [{"ISSUER": JWT_ISSUER, "AUDIENCE": JWT_AUDIENCE, "SECRET_KEY": JWT_SECRET_KEY}],
    "JWT_AUTH_COOKIE_HEADER_PAYLOAD": "edx-jwt-cookie-header-payload",
    "JWT_AUTH_COOKIE_SIGNATURE": "edx-jwt-cookie-signature",
    "JWT_AUTH_HEADER_PREFIX": "JWT",
}

# The LMS copies no JWT claims onto users: 'administrator' does not make anyone staff.
EDX_DRF_EXTENSIONS = {
    "JWT_PAYLOAD_USER_ATTRIBUTE_MAPPING": {},
    "VERIFY_LMS_USER_ID_PROPERTY_NAME": "id",
}

################################## REST framework ##################################

REST_FRAMEWORK = {
    "DEFAULT_PAGINATION_CLASS": "edx_rest_framework_extensions.paginators.DefaultPagination",
    "DEFAULT_RENDERER_CLASSES": ("rest_framework.renderers.JSONRenderer",),
    "PAGE_SIZE": 10,
    "URL_FORMAT_OVERRIDE": None,
    "DEFAULT_AUTHENTICATION_CLASSES": (
        "openedx.core.djangolib.default_auth_classes.DefaultJwtAuthentication",
        "openedx.core.djangolib.default_auth_classes.DefaultSessionAuthentication",
    ),
}

################################## Retirement ##################################

# Every salt ever used, oldest first; retired values use the last one.
RETIRED_USER_SALTS = ["openedx-host-old-salt", "openedx-host-current-salt"]
RETIRED_USERNAME_PREFIX = "retired__user_"
RETIRED_EMAIL_PREFIX = "retired__user_"
RETIRED_EMAIL_DOMAIN = "retired.invalid"

################################## Course modes ##################################

COURSE_MODE_DEFAULTS = {
    "bulk_sku": None,
    "currency": "usd",
    "description": None,
    "expiration_datetime": None,
    "min_price": 0,
    "name": "Audit",
    "sku": None,
    "slug": "audit",
    "suggested_prices": "",
}

################################## Celery ##################################

# Tasks run in the calling process, as in the platform's test settings; no broker is needed.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = None

################################## Third-party auth ##################################

SOCIAL_AUTH_STRATEGY = "social_django.strategy.DjangoStrategy"
SOCIAL_AUTH_UID_LENGTH = 255

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("OPENEDX_HOST_LOG_LEVEL", "WARNING")},
}
