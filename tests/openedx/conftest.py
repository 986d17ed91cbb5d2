"""Fixtures of the suite that runs inside the Open edX harness LMS.

Run it with the harness venv: ``.venv-openedx/bin/pytest tests/openedx`` (the configuration is
``tests/openedx/pytest.ini``). When the standalone suite (``make test``, ``tox.ini``) walks into this
directory, the harness settings are not loaded: every module here is reported as skipped, with the
reason, instead of being imported.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HOST_DIR = Path(__file__).resolve().parents[1] / "openedx_host"
PLATFORM_ROOT = HOST_DIR / "platform"
REPOSITORY_ROOT = HOST_DIR.parents[1]
DEMO_CATALOG = REPOSITORY_ROOT / "program_enrollments" / "standalone" / "fixtures" / "demo_programs.json"

SKIP_REASON = (
    "tests/openedx runs inside the Open edX harness LMS, not the standalone host: "
    "run `.venv-openedx/bin/pytest tests/openedx` (see tests/openedx_host/README.rst)"
)


def _harness_settings_loaded():
    from django.conf import settings

    return settings.configured and getattr(settings, "OPENEDX_HOST_HARNESS", False)


class _SkippedModule(pytest.Module):
    """A test module of this directory collected under other settings: skipped, never imported."""

    def collect(self):
        pytest.skip(SKIP_REASON)


def pytest_pycollect_makemodule(module_path, parent):
    if not _harness_settings_loaded():
        return _SkippedModule.from_parent(parent, path=module_path)
    return None


def pytest_report_header(config):
    if not _harness_settings_loaded():
        return None
    import lms
    from django.apps import apps
    from django.conf import settings

    tree = Path(lms.__file__).resolve().parents[1]
    database = settings.DATABASES["default"]
    try:
        holder = apps.get_app_config("program_enrollments").name
    except LookupError:
        holder = "nobody"
    return [
        f"openedx harness: settings {os.environ.get('DJANGO_SETTINGS_MODULE')}, platform tree {tree}",
        f"openedx harness: database {database['ENGINE']} {database.get('HOST') or ''} {database.get('NAME')}",
        f"openedx harness: plugins left out {settings.OPENEDX_HOST_EXCLUDED_PLUGINS or 'none'}; "
        f"label program_enrollments held by {holder}",
    ]


@pytest.fixture(autouse=True)
def _empty_lms_caches():
    """Each test starts with an empty Django cache (the catalog lives there) and no prefetched grades."""
    from django.core.cache import cache
    from lms.djangoapps.grades.models import PersistentCourseGrade

    cache.clear()
    PersistentCourseGrade._prefetched.clear()
    yield
    cache.clear()
    PersistentCourseGrade._prefetched.clear()


@pytest.fixture
def program_cache():
    """The LMS's program cache filled from the demo catalog (three GTx programs); returns their UUIDs."""
    from openedx_harness.catalog import cache_programs

    return cache_programs(DEMO_CATALOG)


@pytest.fixture
def platform_copy(tmp_path):
    """A private copy of the stand-in platform tree (for subprocesses that may change it)."""
    copy = tmp_path / "platform"
    shutil.copytree(PLATFORM_ROOT, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


@pytest.fixture
def run_harness(tmp_path):
    """Run Python code in a fresh process of the harness; returns the ``CompletedProcess``.

    ``run_harness(code, settings="lms.envs.test", without_plugins=None, platform_root=None)``:
    ``without_plugins`` is the value of ``OPENEDX_HOST_WITHOUT_PLUGINS`` (``None`` leaves it unset, so
    every installed entry point counts, as in a real LMS). The process runs in a temporary directory,
    with its own SQLite file and stevedore cache, and ``DATABASE_URL`` removed.
    """

    def run(code, *, settings="lms.envs.test", without_plugins=None, platform_root=None):
        environ = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DATABASE_URL", "OPENEDX_HOST_WITHOUT_PLUGINS", "PYTHONPATH", "DJANGO_SETTINGS_MODULE"}
        }
        environ.update(
            PYTHONPATH=str(platform_root or PLATFORM_ROOT),
            DJANGO_SETTINGS_MODULE=settings,
            OPENEDX_HOST_VAR_DIR=str(tmp_path / "var"),
            XDG_CACHE_HOME=str(tmp_path / "cache"),
        )
        if without_plugins is not None:
            environ["OPENEDX_HOST_WITHOUT_PLUGINS"] = without_plugins
        return subprocess.run(
            [sys.executable, "-c", code],
            cwd=tmp_path,
            env=environ,
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run
