"""Link waiting program enrollments to LMS users by username (the Open edX command's arguments)."""

from uuid import UUID

from django.core.management.base import BaseCommand, CommandError

from program_enrollments import api
from program_enrollments.exceptions import ProgramEnrollmentsError
from program_enrollments.identity import normalize_student_key

INCORRECT_PARAMETER_TEMPLATE = "incorrectly formatted argument '{}', must be in form <external user key>:<lms username>"
DUPLICATE_KEY_TEMPLATE = "external user key {} provided multiple times"
DUPLICATE_KEY_IN_OTHER_CASE_TEMPLATE = (
    "external user key {} provided multiple times (as {}: student keys are compared ignoring case)"
)
NO_LEARNERS = "no learners given: name at least one as <external user key>:<lms username>"


class Command(BaseCommand):
    help = (
        "Link program enrollments without an LMS user to LMS users. "
        "Usage: link_program_enrollments [--relink] <program_uuid> <external_user_key>:<lms_username> ..."
    )

    def add_arguments(self, parser):
        parser.add_argument("program_uuid", help="the program in which we are linking enrollments to users")
        parser.add_argument(
            "user_items",
            nargs="*",
            help="specify the users to link, in the format <external_student_key>:<lms_username>*",
        )
        parser.add_argument(
            "--relink",
            action="store_true",
            help="move an enrollment already linked to a different account to the account given: the "
            "previous account gives back the course access the program gave it (without this flag such an "
            "enrollment is refused)",
        )

    def handle(self, program_uuid, user_items, relink=False, **options):
        try:
            parsed_uuid = UUID(program_uuid)
        except ValueError as error:
            raise CommandError(f"supplied program_uuid '{program_uuid}' is not a valid UUID") from error
        usernames = self.parse_user_items(user_items)
        if not usernames:
            raise CommandError(NO_LEARNERS)
        try:
            outcomes = api.link_program_enrollments(
                program_uuid=parsed_uuid, usernames_by_student_key=usernames, relink=relink
            )
        except ProgramEnrollmentsError as error:
            raise CommandError(str(error)) from error
        failed = 0
        for outcome in outcomes.values():
            if outcome.error:
                failed += 1
                self.stderr.write(outcome.error)
            else:
                message = f"Linked {outcome.student_key} to {outcome.username}"
                if outcome.previous_username:
                    message = f"Relinked {outcome.student_key} from {outcome.previous_username} to {outcome.username}"
                if outcome.deactivated_courses:
                    message += "; made inactive (already active through another program): " + ", ".join(
                        outcome.deactivated_courses
                    )
                self.stdout.write(message)
        self.stdout.write(f"{len(outcomes) - failed} linked, {failed} not linked")
        if failed:
            raise CommandError(f"{failed} of {len(outcomes)} enrollments could not be linked")

    @staticmethod
    def parse_user_items(user_items):
        """Return {external_user_key: username}; raise CommandError on a malformed or repeated item.

        Keys are compared as the app compares student keys (``normalize_student_key``: case,
        Unicode form and width ignored), so ``ab-1`` and ``AB-1`` are the same learner twice.
        """
        result = {}
        seen = {}
        for user_item in user_items:
            parts = user_item.split(":")
            if len(parts) != 2 or not (parts[0].strip() and parts[1].strip()):
                raise CommandError(INCORRECT_PARAMETER_TEMPLATE.format(user_item))
            external_user_key, username = parts[0].strip(), parts[1].strip()
            earlier = seen.get(normalize_student_key(external_user_key))
            if earlier == external_user_key:
                raise CommandError(DUPLICATE_KEY_TEMPLATE.format(external_user_key))
            if earlier is not None:
                raise CommandError(DUPLICATE_KEY_IN_OTHER_CASE_TEMPLATE.format(earlier, external_user_key))
            seen[normalize_student_key(external_user_key)] = external_user_key
            result[external_user_key] = username
        return result
