#!/usr/bin/env python
"""Run the standalone host's management commands."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "program_enrollments.standalone.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
