"""Production settings of the standalone host: an example to copy and adapt.

Put this file on the Python path and run with ``DJANGO_SETTINGS_MODULE=production_settings`` behind
a reverse proxy that terminates HTTPS, sets ``X-Forwarded-Proto``, appends the client's address to
``X-Forwarded-For`` and serves ``STATIC_ROOT`` at ``STATIC_URL`` (``manage.py collectstatic``).
``manage.py check --deploy`` is clean under it (tests/standalone/test_settings.py runs it).
"""

import os

from django.core.exceptions import ImproperlyConfigured

from program_enrollments.standalone.settings import *  # noqa: F403

# Required, without fallbacks: the base settings would otherwise use development values.
_REQUIRED = ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "PROGRAM_ENROLLMENTS_JWT_SECRET_KEY")
if missing := [name for name in _REQUIRED if not os.environ.get(name)]:
    raise ImproperlyConfigured(f"Set {', '.join(missing)} (see docs/host_integration.rst).")

DEBUG = False
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
ALLOWED_HOSTS = os.environ["DJANGO_ALLOWED_HOSTS"].split(",")
CSRF_TRUSTED_ORIGINS = [f"https://{host}" for host in ALLOWED_HOSTS]

# HTTPS only: the proxy says which requests came over HTTPS.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# Browsers remember for a year to use HTTPS only; preloading needs every subdomain on HTTPS too.
SECURE_HSTS_SECONDS = 31_536_000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True

# The token endpoint counts failed attempts per client address: the proxy's last X-Forwarded-For entry,
# not the proxy's own address (docs/host_integration.rst, "Token endpoint limits"). With several worker
# processes, also point CACHES at a shared cache there.
RATELIMIT_IP_META_KEY = "program_enrollments.standalone.oauth.throttling.address_behind_proxy"

# API clients use the client-credentials grant only: the OAuth 2.0 Security BCP (RFC 9700) behaviour
# of django-oauth-toolkit costs them nothing (no redirects, no refresh tokens, tokens in headers).
OAUTH2_PROVIDER = {
    **OAUTH2_PROVIDER,  # noqa: F405
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
}
