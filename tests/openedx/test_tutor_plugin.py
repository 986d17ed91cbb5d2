"""The Tutor plugin (``program_enrollments.openedx.tutor``), rendered by the real ``tutor`` CLI.

Each rendering runs ``tutor plugins enable program_enrollments`` and ``tutor config save`` in a
temporary ``TUTOR_ROOT`` (no Docker, no network), then reads the generated environment: the
openedx Dockerfile and the LMS/CMS settings. The takeover step of the Dockerfile is executed with
``sh`` against a platform tree in ``tmp_path``, and the settings patches are executed against
dummy settings, to prove that what Tutor writes works.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from program_enrollments import __version__

pytest.importorskip("tutor")

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILTIN = "lms.djangoapps.program_enrollments"
BUILTIN_CONFIG = "lms.djangoapps.program_enrollments.apps.ProgramEnrollmentsConfig"
OUR_CONFIG = "program_enrollments.apps.ProgramEnrollmentsConfig"
ENTRY_POINT_LINE = 'program_enrollments = "lms.djangoapps.program_enrollments.apps:ProgramEnrollmentsConfig"\n'
PYPROJECT = (
    '[project]\nname = "openedx-platform"\n\n[project.entry-points."lms.djangoapp"]\n'
    'grades = "lms.djangoapps.grades.apps:GradesConfig"\n' + ENTRY_POINT_LINE + "\n"
    '[project.entry-points."cms.djangoapp"]\ngrades = "lms.djangoapps.grades.apps:GradesConfig"\n'
)


def _tutor(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(
        os.environ,
        TUTOR_ROOT=str(root / "tutor"),
        TUTOR_PLUGINS_ROOT=str(root / "plugins"),
        PYTHONPATH=str(REPO_ROOT),
    )
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from tutor.commands.cli import main; sys.exit(main())", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
        timeout=120,
    )
    assert result.returncode == 0, f"tutor {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def _render(root: Path, *settings: str) -> Path:
    """Enable the plugin and save the config in a fresh Tutor root; return the ``env`` directory."""
    (root / "plugins").mkdir(parents=True)
    if "program_enrollments" not in _tutor(root, "plugins", "list").stdout:
        # The package is not installed with its tutor.plugin.v1 entry point here: load the same
        # module through a plugin file, the other way Tutor discovers plugins.
        (root / "plugins" / "program_enrollments.py").write_text("from program_enrollments.openedx.tutor import *\n")
    _tutor(root, "plugins", "enable", "program_enrollments")
    _tutor(root, "config", "save", *[option for setting in settings for option in ("--set", setting)])
    return root / "tutor" / "env"


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> Path:
    return _render(tmp_path_factory.mktemp("tutor-default"))


@pytest.fixture(scope="module")
def custom_env(tmp_path_factory) -> Path:
    return _render(
        tmp_path_factory.mktemp("tutor-custom"),
        "PROGRAM_ENROLLMENTS_MAX_BATCH_SIZE=500",
        'PROGRAM_ENROLLMENTS_SETTINGS={"PAGE_SIZE": 50, "MAX_PAGE_SIZE": 200}',
        "PROGRAM_ENROLLMENTS_PIP_REQUIREMENT=git+https://example.org/program-enrollments.git@v1#egg=program-enrollments",
    )


def _stages(dockerfile: str) -> dict:
    """``{stage name: its text}`` of a multi-stage Dockerfile."""
    parts = re.split(r"^FROM \S+ AS (\S+)\n", dockerfile, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def _takeover_instruction(dockerfile: str) -> str:
    """The takeover ``RUN`` instruction, its continuation lines joined as Docker's parser joins them."""
    lines = dockerfile.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("RUN --mount=type=bind,from=python,"))
    end = start
    while lines[end].endswith("\\"):
        end += 1
    return "".join(line[:-1] if line.endswith("\\") else line for line in lines[start : end + 1])


def _shell_command(instruction: str, platform_root: Path, pyenv_root: Path) -> str:
    """What ``RUN`` hands to ``/bin/sh -c``, with the image's paths replaced by test paths."""
    command = re.sub(r"^RUN (--mount=\S+ +)*", "", instruction)
    return command.replace("/openedx/edx-platform", str(platform_root)).replace("/opt/pyenv", str(pyenv_root))


def _settings_patch(settings_file: Path) -> str:
    text = settings_file.read_text()
    match = re.search(r"^# program-enrollments: .*?^# end of program-enrollments settings\n", text, re.M | re.S)
    assert match, f"no program-enrollments patch in {settings_file}"
    return match.group(0)


def _platform_tree(root: Path, pyproject: str = PYPROJECT) -> Path:
    app = root / "lms" / "djangoapps" / "program_enrollments"
    (app / "migrations").mkdir(parents=True)
    (app / "migrations" / "0001_initial.py").write_text("from django.db import migrations\n")
    (app / "models.py").write_text("from django.db import models\n\nclass ProgramEnrollment(models.Model):\n    pass\n")
    (root / "pyproject.toml").write_text(pyproject)
    return root


def _system_python() -> str:
    """A Python without this package installed, as in the image's code stage."""
    return (
        "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else getattr(sys, "_base_executable", sys.executable)
    )


def test_config_defaults(env):
    root = env.parent
    result = _tutor(root.parent, "config", "printvalue", "PROGRAM_ENROLLMENTS_PIP_REQUIREMENT")

    assert result.stdout.strip() == f"program-enrollments=={__version__}"
    assert "program_enrollments" in (root / "config.yml").read_text()  # the enabled plugins list


def test_dockerfile_installs_the_package_in_the_python_requirements_stage(env):
    stages = _stages((env / "build" / "openedx" / "Dockerfile").read_text())

    install = (
        "RUN --mount=type=cache,target=/openedx/.cache/pip,sharing=shared \\\n"
        f"    $PIP_COMMAND install 'program-enrollments=={__version__}'\n"
    )
    assert install in stages["python-requirements"]
    assert [name for name, text in stages.items() if "program-enrollments==" in text] == ["python-requirements"]


def test_dockerfile_takes_over_the_platform_in_the_code_stage(env):
    dockerfile = (env / "build" / "openedx" / "Dockerfile").read_text()
    code = _stages(dockerfile)["code"]

    assert "takeover.py" in code
    # After the checkout; the platform is installed later (production stage), from the edited tree.
    assert code.index("ADD --keep-git-dir=true $EDX_PLATFORM_REPOSITORY") < code.index("takeover.py")
    assert [name for name, text in _stages(dockerfile).items() if "takeover.py" in text] == ["code"]
    assert _takeover_instruction(dockerfile).endswith(
        f'"${{pe_python:-python3}}" "$pe_takeover/takeover.py" --package-version {__version__} '
        '/openedx/edx-platform     && rm -rf "$pe_takeover"'
    )


def test_rendered_takeover_step_takes_over_a_platform_tree(env, tmp_path):
    platform = _platform_tree(tmp_path / "edx-platform")
    # The python stage's interpreter, as the bind mount provides it; a wrapper that records its use.
    pyenv_python = tmp_path / "pyenv" / "versions" / "3.12.13" / "bin" / "python3"
    pyenv_python.parent.mkdir(parents=True)
    pyenv_python.write_text(f'#!/bin/sh\ntouch "{tmp_path}/pyenv-used"\nexec {_system_python()} "$@"\n')
    pyenv_python.chmod(0o755)
    command = _shell_command(
        _takeover_instruction((env / "build" / "openedx" / "Dockerfile").read_text()), platform, tmp_path / "pyenv"
    )

    result = subprocess.run(
        ["sh", "-c", command], capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"}
    )

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "pyenv-used").exists()
    assert f"program-enrollments {__version__} takeover of {platform}" in result.stdout
    assert "2 change(s) applied." in result.stdout
    assert (platform / "pyproject.toml").read_text() == PYPROJECT.replace(ENTRY_POINT_LINE, "")
    app = platform / "lms" / "djangoapps" / "program_enrollments"
    assert sorted(path.relative_to(app).as_posix() for path in app.rglob("*") if path.is_file()) == [
        "TAKEOVER.txt",
        "__init__.py",
        "api/__init__.py",
        "apps.py",
        "constants.py",
        "exceptions.py",
        "models.py",
    ]
    assert f"program-enrollments {__version__} replaced it" in (app / "TAKEOVER.txt").read_text()


def test_rendered_takeover_step_falls_back_to_python3_on_the_path(env, tmp_path):
    platform = _platform_tree(tmp_path / "edx-platform")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(_system_python())
    command = _shell_command(
        _takeover_instruction((env / "build" / "openedx" / "Dockerfile").read_text()), platform, tmp_path / "no-pyenv"
    )

    result = subprocess.run(
        ["sh", "-c", command], capture_output=True, text=True, timeout=60, env={"PATH": f"{bin_dir}:/usr/bin:/bin"}
    )

    assert result.returncode == 0, result.stderr
    assert (platform / "lms" / "djangoapps" / "program_enrollments" / "TAKEOVER.txt").exists()


def test_rendered_takeover_step_fails_the_build_on_an_unknown_format(env, tmp_path):
    inline = (
        '[project]\nname = "openedx-platform"\n\n[project.entry-points]\n'
        '"lms.djangoapp" = { program_enrollments = '
        '"lms.djangoapps.program_enrollments.apps:ProgramEnrollmentsConfig" }\n'
    )
    platform = _platform_tree(tmp_path / "edx-platform", pyproject=inline)
    command = _shell_command(
        _takeover_instruction((env / "build" / "openedx" / "Dockerfile").read_text()), platform, tmp_path / "no-pyenv"
    )
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(_system_python())

    result = subprocess.run(
        ["sh", "-c", command], capture_output=True, text=True, timeout=60, env={"PATH": f"{bin_dir}:/usr/bin:/bin"}
    )

    assert result.returncode != 0
    assert "takeover failed, nothing was changed: pyproject.toml declares the built-in app" in result.stderr
    assert (platform / "lms" / "djangoapps" / "program_enrollments" / "models.py").exists()


@pytest.mark.parametrize("settings_file", ["production.py", "development.py"])
def test_cms_settings_remove_the_builtin_app(env, settings_file):
    patch = _settings_patch(env / "apps" / "openedx" / "settings" / "cms" / settings_file)
    installed_apps = ["cms.djangoapps.contentstore", BUILTIN, "openedx.core.djangoapps.plugins", OUR_CONFIG]
    settings = {"INSTALLED_APPS": installed_apps}

    exec(patch, settings)

    assert settings["INSTALLED_APPS"] is installed_apps
    assert installed_apps == ["cms.djangoapps.contentstore", "openedx.core.djangoapps.plugins", OUR_CONFIG]
    assert "PROGRAM_ENROLLMENTS" not in settings  # nothing configured: the package defaults apply


@pytest.mark.parametrize("settings_file", ["production.py", "development.py"])
def test_lms_settings_refuse_a_surviving_builtin_app(env, settings_file):
    from django.core.exceptions import ImproperlyConfigured

    patch = _settings_patch(env / "apps" / "openedx" / "settings" / "lms" / settings_file)

    exec(patch, {"INSTALLED_APPS": ["lms.djangoapps.grades.apps.GradesConfig", OUR_CONFIG]})
    with pytest.raises(
        ImproperlyConfigured, match="built-in lms.djangoapps.program_enrollments app is still installed"
    ):
        exec(patch, {"INSTALLED_APPS": [OUR_CONFIG, BUILTIN_CONFIG]})


def test_operator_settings_are_merged_into_both_services(custom_env):
    for service in ("lms", "cms"):
        patch = _settings_patch(custom_env / "apps" / "openedx" / "settings" / service / "production.py")
        plugin_defaults = {"LMS_BACKEND": "program_enrollments.openedx.backends.OpenEdxLMSBackend", "PAGE_SIZE": 100}
        settings = {"INSTALLED_APPS": [OUR_CONFIG], "PROGRAM_ENROLLMENTS": plugin_defaults}

        exec(patch, settings)

        assert settings["PROGRAM_ENROLLMENTS"] == {
            "LMS_BACKEND": "program_enrollments.openedx.backends.OpenEdxLMSBackend",
            "PAGE_SIZE": 50,
            "MAX_PAGE_SIZE": 200,
            "MAX_BATCH_SIZE": 500,
        }
        assert plugin_defaults["PAGE_SIZE"] == 100  # a copy, as the plugin settings make one


def test_operator_pip_requirement_replaces_the_default(custom_env):
    stages = _stages((custom_env / "build" / "openedx" / "Dockerfile").read_text())

    requirement = "git+https://example.org/program-enrollments.git@v1#egg=program-enrollments"
    assert f"$PIP_COMMAND install '{requirement}'\n" in stages["python-requirements"]
    assert "program-enrollments==" not in stages["python-requirements"]


def test_empty_pip_requirement_installs_nothing(tmp_path):
    env = _render(tmp_path, "PROGRAM_ENROLLMENTS_PIP_REQUIREMENT=")
    stages = _stages((env / "build" / "openedx" / "Dockerfile").read_text())

    assert "PROGRAM_ENROLLMENTS_PIP_REQUIREMENT" not in stages["python-requirements"]
    assert "takeover.py" in stages["code"]  # the takeover does not depend on how the package is installed
