"""Failed attempts at ``/oauth2/access_token``, counted per client id and per client address.

A refused request (any 4xx answer) counts one failure against the address it came from and
against each client id it named (the ``client_id`` parameter, the user of HTTP Basic
credentials). Once a counter holds its limit of failures, every request that falls under it
gets a 429 until its window ends, before any credential is checked: a correct secret does not
lift a lockout. Successful requests are never counted, so a client is only held back by the
failures of others that name its id or share its address.

The counters are django-ratelimit's, in Django's cache (``RATELIMIT_USE_CACHE``, by default the
``default`` cache). django-ratelimit is what the Open edX platform throttles its own sign-in
with; its ``get_usage`` reads a counter without counting (``increment=False``) and counts on
demand, which is exactly "check before, count only failures" (DRF's throttles count every request
they let through). Its windows are fixed, each starting at an offset of its own, so a client may
get up to twice its limit across the edge of two windows.

The limits are the host's ``TOKEN_ENDPOINT_THROTTLE`` setting, read at each request. The address is
``REMOTE_ADDR``, or what django-ratelimit's ``RATELIMIT_IP_META_KEY`` names (``address_behind_proxy``
behind a reverse proxy).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from urllib.parse import unquote_plus

from django.conf import settings
from django.core.exceptions import BadRequest, SuspiciousOperation
from django.http.multipartparser import MultiPartParserError
from django_ratelimit.core import get_usage

SETTING = "TOKEN_ENDPOINT_THROTTLE"
DEFAULTS = {
    # "<count>/<period>": count failures per period, the period in s, m, h or d with an optional
    # multiplier ("10/5m": ten in five minutes). None turns the rule off.
    "FAILURES_PER_CLIENT": "10/5m",
    "FAILURES_PER_ADDRESS": "30/5m",
}

_CLIENT_GROUP = "program_enrollments.standalone.oauth.failures_per_client"
_ADDRESS_GROUP = "program_enrollments.standalone.oauth.failures_per_address"


def limits() -> dict[str, str | None]:
    """The current limits: the defaults, overridden by the ``TOKEN_ENDPOINT_THROTTLE`` setting."""
    return {**DEFAULTS, **(getattr(settings, SETTING, None) or {})}


def address_behind_proxy(request) -> str:
    """The address a reverse proxy appended to ``X-Forwarded-For`` (its last entry), else ``REMOTE_ADDR``.

    For ``RATELIMIT_IP_META_KEY`` behind one proxy that appends the address it saw: without it every
    client has the proxy's address, and shares one per-address counter. Earlier entries are the
    client's own say and are never used.
    """
    last = request.META.get("HTTP_X_FORWARDED_FOR", "").rsplit(",", 1)[-1].strip()
    try:
        return str(ipaddress.ip_address(last))
    except ValueError:
        return request.META["REMOTE_ADDR"]


def _basic_auth_client_id(request) -> str | None:
    scheme, _, credentials = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme != "Basic" or not credentials.isascii():
        return None
    try:
        decoded = base64.b64decode(credentials).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    client_id, colon, _ = decoded.partition(":")
    return unquote_plus(client_id) if colon else None


def _body_client_id(request) -> str | None:
    try:
        return request.POST.get("client_id")
    except (SuspiciousOperation, BadRequest, MultiPartParserError):  # an unreadable body names no client
        return None


def _client_ids(request) -> list[str]:
    named = [_body_client_id(request), _basic_auth_client_id(request)]
    return list(dict.fromkeys(client_id for client_id in named if client_id))


def _counters(request):
    """(group, rate, django-ratelimit key) of each counter the request falls under."""
    rates = limits()
    if rates["FAILURES_PER_ADDRESS"]:
        yield _ADDRESS_GROUP, rates["FAILURES_PER_ADDRESS"], "ip"
    if rates["FAILURES_PER_CLIENT"]:
        for client_id in _client_ids(request):
            yield _CLIENT_GROUP, rates["FAILURES_PER_CLIENT"], lambda group, request, value=client_id: value


def retry_after(request) -> int | None:
    """Seconds until the request may be tried again, or None when none of its counters is full."""
    waits = []
    for group, rate, key in _counters(request):
        usage = get_usage(request, group=group, key=key, rate=rate, increment=False)
        # A cache that fails answers a limit of 0 (django-ratelimit fails closed unless RATELIMIT_FAIL_OPEN).
        if usage is not None and usage["count"] >= usage["limit"]:
            waits.append(max(usage["time_left"], 1))
    return max(waits) if waits else None


def record_failure(request) -> None:
    """Count one failure against the request's address and each client id it names."""
    for group, rate, key in _counters(request):
        get_usage(request, group=group, key=key, rate=rate, increment=True)
