"""Programs as support staff read them in the admin: titles and organizations from the catalog.

Enrollments store a program's UUID only; the catalog backend knows its title,
authoring organization and curricula. The admin looks programs up set-wise (one
catalog call for a list page, whatever its size) and shows the UUID, marked as
unknown, when the catalog does not know a program.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from uuid import UUID

from django.contrib import admin
from django.utils.html import format_html
from django.utils.text import Truncator

from program_enrollments import backends
from program_enrollments.data import ProgramData

# Characters of a program title shown in a list column; the whole title is in the tooltip.
LIST_TITLE_LENGTH = 34


def _uuid(value) -> UUID | None:
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def fetch_programs(program_uuids: Iterable) -> dict[UUID, ProgramData]:
    """The catalog's programs among ``program_uuids`` (UUIDs or their strings), in one catalog call."""
    uuids = {uuid for uuid in (_uuid(value) for value in program_uuids) if uuid is not None}
    return backends.catalog_backend().get_programs(uuids) if uuids else {}


def program_name(program_uuid, program: ProgramData | None) -> str:
    """``Title (ORG)``, or the UUID marked as unknown when the catalog does not know the program."""
    if program is None:
        return f"{program_uuid} (not in the catalog)"
    return f"{program.title or program_uuid} ({program.organization_key})"


def program_html(program_uuid, program: ProgramData | None, *, length: int | None = None):
    """The program for a page: its title and organization, the UUID in the tooltip.

    ``length`` shortens the title (list columns); the tooltip keeps all of it.
    A program the catalog does not know shows its UUID, marked as such.
    """
    if program is None:
        return format_html(
            '<span class="program unknown-program" title="{}">{} <small>(not in the catalog)</small></span>',
            f"Program {program_uuid} is not in the catalog",
            program_uuid,
        )
    title = program.title or str(program_uuid)
    shown = Truncator(title).chars(length) if length else title
    return format_html(
        '<span class="program" title="{}">{} <small>{}</small></span>',
        f"{title} ({program.organization_key}), {program_uuid}",
        shown,
        program.organization_key,
    )


def curriculum_name(curriculum_uuid, program: ProgramData | None) -> str:
    """A curriculum's name (and whether it is active), or its UUID when the catalog has no name for it."""
    uuid = _uuid(curriculum_uuid)
    for curriculum in program.curricula if program else ():
        if curriculum.uuid == uuid:
            name = curriculum.name or str(curriculum.uuid)
            return name if curriculum.is_active else f"{name} (inactive)"
    return f"{curriculum_uuid} (not in the catalog)" if curriculum_uuid else ""


# The attribute under which a page's rows carry their program (looked up once for the page).
_PROGRAM_ATTRIBUTE = "_catalog_program"
_UNSET = object()


def attach_programs(rows: Collection, program_uuid_of, *, also: Iterable = ()) -> dict[UUID, ProgramData]:
    """Give each row its catalog program (or None), looked up in one catalog call for all the rows.

    ``also`` adds program UUIDs to the same call; returns the programs found.
    """
    programs = fetch_programs({program_uuid_of(row) for row in rows} | set(also))
    for row in rows:
        setattr(row, _PROGRAM_ATTRIBUTE, programs.get(_uuid(program_uuid_of(row))))
    return programs


def attach_page_programs(changelist, program_uuid_of) -> None:
    """Look up, in one catalog call, the programs of a list page: its rows' and its program filters'.

    The rows get theirs (``attach_programs``); the filters find theirs on the changelist.
    """
    listed = {
        uuid for spec in changelist.filter_specs if isinstance(spec, ProgramListFilter) for uuid in spec.program_uuids()
    }
    programs = attach_programs(changelist.result_list, program_uuid_of, also=listed)
    asked = {_uuid(program_uuid_of(row)) for row in changelist.result_list} | {_uuid(uuid) for uuid in listed}
    changelist.catalog_lookup = (asked, programs)


def attached_program(row, program_uuid) -> ProgramData | None:
    """The program ``attach_programs`` gave ``row``; looked up alone for a row of no list (a detail page)."""
    program = getattr(row, _PROGRAM_ATTRIBUTE, _UNSET)
    if program is _UNSET:
        program = fetch_programs([program_uuid]).get(_uuid(program_uuid))
        setattr(row, _PROGRAM_ATTRIBUTE, program)
    return program


class ProgramListFilter(admin.AllValuesFieldListFilter):
    """The programs that have rows, by title and organization (one catalog call), sorted by title."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.title = "program"

    def program_uuids(self) -> list:
        """The UUIDs of the programs listed."""
        return [value for value in self.lookup_choices if value is not None]

    def choices(self, changelist):
        choices = iter(super().choices(changelist))
        yield next(choices)  # "All"
        uuids = self.program_uuids()
        # The page's catalog call (attach_page_programs) asked for these programs already, as a rule.
        asked, programs = getattr(changelist, "catalog_lookup", (set(), {}))
        if not {_uuid(uuid) for uuid in uuids} <= asked:
            programs = fetch_programs(uuids)
        listed = []
        for choice, uuid in zip(choices, uuids, strict=False):
            program = programs.get(_uuid(uuid))
            name = program_name(uuid, program)
            # The facet count, when shown, follows the value: keep it after the name.
            choice["display"] = name + choice["display"][len(str(uuid)) :]
            listed.append(((program is None, name.casefold()), choice))
        # Known programs by title, then the UUIDs the catalog does not know.
        for _key, choice in sorted(listed, key=lambda item: item[0]):
            yield choice


def transfer_targets(source_uuid, course_keys: Collection[str]) -> list[ProgramData]:
    """The programs a transfer from ``source_uuid`` may go to: those that share the learners' courses.

    The programs holding any of ``course_keys`` (the selected learners' active courses in
    the source), those holding all of them first, then by title; without courses (waiting
    learners not in any course yet), the other programs of the source's organization.
    """
    catalog = backends.catalog_backend()
    source = _uuid(source_uuid)
    keys = {str(key) for key in course_keys}
    if keys:
        candidates = catalog.get_programs_with_course_runs(keys)
    else:
        program = catalog.get_program(source) if source else None
        candidates = catalog.get_programs_of_organizations([program.organization_key]) if program else []
    return sorted(
        (program for program in candidates if program.uuid != source),
        key=lambda program: (-len(keys & program.course_keys()), (program.title or str(program.uuid)).casefold()),
    )
