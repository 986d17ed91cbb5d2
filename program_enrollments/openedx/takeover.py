"""Take over the Open edX platform's built-in ``program_enrollments`` app (ADR 0005, decision 3).

An Open edX platform ships its own ``lms/djangoapps/program_enrollments`` app with the app label,
table names and entry-point name that this package takes over. A pip-installed plugin cannot
unregister it, so this module edits the platform *source tree* before the platform is installed:

1. ``lms/djangoapps/program_enrollments/`` is deleted entirely (models, migrations, signals,
   tasks, REST API, management commands) and replaced by the thin compatibility package kept in
   ``program_enrollments/openedx/shim/`` (its AppConfig declares no ``plugin_app``, and its
   modules only re-export ``program_enrollments.openedx.compat``), plus a ``TAKEOVER.txt`` marker.
2. The built-in entry point
   ``program_enrollments = lms.djangoapps.program_enrollments.apps:ProgramEnrollmentsConfig``
   (group ``lms.djangoapp``) is removed, line by line, from ``pyproject.toml`` (newer platforms,
   ``[project.entry-points."lms.djangoapp"]``), ``setup.py`` (older releases, the
   ``entry_points`` dict) and any ``*.egg-info``/``*.dist-info`` ``entry_points.txt`` directly under
   the platform root or under a ``--metadata-dir`` (an existing install's site-packages). Every
   other byte of those files is left as it was. If the built-in AppConfig path is still found in
   any of them afterwards (a format this module does not know how to edit), nothing is written
   and the run fails.

Usage::

    python -m program_enrollments.openedx.takeover PLATFORM_ROOT [--check] [--metadata-dir DIR]

Exit status: 0 when the tree is (now) taken over; with ``--check``, 0 when nothing is left to do
and 1 when changes are needed (nothing is written); 2 on an error (nothing is written).

The CMS lists the built-in app directly in ``INSTALLED_APPS``; that is removed at run time by a
settings patch (the Tutor plugin renders it), not here.

This module uses the standard library only and runs as a plain script on Python 3.8 or newer:
the Tutor plugin ships it, with the shim files next to it in ``shim/``, into the image build
stage that edits the platform before this package is installed.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import re
import shutil
import sys
from pathlib import Path

BUILTIN_PACKAGE = "lms.djangoapps.program_enrollments"
BUILTIN_DIR = ("lms", "djangoapps", "program_enrollments")
BUILTIN_APP_CONFIG = BUILTIN_PACKAGE + ".apps:ProgramEnrollmentsConfig"
# The entry-point groups edx-django-utils reads Django app plugins from.
DJANGOAPP_GROUPS = ("lms.djangoapp", "cms.djangoapp")
MARKER_NAME = "TAKEOVER.txt"
DISTRIBUTION = "program-enrollments"

_VALUE = re.escape(BUILTIN_APP_CONFIG)
_EOL = r"[ \t]*(?:#.*)?\r?\n?\Z"
# setup.py: one string literal per line in an entry_points list, e.g.
#     "program_enrollments = lms.djangoapps.program_enrollments.apps:ProgramEnrollmentsConfig",
_SETUP_PY_ENTRY = re.compile(r"[ \t]*(?P<q>[\"'])[\w.-]+[ \t]*=[ \t]*" + _VALUE + r"(?P=q)[ \t]*,?" + _EOL)
# pyproject.toml: a key/value line in a [project.entry-points."<group>"] table, e.g.
#     program_enrollments = "lms.djangoapps.program_enrollments.apps:ProgramEnrollmentsConfig"
_TOML_TABLE = re.compile(r"[ \t]*\[(?P<name>[^\[\]]+)\]" + _EOL)
_TOML_ARRAY_TABLE = re.compile(r"[ \t]*\[\[")
_TOML_ENTRY_POINTS_TABLE = re.compile(
    r"[ \t]*project[ \t]*\.[ \t]*entry-points[ \t]*\.[ \t]*"
    r"(?:\"(?P<dq>[^\"]+)\"|'(?P<sq>[^']+)'|(?P<bare>[\w-]+))[ \t]*\Z"
)
_TOML_ENTRY = re.compile(r"[ \t]*(?:\"[^\"]*\"|'[^']*'|[\w-]+)[ \t]*=[ \t]*(?P<q>[\"'])" + _VALUE + r"(?P=q)" + _EOL)
# entry_points.txt (INI): "[lms.djangoapp]" then "program_enrollments = lms...:ProgramEnrollmentsConfig".
_INI_SECTION = re.compile(r"[ \t]*\[(?P<name>[^\]]+)\][ \t]*\r?\n?\Z")
_INI_ENTRY = re.compile(r"[ \t]*[\w.-]+[ \t]*=[ \t]*" + _VALUE + r"[ \t]*(?:\[[^\]]*\])?[ \t]*\r?\n?\Z")
_PAST_TENSE = {"create": "created", "edit": "edited", "replace": "replaced"}


class TakeoverError(Exception):
    """The platform tree cannot be taken over safely; nothing was written."""


@dataclasses.dataclass
class Change:
    """One file or directory the takeover changed (or, with ``--check``, would change)."""

    path: str
    action: str
    detail: str


@dataclasses.dataclass
class Report:
    """What a takeover run did (``check=True``: what it would do) to one platform tree."""

    platform_root: str
    package_version: str
    check: bool
    changes: list = dataclasses.field(default_factory=list)
    unchanged: list = dataclasses.field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    def render(self) -> str:
        version = "(version unknown)" if self.package_version == "unknown" else self.package_version
        lines = [f"{DISTRIBUTION} {version} takeover of {self.platform_root}"]
        for change in self.changes:
            action = f"would {change.action}" if self.check else _PAST_TENSE[change.action]
            lines.append(f"  {action} {change.path}: {change.detail}")
        for path in self.unchanged:
            lines.append(f"  unchanged {path}")
        if not self.changes:
            lines.append("Nothing to do: the built-in program_enrollments app is already taken over.")
        elif self.check:
            lines.append(f"{len(self.changes)} change(s) needed; run without --check to apply them.")
        else:
            lines.append(f"{len(self.changes)} change(s) applied.")
        return "\n".join(lines)

    __str__ = render


def default_shim_dir() -> Path:
    """The compatibility package's source files, shipped next to this module."""
    return Path(__file__).resolve().parent / "shim"


def default_package_version() -> str:
    try:
        from program_enrollments import __version__
    except ImportError:  # run as a plain script inside an image build: the package is not installed yet
        return "unknown"
    return __version__


def apply(platform_root, *, check=False, shim_dir=None, package_version=None, metadata_dirs=()) -> Report:
    """Take over the built-in app in the platform source tree at ``platform_root``.

    Idempotent: a second run changes nothing. Every edit is planned and validated before the
    first byte is written, so a failure leaves the tree as it was.

    Args:
        platform_root: the platform checkout (the directory holding ``lms/`` and ``setup.py``
            or ``pyproject.toml``).
        check: only report what would change.
        shim_dir: the compatibility package's sources (default: ``shim/`` next to this module).
        package_version: written into the marker file (default: this package's version).
        metadata_dirs: extra directories whose ``*.egg-info``/``*.dist-info`` entry points are
            edited too, e.g. the site-packages of an environment the platform is already
            installed in.

    Raises:
        TakeoverError: the tree is not a platform tree, the shim sources are missing, or the
            built-in entry point is declared in a form this module cannot edit.
    """
    root = Path(platform_root).resolve()
    if not (root / "lms" / "djangoapps").is_dir():
        raise TakeoverError(f"{root} does not look like an Open edX platform source tree (no lms/djangoapps/).")
    version = package_version or default_package_version()
    shim_files = _read_shim(Path(shim_dir) if shim_dir else default_shim_dir(), version)

    report = Report(platform_root=str(root), package_version=version, check=check)
    writes = []  # (path, new text) for files, planned before anything is written
    for path, editor in _metadata_files(root, metadata_dirs):
        relative = _relative(path, root)
        original = _read_text(path)
        edited, removed = editor(original)
        leftovers = _leftovers(edited, path.name)
        if leftovers:
            raise TakeoverError(
                f"{relative} declares the built-in app {BUILTIN_APP_CONFIG} in a form this takeover cannot edit "
                f"(line {', '.join(str(number) for number, _ in leftovers)}: {leftovers[0][1].strip()!r}). "
                "Remove that entry point by hand, then run the takeover again."
            )
        if path.name == "setup.py" and edited != original:
            _check_python(edited, relative)
        if removed:
            detail = "; ".join(f"removed line {number}: {text.strip()}" for number, text in removed)
            report.changes.append(Change(relative, "edit", detail))
            writes.append((path, edited))
        else:
            report.unchanged.append(relative)

    target = root.joinpath(*BUILTIN_DIR)
    replace_dir = _plan_shim(target, shim_files, report, _relative(target, root) + "/")

    if not check:
        for path, text in writes:
            with open(path, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
        if replace_dir:
            _write_shim(target, shim_files)
    return report


def _read_shim(shim_dir: Path, version: str) -> dict:
    """Return ``{relative posix path: bytes}`` of the compatibility package, marker included."""
    if not (shim_dir / "apps.py").is_file():
        raise TakeoverError(f"The compatibility package sources are missing: no {shim_dir / 'apps.py'}.")
    files = {}
    for path in sorted(shim_dir.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            files[path.relative_to(shim_dir).as_posix()] = path.read_bytes()
    files[MARKER_NAME] = _marker(version).encode("utf-8")
    return files


def _marker(version: str) -> str:
    return (
        f"This is not the Open edX built-in program_enrollments app.\n"
        f"\n"
        f"{DISTRIBUTION} {version} replaced it with this compatibility package\n"
        f"(python -m program_enrollments.openedx.takeover). The built-in app's models, migrations,\n"
        f"signals, tasks, REST API and management commands were removed: the program_enrollments app\n"
        f"of the {DISTRIBUTION} package owns the program_enrollments_* tables, and the modules here\n"
        f"re-export its compatibility API (program_enrollments.openedx.compat) under the built-in\n"
        f"names for the rest of the platform. The AppConfig in apps.py declares no plugin_app, so\n"
        f"edx-django-utils never installs or mounts this package as a plugin.\n"
        f"\n"
        f"The built-in entry point\n"
        f"    program_enrollments = {BUILTIN_APP_CONFIG}\n"
        f"(group lms.djangoapp) was removed from the platform's packaging metadata at the same time.\n"
        f"\n"
        f"To undo, restore both from the platform's git history:\n"
        f"    git checkout -- lms/djangoapps/program_enrollments setup.py pyproject.toml\n"
        f"    git clean -f lms/djangoapps/program_enrollments\n"
        f"then reinstall the platform (pip install -e .).\n"
    )


def _metadata_files(root: Path, metadata_dirs) -> list:
    """The packaging files that can declare the built-in entry point, with their editor."""
    files, seen = [], set()
    for name, editor in (("pyproject.toml", _edit_pyproject), ("setup.py", _edit_setup_py), ("setup.cfg", _no_edit)):
        if (root / name).is_file():
            files.append((root / name, editor))
    for directory in [root, *(Path(d).resolve() for d in metadata_dirs)]:
        for pattern in ("*.egg-info/entry_points.txt", "*.dist-info/entry_points.txt"):
            for path in sorted(directory.glob(pattern)):
                # Another distribution's metadata in a site-packages directory is none of our business.
                if path not in seen and (directory == root or BUILTIN_APP_CONFIG in _read_text(path)):
                    seen.add(path)
                    files.append((path, _edit_entry_points_txt))
    return files


def _edit_pyproject(text: str):
    """Drop the built-in's lines from ``[project.entry-points."<djangoapp group>"]`` tables."""
    kept, removed = [], []
    group = None
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        table = _TOML_TABLE.match(line)
        if _TOML_ARRAY_TABLE.match(line):
            group = None
        elif table:
            entry_points = _TOML_ENTRY_POINTS_TABLE.match(table.group("name"))
            group = entry_points and next(name for name in entry_points.group("dq", "sq", "bare") if name)
        elif group in DJANGOAPP_GROUPS and _TOML_ENTRY.match(line):
            removed.append((number, line))
            continue
        kept.append(line)
    return "".join(kept), removed


def _edit_setup_py(text: str):
    """Drop the built-in's entry-point string literals (one per line) from ``setup.py``."""
    kept, removed = [], []
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        if _SETUP_PY_ENTRY.match(line):
            removed.append((number, line))
        else:
            kept.append(line)
    return "".join(kept), removed


def _edit_entry_points_txt(text: str):
    """Drop the built-in's lines from the ``[lms.djangoapp]``/``[cms.djangoapp]`` sections."""
    kept, removed = [], []
    section = None
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        header = _INI_SECTION.match(line)
        if header:
            section = header.group("name").strip()
        elif section in DJANGOAPP_GROUPS and _INI_ENTRY.match(line):
            removed.append((number, line))
            continue
        kept.append(line)
    return "".join(kept), removed


def _no_edit(text: str):
    """``setup.cfg`` is only searched: no platform release declares its entry points there."""
    return text, []


def _leftovers(text: str, filename: str) -> list:
    """Non-comment lines still naming the built-in AppConfig, as ``(line number, line)``."""
    comment = ("#", ";") if filename.endswith((".txt", ".cfg")) else ("#",)
    return [
        (number, line)
        for number, line in enumerate(text.splitlines(), start=1)
        if BUILTIN_APP_CONFIG in line and not line.lstrip().startswith(comment)
    ]


def _check_python(text: str, relative: str) -> None:
    try:
        ast.parse(text)
    except SyntaxError as error:
        raise TakeoverError(
            f"Removing the built-in entry point would leave {relative} invalid Python ({error}); "
            "remove it by hand, then run the takeover again."
        ) from error


def _plan_shim(target: Path, shim_files: dict, report: Report, relative: str) -> bool:
    """Record whether ``target`` must be (re)written with the shim; return True if so."""
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise TakeoverError(f"{relative} is not a plain directory; refusing to replace it.")
    if not target.exists():
        report.changes.append(Change(relative, "create", "no built-in app found; compatibility package written"))
        return True
    current = _read_tree(target)
    if current == shim_files:
        report.unchanged.append(relative)
        return False
    marker = current.get(MARKER_NAME, b"").decode("utf-8", "replace")
    previous = re.search(rf"^{re.escape(DISTRIBUTION)} (\S+) replaced it", marker, re.M)
    if previous:
        replaced = f"the compatibility package of {DISTRIBUTION} {previous.group(1)}"
    else:
        kinds = [
            name
            for name, present in (
                ("models", "models.py" in current),
                ("migrations", any(p.startswith("migrations/") for p in current)),
                ("signals", "signals.py" in current),
                ("management commands", any(p.startswith("management/") for p in current)),
            )
            if present
        ]
        replaced = f"the built-in app ({len(current)} files" + (f": {', '.join(kinds)}" if kinds else "") + ")"
    report.changes.append(
        Change(relative, "replace", f"{replaced} -> compatibility package ({len(shim_files)} files, {MARKER_NAME})")
    )
    return True


def _read_tree(directory: Path) -> dict:
    files = {}
    for path in sorted(directory.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            files[path.relative_to(directory).as_posix()] = path.read_bytes()
    return files


def _write_shim(target: Path, shim_files: dict) -> None:
    if target.exists():
        shutil.rmtree(target)
    for name, content in shim_files.items():
        path = target.joinpath(*name.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def _read_text(path: Path) -> str:
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            return handle.read()
    except UnicodeDecodeError as error:
        raise TakeoverError(f"{path} is not UTF-8 text ({error}).") from error


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m program_enrollments.openedx.takeover",
        description="Replace the Open edX platform's built-in program_enrollments app by the compatibility "
        "package of program-enrollments and remove its lms.djangoapp entry point (ADR 0005).",
    )
    parser.add_argument("platform_root", help="the platform source tree (e.g. /openedx/edx-platform)")
    parser.add_argument("--check", action="store_true", help="only report; exit 1 if changes are needed")
    parser.add_argument(
        "--metadata-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="also edit the *.egg-info/*.dist-info entry points under DIR (e.g. an existing install's site-packages)",
    )
    parser.add_argument("--shim-dir", help=argparse.SUPPRESS)
    parser.add_argument("--package-version", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        report = apply(
            args.platform_root,
            check=args.check,
            shim_dir=args.shim_dir,
            package_version=args.package_version,
            metadata_dirs=args.metadata_dir,
        )
    except TakeoverError as error:
        print(f"{DISTRIBUTION} takeover failed, nothing was changed: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"{DISTRIBUTION} takeover failed: {error}", file=sys.stderr)
        return 2
    print(report.render())
    return 1 if args.check and report.changed else 0


if __name__ == "__main__":
    sys.exit(main())
