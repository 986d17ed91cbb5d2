"""Importing programs in the course-discovery program format, idempotently."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC
from uuid import UUID

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey

from program_enrollments.standalone.catalog.models import CourseRun, Curriculum, Organization, Program


class CatalogFormatError(ValueError):
    """The document is not in the course-discovery program format; the message says where."""


@dataclass
class LoadSummary:
    programs_created: int = 0
    programs_updated: int = 0
    curricula: int = 0
    course_runs_created: int = 0
    program_uuids: list[UUID] = field(default_factory=list)


def parse_document(text: str) -> list[dict]:
    """Return the program objects of a document: one program, a list, or a paginated envelope."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise CatalogFormatError(f"not valid JSON: {error}") from error
    if isinstance(document, dict) and "results" in document:
        document = document["results"]
    if isinstance(document, dict):
        document = [document]
    if not isinstance(document, list):
        raise CatalogFormatError("expected a program object, a list of programs, or an object with 'results'")
    return [_check_program(program, index) for index, program in enumerate(document)]


def _require(mapping, key, where, kind=str):
    if not isinstance(mapping, dict):
        raise CatalogFormatError(f"{where}: expected an object")
    value = mapping.get(key)
    if not isinstance(value, kind) or (kind is str and not value.strip()):
        raise CatalogFormatError(
            f"{where}: '{key}' is missing or not a {'non-blank string' if kind is str else kind.__name__}"
        )
    return value


def _uuid(value, where):
    try:
        return UUID(str(value))
    except ValueError as error:
        raise CatalogFormatError(f"{where}: {value!r} is not a UUID") from error


def _check_program(program, index) -> dict:
    where = f"program {index}"
    uuid = _uuid(_require(program, "uuid", where), where)
    organizations = _require(program, "authoring_organizations", where, list)
    if not organizations:
        raise CatalogFormatError(f"{where}: 'authoring_organizations' is empty")
    organization = organizations[0]
    checked = {
        "uuid": uuid,
        "title": _require(program, "title", where),
        "type": program.get("type") or "",
        "marketing_slug": program.get("marketing_slug") or "",
        "organization_key": _require(organization, "key", f"{where}, authoring organization 0"),
        "organization_name": organization.get("name") or "" if isinstance(organization, dict) else "",
        "curricula": [],
    }
    for c_index, curriculum in enumerate(_require(program, "curricula", where, list)):
        c_where = f"{where}, curriculum {c_index}"
        course_runs = []
        for k_index, course in enumerate(_require(curriculum, "courses", c_where, list)):
            for r_index, run in enumerate(_require(course, "course_runs", f"{c_where}, course {k_index}", list)):
                r_where = f"{c_where}, course {k_index}, run {r_index}"
                key = _require(run, "key", r_where)
                try:
                    CourseKey.from_string(key)
                except InvalidKeyError as error:
                    raise CatalogFormatError(f"{r_where}: {key!r} is not a valid course key") from error
                course_runs.append((key, run.get("title") or course.get("title") or "", _run_schedule(run, r_where)))
        checked["curricula"].append(
            {
                "uuid": _uuid(_require(curriculum, "uuid", c_where), c_where),
                "name": curriculum.get("name") or "",
                "is_active": bool(curriculum.get("is_active", True)),
                "course_runs": course_runs,
            }
        )
    return checked


def _run_schedule(run: dict, where: str) -> dict:
    """The run's ``start``, ``end`` and pacing (``pacing_type``) as given; absent ones are left out."""
    schedule = {}
    for name in ("start", "end"):
        value = run.get(name)
        if value in (None, ""):
            continue
        moment = parse_datetime(value) if isinstance(value, str) else None
        if moment is None:
            raise CatalogFormatError(f"{where}: '{name}' {value!r} is not an ISO 8601 date and time")
        schedule[name] = moment if timezone.is_aware(moment) else timezone.make_aware(moment, UTC)
    if run.get("pacing_type"):
        schedule["self_paced"] = run["pacing_type"] == "self_paced"
    return schedule


@transaction.atomic
def load_programs(programs: list[dict]) -> LoadSummary:
    """Create or update programs (by uuid), their curricula and course runs; re-loading changes nothing."""
    summary = LoadSummary()
    for data in programs:
        organization, _ = Organization.objects.get_or_create(
            key=data["organization_key"], defaults={"name": data["organization_name"]}
        )
        program, created = Program.objects.update_or_create(
            uuid=data["uuid"],
            defaults={
                "title": data["title"],
                "type": data["type"],
                "marketing_slug": data["marketing_slug"],
                "authoring_organization": organization,
            },
        )
        summary.programs_created += created
        summary.programs_updated += not created
        summary.program_uuids.append(program.uuid)
        for curriculum_data in data["curricula"]:
            curriculum, _ = Curriculum.objects.update_or_create(
                uuid=curriculum_data["uuid"],
                defaults={
                    "program": program,
                    "name": curriculum_data["name"],
                    "is_active": curriculum_data["is_active"],
                },
            )
            runs = []
            for key, title, schedule in curriculum_data["course_runs"]:
                run, run_created = CourseRun.objects.get_or_create(key=key, defaults={"title": title, **schedule})
                summary.course_runs_created += run_created
                changed = {name: value for name, value in schedule.items() if getattr(run, name) != value}
                if changed and not run_created:
                    CourseRun.objects.filter(pk=run.pk).update(**changed)
                runs.append(run)
            curriculum.course_runs.set(runs)
            summary.curricula += 1
    return summary
