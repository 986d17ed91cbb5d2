"""Load the demo catalog and create demo accounts and enrollments (safe to re-run).

A re-run creates only what is missing: demo enrollments changed since (a transfer, a new
status) are left as they are, and the closing lines say where each demo learner stands.
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from program_enrollments import api
from program_enrollments.standalone.catalog.loading import load_programs, parse_document
from program_enrollments.standalone.lms.models import CourseGrade, SSOIdentity
from program_enrollments.standalone.oauth.models import ApplicationAccess

DEMO_CATALOG = Path(__file__).resolve().parents[3] / "fixtures" / "demo_programs.json"
ORGANIZATION = "GTx"
CYBERSECURITY = "509c2e6c-f4e2-5b32-bc77-5137159b0719"
CYBERSECURITY_CURRICULUM = "8f6bcfd1-48ca-5ba6-ae52-0572a322788d"
DEMO_COURSE = "course-v1:GTx+CS6035+2020_Spring"
ADMIN = ("admin", "admin")
# An API client restricted to GTx's programs, for trying the REST API with client credentials.
DEMO_CLIENT = ("demo-registrar", "demo-registrar-secret")
LEARNER_PASSWORD = "learner"
# username -> student key at GTx; the last learner has no account yet (a waiting learner).
LEARNERS = {"learner1": "GT-1001", "learner2": "GT-1002", "learner3": "GT-1003", None: "GT-2001"}
# Demo grades in DEMO_COURSE: username -> (percent, letter grade, passed); learner3 has none (a zero grade).
GRADES = {"learner1": (0.92, "Pass", True), "learner2": (0.41, "", False)}


class Command(BaseCommand):
    help = "Load the demo catalog (three GTx programs), a demo admin and demo learners with enrollments."

    def add_arguments(self, parser):
        parser.add_argument("--catalog", default=str(DEMO_CATALOG), help="catalog JSON to load")

    def handle(self, catalog, **options):
        summary = load_programs(parse_document(Path(catalog).read_text(encoding="utf-8")))
        self.stdout.write(f"Catalog: {len(summary.program_uuids)} programs loaded from {catalog}")
        User = get_user_model()
        with transaction.atomic():
            admin, created = User.objects.get_or_create(
                username=ADMIN[0], defaults={"email": "admin@example.com", "is_staff": True, "is_superuser": True}
            )
            if created:
                admin.set_password(ADMIN[1])
                admin.save()
            for username, student_key in LEARNERS.items():
                if username is None:
                    continue
                user, created = User.objects.get_or_create(
                    username=username, defaults={"email": f"{username}@example.com"}
                )
                if created:
                    user.set_password(LEARNER_PASSWORD)
                    user.save()
                SSOIdentity.objects.get_or_create(
                    organization_key=ORGANIZATION, student_key=student_key, defaults={"user": user}
                )
            self._demo_client()
        keys = list(LEARNERS.values())
        # Create only: a learner already in the program, or already in the course through it, keeps
        # what support staff or the API made of them since (a "conflict" outcome is that learner).
        api.write_program_enrollments(
            program_uuid=CYBERSECURITY,
            requests=[
                {"student_key": key, "status": "enrolled", "curriculum_uuid": CYBERSECURITY_CURRICULUM} for key in keys
            ],
            create=True,
            update=False,
            actor=admin,
            reason="Demo data",
        )
        api.write_program_course_enrollments(
            program_uuid=CYBERSECURITY,
            course_key=DEMO_COURSE,
            requests=[{"student_key": key, "status": "active"} for key in keys],
            create=True,
            update=False,
            actor=admin,
            reason="Demo data",
        )
        for username, (percent, letter_grade, passed) in GRADES.items():
            CourseGrade.objects.update_or_create(
                user=User.objects.get(username=username),
                course_id=DEMO_COURSE,
                defaults={"percent": percent, "letter_grade": letter_grade, "passed": passed},
            )
        self.stdout.write(
            f"Demo learners {', '.join(k for k in LEARNERS if k)} (password '{LEARNER_PASSWORD}') and waiting "
            f"learner {LEARNERS[None]}, as they stand now:"
        )
        for line in self._standings():
            self.stdout.write(f"  {line}")
        self.stdout.write(f"Admin: username '{ADMIN[0]}', password '{ADMIN[1]}'")
        self.stdout.write(
            f"API client (GTx, read and write): client_id '{DEMO_CLIENT[0]}', client_secret '{DEMO_CLIENT[1]}'"
        )

    @staticmethod
    def _standings() -> list[str]:
        """One line per demo learner: their status in the demo program, and which program holds DEMO_COURSE."""
        from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment

        programs = {
            enrollment.external_user_key: enrollment.status
            for enrollment in ProgramEnrollment.objects.filter(
                program_uuid=CYBERSECURITY, external_user_key__in=LEARNERS.values()
            )
        }
        active = {
            row.program_enrollment.external_user_key: str(row.program_enrollment.program_uuid)
            for row in ProgramCourseEnrollment.objects.select_related("program_enrollment").filter(
                program_enrollment__external_user_key__in=LEARNERS.values(), course_key=DEMO_COURSE, status="active"
            )
        }
        lines = []
        for username, key in LEARNERS.items():
            who = f"{key} ({username})" if username else f"{key} (no account yet)"
            status = programs.get(key)
            line = f"{who}: {status} in program {CYBERSECURITY}" if status else f"{who}: not in program {CYBERSECURITY}"
            holder = active.get(key)
            if holder is None:
                line += f"; not active in {DEMO_COURSE}"
            elif holder == CYBERSECURITY:
                line += f"; active in {DEMO_COURSE}"
            else:
                line += f"; active in {DEMO_COURSE} through program {holder}"
            lines.append(line)
        return lines

    @staticmethod
    def _demo_client():
        from oauth2_provider.models import Application

        User = get_user_model()
        if Application.objects.filter(client_id=DEMO_CLIENT[0]).exists():
            return
        service, _ = User.objects.get_or_create(username="demo-registrar-service")
        application = Application.objects.create(
            name="Demo registrar",
            client_id=DEMO_CLIENT[0],
            client_secret=DEMO_CLIENT[1],
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
            user=service,
        )
        ApplicationAccess.objects.create(
            application=application,
            is_restricted=True,
            scopes="program_enrollments:read program_enrollments:write",
            organizations=ORGANIZATION,
        )
