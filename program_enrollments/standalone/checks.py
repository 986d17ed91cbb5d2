"""System checks of the standalone host (ids ``standalone.E00x``): no development secret outside development,
token endpoint limits that can be read."""

import re

from django.conf import settings
from django.core import checks

from program_enrollments.standalone import development
from program_enrollments.standalone.oauth import throttling


def development_secret_errors() -> list[checks.Error]:
    """An error for each development secret the settings use (whatever DEBUG says)."""
    errors = []
    if settings.SECRET_KEY == development.SECRET_KEY:
        errors.append(
            checks.Error(
                "SECRET_KEY is the standalone host's development key, which everyone who has the repository knows.",
                hint="Set DJANGO_SECRET_KEY to a long random value (python -c 'import secrets; "
                "print(secrets.token_urlsafe(50))'), or DJANGO_DEBUG=1 for development.",
                id="standalone.E001",
            )
        )
    jwt_auth = getattr(settings, "JWT_AUTH", {}) or {}
    jwt_secrets = [jwt_auth.get("JWT_SECRET_KEY")]
    jwt_secrets += [issuer.get("SECRET_KEY") for issuer in jwt_auth.get("JWT_ISSUERS") or []]
    if development.JWT_SECRET_KEY in jwt_secrets:
        errors.append(
            checks.Error(
                "JWT_AUTH signs and accepts tokens with the standalone host's development JWT secret: anyone can "
                "sign a token for any user, staff included.",
                hint="Set PROGRAM_ENROLLMENTS_JWT_SECRET_KEY to a long random value (or to the secret of the "
                "LMS whose tokens the host accepts), or DJANGO_DEBUG=1 for development.",
                id="standalone.E002",
            )
        )
    return errors


@checks.register(checks.Tags.security)
def check_development_secrets(app_configs=None, **kwargs):
    # Not deploy-only: runserver and every manage.py command run it, so a host whose debug mode is
    # off refuses to start with a development secret (wsgi.py does the same for WSGI servers).
    if settings.DEBUG:
        return []
    return development_secret_errors()


@checks.register(checks.Tags.security, deploy=True)
def check_development_secrets_for_deployment(app_configs=None, **kwargs):
    # `check --deploy` reports them with debug on too (check_development_secrets does with it off).
    if not settings.DEBUG:
        return []
    return development_secret_errors()


# django-ratelimit's rates: a count, then a period in seconds, minutes, hours or days with an optional multiplier.
_RATE = re.compile(r"[1-9]\d*/([1-9]\d*)?[smhd]?")


@checks.register()
def check_token_endpoint_throttle(app_configs=None, **kwargs):
    errors = []
    for name, rate in throttling.limits().items():
        if rate is not None and not (isinstance(rate, str) and _RATE.fullmatch(rate)):
            errors.append(
                checks.Error(
                    f"{throttling.SETTING}[{name!r}] is {rate!r}, which is not a rate of failed attempts.",
                    hint='Write "<count>/<period>", for example "10/5m" (ten in five minutes; s, m, h or d), '
                    "or None for no limit.",
                    id="standalone.E003",
                )
            )
    return errors
