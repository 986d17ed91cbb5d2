"""Delete waiting program enrollments (no LMS user yet) unmodified for a number of days; history is kept.

The arguments of Open edX's built-in command. Unlike it, the deleted enrollments'
history stays, with a history row recording each deletion.
"""

from django.core.management.base import BaseCommand, CommandError

from program_enrollments import api
from program_enrollments.api.housekeeping import DEFAULT_EXPIRATION_DAYS
from program_enrollments.exceptions import ProgramEnrollmentsError


class Command(BaseCommand):
    help = (
        "Remove expired enrollments that have not been linked to a user: program enrollments without a user, "
        f"unmodified for --expiration_days days (default {DEFAULT_EXPIRATION_DAYS}), with their program course "
        "enrollments. Their history is kept."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--expiration_days",
            "--expiration-days",
            dest="expiration_days",
            type=int,
            default=DEFAULT_EXPIRATION_DAYS,
            help="number of days without a change after which a waiting enrollment is considered expired",
        )

    def handle(self, *args, expiration_days, **options):
        if expiration_days < 0:
            raise CommandError(f"--expiration_days must be 0 or more, not {expiration_days}; nothing was deleted.")
        try:
            counts = api.expire_waiting_program_enrollments(expiration_days=expiration_days)
        except ProgramEnrollmentsError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Deleted {counts.program_enrollments} waiting program enrollments unmodified for {expiration_days} "
            f"days, with {counts.program_course_enrollments} program course enrollments and "
            f"{counts.course_access_role_assignments} pending course roles; their history is kept."
        )
