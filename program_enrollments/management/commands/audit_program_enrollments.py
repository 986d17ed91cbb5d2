"""Audit the integrity of program enrollments and, with --fix, repair what can be repaired."""

from django.core.management.base import BaseCommand, CommandError

from program_enrollments import api
from program_enrollments.api.audit import AuditFinding
from program_enrollments.exceptions import ProgramEnrollmentsError


class Command(BaseCommand):
    help = (
        "Look for broken invariants of program enrollments (two active enrollments of one learner in one "
        "course run, identities older than the catalog, identity drift, missing or unbacked course enrollments, "
        "learners waiting too long). "
        "Fails while problems remain unrepaired."
    )

    def add_arguments(self, parser):
        parser.add_argument("--fix", action="store_true", help="repair the problems that can be repaired")
        parser.add_argument(
            "--waiting-older-than",
            type=int,
            metavar="DAYS",
            dest="waiting_older_than",
            help="also list waiting enrollments (no user yet) created more than DAYS days ago (informational)",
        )

    def handle(self, *args, fix=False, waiting_older_than=None, **options):
        if waiting_older_than is not None and waiting_older_than < 0:
            raise CommandError(f"--waiting-older-than must be zero or more days, not {waiting_older_than}")
        try:
            report = api.audit_program_enrollments(waiting_older_than_days=waiting_older_than, fix=fix)
        except ProgramEnrollmentsError as error:
            raise CommandError(str(error)) from error
        for finding in report.findings:
            self.stdout.write(self.describe(finding))
        for kind, (found, repaired) in report.summary().items():
            self.stdout.write(f"{kind}: {found} found, {repaired} repaired")
        unresolved = len(report.unresolved)
        if unresolved:
            hint = "" if fix else " (run with --fix to repair what can be repaired)"
            raise CommandError(f"{unresolved} problems remain unrepaired{hint}")
        self.stdout.write("No problems remain.")

    @staticmethod
    def describe(finding: AuditFinding) -> str:
        """One line naming the finding's kind, rows, learner and course run, then what is wrong."""
        parts = [finding.kind]
        if finding.program_course_enrollment_ids:
            parts.append("program_course_enrollment=" + ",".join(map(str, finding.program_course_enrollment_ids)))
        if finding.program_enrollment_ids:
            parts.append("program_enrollment=" + ",".join(map(str, finding.program_enrollment_ids)))
        if finding.course_enrollment_id is not None:
            parts.append(f"course_enrollment={finding.course_enrollment_id}")
        if finding.student_key is not None:
            parts.append(f"student_key={finding.student_key}")
        if finding.user_id is not None:
            parts.append(f"user={finding.user_id}")
        if finding.course_key is not None:
            parts.append(f"course={finding.course_key}")
        status = "repaired" if finding.repaired else "informational" if not finding.unresolved else "not repaired"
        # Student keys come from partners: whatever they hold, a finding stays on one line.
        return " ".join(f"{' '.join(parts)}: {finding.detail} [{status}]".splitlines())
