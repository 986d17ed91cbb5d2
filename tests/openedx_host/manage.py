#!/usr/bin/env python
"""Run the harness LMS or CMS like the platform's ``manage.py``: ``manage.py lms|cms [--settings=...] COMMAND``.

Examples, with the harness venv and from any directory::

    .venv-openedx/bin/python tests/openedx_host/manage.py lms check
    .venv-openedx/bin/python tests/openedx_host/manage.py lms migrate
    .venv-openedx/bin/python tests/openedx_host/manage.py cms showmigrations

The stand-in platform tree (``platform/`` beside this file, or ``OPENEDX_HOST_PLATFORM_ROOT``) goes first
on ``sys.path``, as ``/openedx/edx-platform`` does in a real LMS. The settings module is
``<lms|cms>.envs.test`` unless ``--settings`` or ``DJANGO_SETTINGS_MODULE`` says otherwise. The harness
knob ``OPENEDX_HOST_WITHOUT_PLUGINS`` and ``DATABASE_URL`` are read from the environment.
"""

import os
import sys
from pathlib import Path

SERVICES = ("lms", "cms")


def main(argv):
    if len(argv) < 2 or argv[1] not in SERVICES:
        sys.stderr.write(f"usage: {argv[0]} lms|cms [--settings=MODULE] COMMAND [ARGS...]\n")
        return 2
    service = argv[1]
    arguments = [argv[0]] + argv[2:]
    settings_module = os.environ.get("DJANGO_SETTINGS_MODULE") or f"{service}.envs.test"
    for argument in list(arguments):
        if argument.startswith("--settings="):
            settings_module = argument.split("=", 1)[1]
            arguments.remove(argument)
    if "." not in settings_module:
        settings_module = f"{service}.envs.{settings_module}"

    here = Path(__file__).resolve().parent
    platform_root = os.environ.get("OPENEDX_HOST_PLATFORM_ROOT") or str(here / "platform")
    # This script's directory is no package root of the LMS; the platform tree is.
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != here]
    sys.path.insert(0, platform_root)
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module

    from django.core.management import execute_from_command_line

    execute_from_command_line(arguments)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
