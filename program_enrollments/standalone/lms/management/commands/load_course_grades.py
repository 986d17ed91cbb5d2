"""Load learners' course grades from a CSV file into the standalone host."""

import csv
import io
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey

from program_enrollments.standalone.lms.models import CourseGrade

REQUIRED = ("username", "course_id", "percent")
TRUE, FALSE = {"true", "yes", "1"}, {"false", "no", "0", ""}
MAX_PROBLEMS_SHOWN = 20


class Command(BaseCommand):
    help = (
        "Load course grades from a CSV file with the columns username, course_id, percent (0 to 1) and, "
        "optionally, letter_grade and passed (true/false; by default, passed when letter_grade is not blank). "
        "Every row is checked first: one bad row and nothing is loaded. A learner's existing grade is replaced."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="CSV file, UTF-8, with a header row")

    def handle(self, path, **options):
        rows = self._read(Path(path))
        users = dict(
            get_user_model()
            .objects.filter(username__in={row["username"] for _, row in rows})
            .values_list("username", "id")
        )
        grades, problems = {}, []
        for line, row in rows:
            problem, grade = self._check(row, users)
            if problem:
                problems.append(f"line {line}: {problem}")
                continue
            key = (grade["user_id"], str(grade["course_id"]))
            if key in grades:
                problems.append(f"line {line}: {row['username']} in {row['course_id']} repeats line {grades[key][0]}")
            grades[key] = (line, grade)
        if problems:
            shown = problems[:MAX_PROBLEMS_SHOWN]
            more = f"\n  ... and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
            raise CommandError(
                f"{path}: {len(problems)} invalid row(s); nothing was loaded:\n  " + "\n  ".join(shown) + more
            )
        with transaction.atomic():
            for _line, grade in grades.values():
                CourseGrade.objects.update_or_create(
                    user_id=grade["user_id"],
                    course_id=grade["course_id"],
                    defaults={key: grade[key] for key in ("percent", "letter_grade", "passed")},
                )
        self.stdout.write(f"Loaded {len(grades)} course grade(s) from {path}.")

    @staticmethod
    def _read(path: Path) -> list[tuple[int, dict]]:
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror or error}") from error
        except UnicodeDecodeError as error:
            raise CommandError(f"{path} is not UTF-8.") from error
        reader = csv.DictReader(io.StringIO(text))
        header = [name.strip().lower() for name in reader.fieldnames or []]
        missing = [name for name in REQUIRED if name not in header]
        if missing:
            raise CommandError(f"{path}: the header row lacks {', '.join(missing)} (columns found: {header}).")
        reader.fieldnames = header
        try:
            rows = [(reader.line_num, {k: (v or "").strip() for k, v in row.items() if k}) for row in reader]
        except csv.Error as error:
            raise CommandError(f"{path}: malformed CSV: {error}") from error
        if not rows:
            raise CommandError(f"{path} lists no grades.")
        return rows

    @staticmethod
    def _check(row: dict, users: dict) -> tuple[str, dict | None]:
        user_id = users.get(row["username"])
        if user_id is None:
            return f"no user named {row['username']!r}", None
        try:
            course_id = CourseKey.from_string(row["course_id"])
        except InvalidKeyError:
            return f"{row['course_id']!r} is not a course key", None
        try:
            percent = float(row["percent"])
        except ValueError:
            return f"percent {row['percent']!r} is not a number", None
        if not 0.0 <= percent <= 1.0:
            return f"percent {percent} is not between 0 and 1", None
        letter_grade = row.get("letter_grade", "")
        passed_text = row.get("passed", "").lower()
        if passed_text not in TRUE | FALSE:
            return f"passed {row.get('passed')!r} is neither true nor false", None
        passed = passed_text in TRUE if passed_text else bool(letter_grade)
        return "", {
            "user_id": user_id,
            "course_id": course_id,
            "percent": percent,
            "letter_grade": letter_grade,
            "passed": passed,
        }
