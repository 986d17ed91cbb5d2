"""The host boundary in the import graph: arrows run from the hosts to the core, never back."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "program_enrollments"
HOSTS = ("standalone", "openedx")


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _part(path: Path) -> str:
    relative = path.relative_to(PACKAGE).parts
    return relative[0] if relative[0] in HOSTS else "core"


def test_the_core_imports_no_host_and_no_host_imports_the_other():
    offences = []
    for path in sorted(PACKAGE.rglob("*.py")):
        part = _part(path)
        for name in _imports(path):
            for host in HOSTS:
                if host != part and (
                    name == f"program_enrollments.{host}" or name.startswith(f"program_enrollments.{host}.")
                ):
                    offences.append(f"{path.relative_to(PACKAGE.parent)} ({part}) imports {name}")
    assert offences == []


def test_the_scan_sees_the_hosts_importing_the_core():
    """A guard on the test itself: host modules do import the core, and the scan finds it."""
    standalone = _imports(PACKAGE / "standalone" / "backends.py")
    openedx = _imports(PACKAGE / "openedx" / "backends.py")
    assert any(name.startswith("program_enrollments.backends") for name in standalone)
    assert any(name.startswith("program_enrollments.backends") for name in openedx)
