"""Run one management command as ``manage.py`` would, and record its time and memory.

The transfer scenario starts this module in a new process, with ``DATABASE_URL``
naming the benchmark's database, as an operator starts ``manage.py``:

    python -m benchmarks.command RESULT.json transfer_program_enrollments --from-program ...

It writes to RESULT.json the command's wall time, its exit status, and the peak
resident memory of the process before and after the command (VmHWM on Linux,
``ru_maxrss`` elsewhere). The "before" peak is read once Django is set up, the
database connected, the command's module imported and the system checks run
(``manage.py`` runs them before any command, and they import the URLs, the
admin and the REST views), so that the growth is the command's own. A process's peak only ever rises, which is why each
measured command gets a process of its own.
"""

import json
import os
import resource
import sys
import time


def main(argv: list[str]) -> None:
    result_path, command = argv[0], argv[1:]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "program_enrollments.standalone.settings")
    import django

    django.setup()
    from django.core.checks import run_checks
    from django.core.management import execute_from_command_line, get_commands, load_command_class
    from django.db import connection

    connection.ensure_connection()
    load_command_class(get_commands()[command[0]], command[0])
    # What every command holds before its own work: the system checks (and what they import).
    run_checks()
    before = max_rss_mb()
    started = time.perf_counter()
    status = 0
    try:
        execute_from_command_line(["manage.py", *command])
    except SystemExit as exit_:
        status = exit_.code if isinstance(exit_.code, int) else 1
    seconds = time.perf_counter() - started
    result = {"seconds": seconds, "status": status, "rss_before_mb": before, "rss_after_mb": max_rss_mb()}
    with open(result_path, "w", encoding="utf-8") as handle:
        json.dump(result, handle)


def max_rss_mb() -> float:
    """The peak resident memory of this process, in MB."""
    # On Linux a new process's ru_maxrss starts from its parent's peak (carried across exec);
    # VmHWM is the peak of this process's own address space.
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 2**10
    except OSError:
        pass
    # ru_maxrss is in kilobytes on Linux, bytes on macOS.
    scale = 2**20 if sys.platform == "darwin" else 2**10
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


if __name__ == "__main__":
    sys.path.insert(0, os.getcwd())
    main(sys.argv[1:])
