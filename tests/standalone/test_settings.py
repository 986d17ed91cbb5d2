"""The standalone host's settings are safe by default: no debug and no development secret in production."""

import os
import runpy
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import checks
from django.test import RequestFactory, override_settings
from django.views.debug import get_default_exception_reporter_filter, technical_500_response

from program_enrollments.standalone import development

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = ROOT / "program_enrollments" / "standalone" / "settings.py"
EXAMPLES = ROOT / "docs" / "examples"
JWT_AUTH_OF = {
    secret: {"JWT_SECRET_KEY": secret, "JWT_ISSUERS": [{"ISSUER": "i", "AUDIENCE": "a", "SECRET_KEY": secret}]}
    for secret in (development.JWT_SECRET_KEY, "a-production-jwt-secret")
}


def _settings_under(monkeypatch, tmp_path, **environment):
    monkeypatch.setenv("PROGRAM_ENROLLMENTS_VAR_DIR", str(tmp_path))
    for name in ("DJANGO_DEBUG", "DJANGO_SECRET_KEY", "PROGRAM_ENROLLMENTS_JWT_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS))


@pytest.mark.parametrize(
    ("environment", "debug"), [({}, False), ({"DJANGO_DEBUG": "0"}, False), ({"DJANGO_DEBUG": "1"}, True)]
)
def test_debug_is_off_unless_asked_for(monkeypatch, tmp_path, environment, debug):
    assert _settings_under(monkeypatch, tmp_path, **environment)["DEBUG"] is debug


def test_make_run_asks_for_debug():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "run: export DJANGO_DEBUG ?= 1" in makefile


def _ids(deploy=False):
    return {m.id for m in checks.run_checks(include_deployment_checks=deploy) if m.id.startswith("standalone.")}


@override_settings(DEBUG=False, SECRET_KEY=development.SECRET_KEY, JWT_AUTH=JWT_AUTH_OF[development.JWT_SECRET_KEY])
def test_development_secrets_are_refused_with_debug_off():
    messages = [m for m in checks.run_checks() if m.id.startswith("standalone.")]
    assert {m.id for m in messages} == {"standalone.E001", "standalone.E002"}
    assert all(m.level == checks.ERROR and m.hint for m in messages)


@pytest.mark.parametrize(
    ("secret_key", "jwt_secret", "expected"),
    [
        (development.SECRET_KEY, "a-production-jwt-secret", {"standalone.E001"}),
        ("a-production-secret-key", development.JWT_SECRET_KEY, {"standalone.E002"}),
        ("a-production-secret-key", "a-production-jwt-secret", set()),
    ],
)
def test_each_development_secret_is_named(secret_key, jwt_secret, expected):
    with override_settings(DEBUG=False, SECRET_KEY=secret_key, JWT_AUTH=JWT_AUTH_OF[jwt_secret]):
        assert _ids() == expected


@override_settings(DEBUG=True, SECRET_KEY=development.SECRET_KEY, JWT_AUTH=JWT_AUTH_OF[development.JWT_SECRET_KEY])
def test_development_secrets_serve_debug_mode_but_fail_check_deploy():
    assert _ids() == set()
    assert _ids(deploy=True) == {"standalone.E001", "standalone.E002"}


def _run(args, *, var_dir, **environment):
    """Run a command of the host in a fresh process; an environment variable given None is removed."""
    merged = {**os.environ, "PROGRAM_ENROLLMENTS_VAR_DIR": str(var_dir), **environment}
    merged = {name: value for name, value in merged.items() if value is not None}
    return subprocess.run(args, cwd=ROOT, env=merged, capture_output=True, text=True, timeout=120)


def test_a_wsgi_server_refuses_to_start_with_development_secrets(tmp_path):
    finished = _run(
        [sys.executable, "-c", "import program_enrollments.standalone.wsgi"],
        var_dir=tmp_path,
        DJANGO_DEBUG=None,
        DJANGO_SECRET_KEY=None,
        PROGRAM_ENROLLMENTS_JWT_SECRET_KEY=None,
        DJANGO_SETTINGS_MODULE=None,
    )
    assert finished.returncode != 0
    assert "ImproperlyConfigured" in finished.stderr
    assert "standalone.E001" in finished.stderr and "standalone.E002" in finished.stderr


def test_check_deploy_is_clean_under_the_documented_production_settings(tmp_path):
    finished = _run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        var_dir=tmp_path,
        PYTHONPATH=os.pathsep.join([str(EXAMPLES), str(ROOT)]),
        DJANGO_SETTINGS_MODULE="production_settings",
        DJANGO_DEBUG=None,
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        PROGRAM_ENROLLMENTS_JWT_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="enrollments.example.org",
    )
    assert finished.returncode == 0, finished.stderr
    assert "System check identified no issues" in finished.stdout


def test_the_documentation_includes_the_tested_production_settings():
    assert "literalinclude:: examples/production_settings.py" in (ROOT / "docs" / "host_integration.rst").read_text(
        encoding="utf-8"
    )


def _debug_page(request):
    """The debug page of an error in a request; this frame's locals, shown on it, hold no password."""
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        return technical_500_response(request, *sys.exc_info()).content.decode()


@override_settings(DEBUG=True)
def test_the_debug_page_hides_database_passwords():
    # Made at run time: the page also shows this test's source lines.
    database_password, broker_password = secrets.token_hex(8), secrets.token_hex(8)
    replica_host = f"replica-{secrets.token_hex(4)}.example.org"
    request = RequestFactory().get(
        "/",
        DATABASE_URL=f"postgres://enrollments:{database_password}@db.example.org:5432/enrollments",
        DATABASE_REPLICA_URL=f"postgres://enrollments:{database_password}@{replica_host}:5432/enrollments",
        BROKER=f"redis://worker:{broker_password}@cache.example.org:6379/0",
    )
    page = _debug_page(request)
    assert "boom" in page
    assert database_password not in page and broker_password not in page
    assert replica_host not in page  # hidden whole, as DATABASE_URL is
    assert "redis://worker:********************@cache.example.org" in page
    databases = get_default_exception_reporter_filter().get_safe_settings()["DATABASES"]
    assert databases["default"]["PASSWORD"] == "********************"


def test_the_token_endpoint_limits_have_defaults_and_environment_variables(monkeypatch, tmp_path):
    assert _settings_under(monkeypatch, tmp_path)["TOKEN_ENDPOINT_THROTTLE"] == {
        "FAILURES_PER_CLIENT": "10/5m",
        "FAILURES_PER_ADDRESS": "30/5m",
    }
    configured = _settings_under(
        monkeypatch,
        tmp_path,
        PROGRAM_ENROLLMENTS_TOKEN_FAILURES_PER_CLIENT="5/15m",
        PROGRAM_ENROLLMENTS_TOKEN_FAILURES_PER_ADDRESS="100/h",
    )
    assert configured["TOKEN_ENDPOINT_THROTTLE"] == {"FAILURES_PER_CLIENT": "5/15m", "FAILURES_PER_ADDRESS": "100/h"}


def test_the_failure_counters_need_no_cache_server_by_default(monkeypatch, tmp_path):
    caches = _settings_under(monkeypatch, tmp_path)["CACHES"]
    assert caches["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


@pytest.mark.parametrize(
    "rate, valid",
    [
        ("10/5m", True),
        ("30/h", True),
        ("3/30s", True),
        (None, True),
        ("ten/5m", False),
        ("10/5 minutes", False),
        ("0/5m", False),
        (10, False),
    ],
)
def test_a_token_endpoint_limit_that_is_not_a_rate_is_named(rate, valid):
    with override_settings(TOKEN_ENDPOINT_THROTTLE={"FAILURES_PER_CLIENT": rate}):
        messages = [m for m in checks.run_checks() if m.id == "standalone.E003"]
    if valid:
        assert messages == []
    else:
        assert [("FAILURES_PER_CLIENT" in m.msg, bool(m.hint)) for m in messages] == [(True, True)]
