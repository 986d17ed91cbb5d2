"""Load programs from a JSON file in the course-discovery program format (idempotent)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from program_enrollments.standalone.catalog.loading import CatalogFormatError, load_programs, parse_document


class Command(BaseCommand):
    help = (
        "Import programs (uuid, title, authoring organization, curricula, course runs) from FILE.json: "
        "one program object, a list of them, or a paginated response with 'results'. Re-running is safe."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="path of the JSON file")

    def handle(self, file, **options):
        path = Path(file)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror or error}") from error
        try:
            programs = parse_document(text)
        except CatalogFormatError as error:
            raise CommandError(f"{path}: {error}") from error
        summary = load_programs(programs)
        noun = "program" if len(programs) == 1 else "programs"
        self.stdout.write(
            f"Loaded {len(programs)} {noun} from {path}: {summary.programs_created} created, "
            f"{summary.programs_updated} updated, {summary.curricula} curricula, "
            f"{summary.course_runs_created} new course runs."
        )
