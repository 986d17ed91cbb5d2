"""Sphinx configuration of the program-enrollments documentation."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _version() -> str:
    # Read, not imported: importing the package would need Django settings.
    text = (ROOT / "program_enrollments" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"', text, re.M)
    if match is None:
        raise RuntimeError("__version__ not found in program_enrollments/__init__.py")
    return match.group(1)


project = "program-enrollments"
author = "The program-enrollments authors"
copyright = "the program-enrollments authors"
release = _version()
version = ".".join(release.split(".")[:2])

extensions = []
root_doc = "index"
exclude_patterns = ["_build"]
templates_path = []
pygments_style = "sphinx"

html_theme = "alabaster"
html_title = f"program-enrollments {release}"
html_static_path = []
html_theme_options = {
    "description": "Degree programs, their course runs, and one active program per course run.",
    "fixed_sidebar": False,
}
