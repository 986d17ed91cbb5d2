"""Wipe the program enrollments of the given programs (integration sandboxes of test partners).

The arguments of Open edX's built-in command: a comma-separated list of program
UUIDs and ``--force``. It refuses to run without ``--force`` and says what it
would delete. Only the given programs are touched; history is kept.
"""

from django.core.management.base import BaseCommand, CommandError

from program_enrollments import api
from program_enrollments.exceptions import ProgramEnrollmentsError


class Command(BaseCommand):
    help = (
        "Delete every program enrollment of the given programs, with their program course enrollments and "
        "pending course roles, and take back the course access they gave (for test partners' sandboxes). "
        "Usage: reset_enrollment_data <program_uuid>[,<program_uuid>...] --force"
    )

    def add_arguments(self, parser):
        parser.add_argument("programs", help="comma-separated list of programs to delete enrollments for")
        parser.add_argument("--force", action="store_true", help="really delete (without it, nothing is deleted)")

    def handle(self, *args, programs, force, **options):
        uuids = [value.strip() for value in programs.split(",") if value.strip()]
        try:
            if not force:
                counts = api.count_program_enrollment_data(program_uuids=uuids)
                raise CommandError(
                    f"Refusing to delete without --force. It would delete {counts.program_enrollments} program "
                    f"enrollments, {counts.program_course_enrollments} program course enrollments and "
                    f"{counts.course_access_role_assignments} pending course roles of programs {', '.join(uuids)}, "
                    f"and take back the course access of {counts.course_accesses_taken_back} active course "
                    "enrollments. Nothing was deleted."
                )
            counts = api.reset_program_enrollment_data(program_uuids=uuids)
        except ProgramEnrollmentsError as error:
            raise CommandError(f"{error} Nothing was deleted.") from error
        self.stdout.write(
            f"Deleted {counts.program_enrollments} program enrollments, {counts.program_course_enrollments} "
            f"program course enrollments and {counts.course_access_role_assignments} pending course roles; "
            f"took back the course access of {counts.course_accesses_taken_back} course enrollments. "
            "Their history is kept."
        )
