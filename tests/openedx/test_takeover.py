"""The build-time takeover of the platform's built-in app (``program_enrollments.openedx.takeover``).

Each test builds a platform source tree in ``tmp_path`` whose packaging files carry the built-in
entry point as the platform writes it (``pyproject.toml`` on master, ``setup.py`` in older
releases, an editable install's ``*.egg-info/entry_points.txt``), then takes it over.
"""

from __future__ import annotations

import ast
import importlib.metadata
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from program_enrollments import __version__
from program_enrollments.openedx import takeover

REPO_ROOT = Path(__file__).resolve().parents[2]
STAND_IN_PLATFORM = REPO_ROOT / "tests" / "openedx_host" / "platform"
SHIM_DIR = REPO_ROOT / "program_enrollments" / "openedx" / "shim"
ENTRY_POINT = "program_enrollments = lms.djangoapps.program_enrollments.apps:ProgramEnrollmentsConfig"

# Excerpts of the platform's own files, with the lines around the built-in entry point.
PYPROJECT = """\
[build-system]
requires = ["setuptools>=61.0"]
build-backend = "setuptools.build_meta"

[project]
name = "openedx-platform"
version = "0.13"
requires-python = ">=3.12"
dependencies = [
    "Django", # Web application framework
    "edx-django-utils>=5.14.1", # Utilities for cache, monitoring, and plugins
]

[tool.setuptools]
packages = ["cms", "common", "lms", "openedx", "xmodule"]

[project.entry-points."lms.djangoapp"]
ace_common = "openedx.core.djangoapps.ace_common.apps:AceCommonConfig"
grades = "lms.djangoapps.grades.apps:GradesConfig"
instructor = "lms.djangoapps.instructor.apps:InstructorConfig"
password_policy = "openedx.core.djangoapps.password_policy.apps:PasswordPolicyConfig"
user_authn = "openedx.core.djangoapps.user_authn.apps:UserAuthnConfig"
program_enrollments = "lms.djangoapps.program_enrollments.apps:ProgramEnrollmentsConfig"

[project.entry-points."cms.djangoapp"]
ace_common = "openedx.core.djangoapps.ace_common.apps:AceCommonConfig"
# Importing an LMS app into the Studio process is not a good practice.
discussion = "lms.djangoapps.discussion.apps:DiscussionConfig"
instructor = "lms.djangoapps.instructor.apps:InstructorConfig"

[project.entry-points."openedx.block_structure_transformer"]
library_content = "lms.djangoapps.course_blocks.transformers.library_content:ContentLibraryTransformer"
"""

SETUP_PY = '''\
"""  # lint-amnesty, pylint: disable=django-not-configured
Setup script for the Open edX package.
"""

from setuptools import setup

setup(
    name="Open edX",
    version='0.13',
    install_requires=["setuptools"],
    packages=[
        "cms",
        "lms",
        "openedx",
        "xmodule",
    ],
    entry_points={
        "lms.djangoapp": [
            "grades = lms.djangoapps.grades.apps:GradesConfig",
            "plugins = openedx.core.djangoapps.plugins.apps:PluginsConfig",
            "user_authn = openedx.core.djangoapps.user_authn.apps:UserAuthnConfig",
            "program_enrollments = lms.djangoapps.program_enrollments.apps:ProgramEnrollmentsConfig",
            "courseware_api = openedx.core.djangoapps.courseware_api.apps:CoursewareAPIConfig",
            "course_apps = openedx.core.djangoapps.course_apps.apps:CourseAppsConfig",
        ],
        "cms.djangoapp": [
            "plugins = openedx.core.djangoapps.plugins.apps:PluginsConfig",
            "user_authn = openedx.core.djangoapps.user_authn.apps:UserAuthnConfig",
        ],
        'console_scripts': [
            'xmodule_assets = xmodule.static_content:main',
        ],
    }
)
'''

ENTRY_POINTS_TXT = """\
[cms.djangoapp]
plugins = openedx.core.djangoapps.plugins.apps:PluginsConfig

[lms.djangoapp]
grades = lms.djangoapps.grades.apps:GradesConfig
plugins = openedx.core.djangoapps.plugins.apps:PluginsConfig
program_enrollments = lms.djangoapps.program_enrollments.apps:ProgramEnrollmentsConfig
user_authn = openedx.core.djangoapps.user_authn.apps:UserAuthnConfig

[xblock.v1]
about = xmodule.html_block:AboutBlock
"""

BUILTIN_APP = {
    "__init__.py": "",
    "apps.py": textwrap.dedent(
        """\
        from django.apps import AppConfig
        from edx_django_utils.plugins import PluginURLs


        class ProgramEnrollmentsConfig(AppConfig):
            name = 'lms.djangoapps.program_enrollments'
            plugin_app = {PluginURLs.CONFIG: {'lms.djangoapp': {PluginURLs.NAMESPACE: 'programs_api'}}}
        """
    ),
    "models.py": textwrap.dedent(
        """\
        from django.db import models


        class ProgramEnrollment(models.Model):
            class Meta:
                app_label = "program_enrollments"
        """
    ),
    "migrations/__init__.py": "",
    "migrations/0001_initial.py": "from django.db import migrations\n",
    "migrations/0012_mariadb_uuid_conversion.py": "from django.db import migrations\n",
    "signals.py": "",
    "tasks.py": "",
    "api/__init__.py": "from .reading import get_program_enrollment\n",
    "api/reading.py": "def get_program_enrollment(program_uuid, user=None):\n    pass\n",
    "management/commands/expire_waiting_enrollments.py": "",
    "rest_api/v1/views.py": "",
}


def _write(root: Path, files: dict) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)


def _snapshot(root: Path) -> dict:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def _without_line(text: str, line: str) -> str:
    assert text.count(line) == 1
    return text.replace(line, "", 1)


@pytest.fixture
def platform(tmp_path):
    """A platform tree as on master: entry points in pyproject.toml, an editable install's egg-info."""
    root = tmp_path / "edx-platform"
    _write(root, {f"lms/djangoapps/program_enrollments/{name}": text for name, text in BUILTIN_APP.items()})
    _write(
        root,
        {
            "lms/__init__.py": "",
            "lms/djangoapps/__init__.py": "",
            "lms/djangoapps/grades/apps.py": "",
            "pyproject.toml": PYPROJECT,
            "openedx_platform.egg-info/entry_points.txt": ENTRY_POINTS_TXT,
            "openedx_platform.egg-info/PKG-INFO": "Name: openedx-platform\nVersion: 0.13\n",
        },
    )
    return root


@pytest.fixture
def old_platform(tmp_path):
    """A platform tree of an older release: entry points in setup.py."""
    root = tmp_path / "old-edx-platform"
    _write(root, {f"lms/djangoapps/program_enrollments/{name}": text for name, text in BUILTIN_APP.items()})
    _write(root, {"lms/__init__.py": "", "lms/djangoapps/__init__.py": "", "setup.py": SETUP_PY})
    return root


def _run(*args, cwd=None):
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    return subprocess.run(
        [sys.executable, "-m", "program_enrollments.openedx.takeover", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd or REPO_ROOT,
        timeout=60,
    )


def test_builtin_app_is_replaced_by_the_shim(platform):
    report = takeover.apply(platform)

    app_dir = platform / "lms" / "djangoapps" / "program_enrollments"
    files = _snapshot(app_dir)
    assert files.pop("TAKEOVER.txt").decode().startswith("This is not the Open edX built-in program_enrollments app.")
    assert files == _snapshot(SHIM_DIR)
    assert sorted(files) == [
        "__init__.py",
        "api/__init__.py",
        "apps.py",
        "constants.py",
        "exceptions.py",
        "models.py",
    ]
    # Nothing of the built-in app remains: no migrations, signals, tasks, commands or models.
    assert not (app_dir / "migrations").exists()
    assert not (app_dir / "management").exists()
    assert not (app_dir / "signals.py").exists()
    assert all(b"models.Model" not in content for content in files.values())
    assert [change.action for change in report.changes] == ["edit", "edit", "replace"]
    replaced = report.changes[-1]
    assert replaced.path == "lms/djangoapps/program_enrollments/"
    assert "the built-in app (12 files: models, migrations, signals, management commands)" in replaced.detail


def test_marker_names_the_package_version(platform):
    takeover.apply(platform, package_version="9.8.7")

    marker = (platform / "lms" / "djangoapps" / "program_enrollments" / "TAKEOVER.txt").read_text()
    assert "program-enrollments 9.8.7 replaced it" in marker
    assert ENTRY_POINT in marker


def test_shim_app_config_is_no_plugin_and_cannot_clash():
    tree = ast.parse((SHIM_DIR / "apps.py").read_text())
    (config,) = [node for node in tree.body if isinstance(node, ast.ClassDef)]
    attributes = {
        target.id: node.value
        for node in config.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    assert config.name == "ProgramEnrollmentsConfig"
    assert ast.literal_eval(attributes["name"]) == "lms.djangoapps.program_enrollments"
    assert ast.literal_eval(attributes["label"]) == "program_enrollments_shim"
    assert "plugin_app" not in attributes
    assert ast.get_docstring(tree)


def test_shim_modules_re_export_the_compatibility_layer(platform):
    takeover.apply(platform)
    script = textwrap.dedent(
        f"""\
        import sys
        sys.path.insert(0, {str(platform)!r})
        import lms.djangoapps.program_enrollments.constants as shim_constants
        import lms.djangoapps.program_enrollments.exceptions as shim_exceptions
        from lms.djangoapps.program_enrollments.apps import ProgramEnrollmentsConfig
        from program_enrollments.openedx.compat import constants, exceptions
        assert shim_constants.ProgramEnrollmentStatuses is constants.ProgramEnrollmentStatuses
        assert shim_exceptions.BadOrganizationShortNameException is exceptions.BadOrganizationShortNameException
        assert set(shim_exceptions.__all__) >= {{"ProviderDoesNotExistException", "ProgramDoesNotExistException"}}
        assert not hasattr(ProgramEnrollmentsConfig, "plugin_app")
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_pyproject_entry_point_is_removed_and_the_rest_kept(platform):
    report = takeover.apply(platform)

    pyproject = (platform / "pyproject.toml").read_bytes().decode()
    line = 'program_enrollments = "lms.djangoapps.program_enrollments.apps:ProgramEnrollmentsConfig"\n'
    assert pyproject == _without_line(PYPROJECT, line)
    assert report.changes[0].path == "pyproject.toml"
    assert report.changes[0].detail == f"removed line 23: {line.strip()}"


def test_egg_info_entry_point_is_removed_and_the_rest_kept(platform):
    takeover.apply(platform)

    text = (platform / "openedx_platform.egg-info" / "entry_points.txt").read_bytes().decode()
    assert text == _without_line(ENTRY_POINTS_TXT, ENTRY_POINT + "\n")
    assert (platform / "openedx_platform.egg-info" / "PKG-INFO").read_text().startswith("Name: openedx-platform")


def test_setup_py_entry_point_is_removed_and_the_rest_kept(old_platform):
    report = takeover.apply(old_platform)

    setup_py = (old_platform / "setup.py").read_bytes().decode()
    assert setup_py == _without_line(SETUP_PY, f'            "{ENTRY_POINT}",\n')
    ast.parse(setup_py)
    assert [(change.path, change.action) for change in report.changes] == [
        ("setup.py", "edit"),
        ("lms/djangoapps/program_enrollments/", "replace"),
    ]


def test_crlf_line_endings_are_kept(old_platform):
    (old_platform / "setup.py").write_bytes(SETUP_PY.replace("\n", "\r\n").encode())

    takeover.apply(old_platform)

    expected = _without_line(SETUP_PY, f'            "{ENTRY_POINT}",\n').replace("\n", "\r\n")
    assert (old_platform / "setup.py").read_bytes() == expected.encode()


def test_second_run_changes_nothing(platform):
    takeover.apply(platform)
    before = _snapshot(platform)
    mtimes = {path: path.stat().st_mtime_ns for path in platform.rglob("*") if path.is_file()}

    report = takeover.apply(platform)

    assert report.changes == []
    assert "Nothing to do" in report.render()
    assert _snapshot(platform) == before
    assert {path: path.stat().st_mtime_ns for path in platform.rglob("*") if path.is_file()} == mtimes


def test_a_newer_package_version_rewrites_the_shim(platform):
    takeover.apply(platform, package_version="0.0.1")

    report = takeover.apply(platform, package_version="0.0.2")

    (change,) = report.changes
    assert change.action == "replace"
    assert change.detail.startswith("the compatibility package of program-enrollments 0.0.1 ->")


def test_check_reports_without_writing(platform):
    before = _snapshot(platform)

    result = _run(platform, "--check")

    assert result.returncode == 1, result.stderr
    assert _snapshot(platform) == before
    assert f"program-enrollments {__version__} takeover of {platform}" in result.stdout
    assert "would edit pyproject.toml: removed line 23" in result.stdout
    assert "would edit openedx_platform.egg-info/entry_points.txt: removed line 7" in result.stdout
    assert "would replace lms/djangoapps/program_enrollments/" in result.stdout
    assert "3 change(s) needed" in result.stdout


def test_cli_applies_then_check_passes(platform):
    applied = _run(platform)
    checked = _run(platform, "--check")

    assert applied.returncode == 0, applied.stderr
    assert "3 change(s) applied." in applied.stdout
    assert checked.returncode == 0, checked.stderr
    assert "Nothing to do" in checked.stdout
    assert "unchanged pyproject.toml" in checked.stdout


@pytest.mark.parametrize(
    ("filename", "content", "line"),
    [
        # An inline table: valid TOML, but not a form this takeover edits line by line.
        (
            "pyproject.toml",
            '[project]\nname = "openedx-platform"\n\n[project.entry-points]\n"lms.djangoapp" = '
            '{ program_enrollments = "lms.djangoapps.program_enrollments.apps:ProgramEnrollmentsConfig" }\n',
            5,
        ),
        # Two entries on one line.
        (
            "setup.py",
            'from setuptools import setup\nsetup(entry_points={"lms.djangoapp": ["grades = lms.djangoapps.grades.apps:'
            'GradesConfig", "' + ENTRY_POINT + '"]})\n',
            2,
        ),
        # setup.cfg, where no platform release declares its entry points.
        ("setup.cfg", "[options.entry_points]\nlms.djangoapp =\n    " + ENTRY_POINT + "\n", 3),
        # The built-in under a group the takeover does not know.
        ("openedx_platform.egg-info/entry_points.txt", "[lms.djangoapp.legacy]\n" + ENTRY_POINT + "\n", 2),
    ],
)
def test_unknown_format_is_refused_and_nothing_written(platform, filename, content, line):
    (platform / filename).unlink(missing_ok=True)
    _write(platform, {filename: content})
    before = _snapshot(platform)

    result = _run(platform)

    assert result.returncode == 2
    assert result.stdout == ""
    assert f"takeover failed, nothing was changed: {filename} declares the built-in app" in result.stderr
    assert f"(line {line}:" in result.stderr
    assert _snapshot(platform) == before
    with pytest.raises(takeover.TakeoverError, match="in a form this takeover cannot edit"):
        takeover.apply(platform, check=True)


def test_a_tree_that_is_not_a_platform_is_refused(tmp_path):
    result = _run(tmp_path)

    assert result.returncode == 2
    assert "does not look like an Open edX platform source tree (no lms/djangoapps/)" in result.stderr


def test_metadata_dir_edits_only_the_platform_distribution(platform, tmp_path):
    site_packages = tmp_path / "site-packages"
    other = "[console_scripts]\nfoo = foo:main\n"
    _write(
        site_packages,
        {
            "openedx_platform-0.13.dist-info/entry_points.txt": ENTRY_POINTS_TXT,
            "foo-1.0.dist-info/entry_points.txt": other,
        },
    )

    report = takeover.apply(platform, metadata_dirs=[site_packages])

    edited = site_packages / "openedx_platform-0.13.dist-info" / "entry_points.txt"
    assert edited.read_text() == _without_line(ENTRY_POINTS_TXT, ENTRY_POINT + "\n")
    assert (site_packages / "foo-1.0.dist-info" / "entry_points.txt").read_text() == other
    assert str(edited) in [change.path for change in report.changes]


@pytest.mark.skipif(
    not list(STAND_IN_PLATFORM.glob("*.dist-info/entry_points.txt")),
    reason="the harness's stand-in platform tree (tests/openedx_host/platform) has no dist-info yet",
)
def test_stand_in_platform_loses_the_builtin_entry_point(tmp_path):
    copy = tmp_path / "platform"
    shutil.copytree(STAND_IN_PLATFORM, copy, ignore=shutil.ignore_patterns("__pycache__"))

    def djangoapp_entry_points():
        return {
            (entry_point.group, entry_point.name, entry_point.value)
            for distribution in importlib.metadata.distributions(path=[str(copy)])
            for entry_point in distribution.entry_points
            if entry_point.group in ("lms.djangoapp", "cms.djangoapp")
        }

    builtin = ("lms.djangoapp", "program_enrollments", takeover.BUILTIN_APP_CONFIG)
    before = djangoapp_entry_points()
    assert builtin in before

    takeover.apply(copy)

    assert djangoapp_entry_points() == before - {builtin}
    shim = _snapshot(copy / "lms" / "djangoapps" / "program_enrollments")
    assert "migrations/0001_initial.py" not in shim
    assert shim["apps.py"] == (SHIM_DIR / "apps.py").read_bytes()
