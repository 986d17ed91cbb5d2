"""Packaging for program-enrollments."""

import os
import re

from setuptools import find_namespace_packages, setup

HERE = os.path.dirname(os.path.abspath(__file__))


def load_requirements(path):
    """Return the requirement lines of a pip-tools ``.in`` file (no options, no comments)."""
    requirements = []
    with open(os.path.join(HERE, path), encoding="utf-8") as handle:
        for line in handle:
            line = re.sub(r"#.*", "", line).strip()
            if line and not line.startswith("-"):
                requirements.append(line)
    return requirements


def read(path):
    with open(os.path.join(HERE, path), encoding="utf-8") as handle:
        return handle.read()


def version():
    match = re.search(r'^__version__ = "([^"]+)"', read("program_enrollments/__init__.py"), re.M)
    return match.group(1)


setup(
    name="program-enrollments",
    version=version(),
    description="Bulk enrollment of learners into degree programs and their courses, "
    "with at most one active program per course run.",
    long_description=read("README.rst"),
    long_description_content_type="text/x-rst",
    license="AGPL-3.0",
    # Namespace discovery: the directories holding only data (templates, fixtures) are packages
    # too, so that their files ship (MANIFEST.in names them) without setuptools' warnings.
    packages=find_namespace_packages(
        include=["program_enrollments", "program_enrollments.*"], exclude=["*.__pycache__"]
    ),
    include_package_data=True,
    python_requires=">=3.11",
    install_requires=load_requirements("requirements/base.in"),
    extras_require={
        # What the standalone host needs beyond the app (requirements/host.in).
        "standalone": ["dj-database-url", "psycopg[binary]", "django-oauth-toolkit", "django-ratelimit"],
    },
    entry_points={
        # A name of its own: Open edX's built-in app is the entry point "program_enrollments",
        # which the takeover removes (docs/decisions/0005-open-edx-takeover.rst).
        "lms.djangoapp": [
            "program_enrollments_plugin = program_enrollments.apps:ProgramEnrollmentsConfig",
        ],
        "cms.djangoapp": [
            "program_enrollments_plugin = program_enrollments.apps:ProgramEnrollmentsConfig",
        ],
        "tutor.plugin.v1": [
            "program_enrollments = program_enrollments.openedx.tutor",
        ],
    },
    classifiers=[
        "Framework :: Django",
        "Framework :: Django :: 5.2",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
        "Programming Language :: Python :: 3.14",
    ],
    zip_safe=False,
)
