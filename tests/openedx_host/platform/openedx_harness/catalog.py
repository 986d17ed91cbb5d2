"""Fill the LMS's program cache as the platform's ``cache_programs`` command does, from a JSON document.

The platform's command asks course-discovery for every program of every site and writes the cache
keys of ``openedx.core.djangoapps.catalog.cache``; this module writes the same keys from a document of
course-discovery's ``/api/v1/programs/`` shape (``{"results": [program, ...]}``, or a bare list, or
one program), such as ``program_enrollments/standalone/fixtures/demo_programs.json``. Programs are
cached without expiry, as there.
"""

import json
from collections import defaultdict
from pathlib import Path

from django.core.cache import cache

from openedx.core.djangoapps.catalog.cache import (
    CATALOG_COURSE_PROGRAMS_CACHE_KEY_TPL,
    COURSE_PROGRAMS_CACHE_KEY_TPL,
    PROGRAM_CACHE_KEY_TPL,
    PROGRAMS_BY_ORGANIZATION_CACHE_KEY_TPL,
    PROGRAMS_BY_TYPE_CACHE_KEY_TPL,
    PROGRAMS_BY_TYPE_SLUG_CACHE_KEY_TPL,
    SITE_PROGRAM_UUIDS_CACHE_KEY_TPL,
)
from openedx.core.djangoapps.catalog.utils import (
    course_run_keys_for_program,
    course_uuids_for_program,
    normalize_program_type,
)

DEFAULT_SITE_ID = 1
DEFAULT_SITE_DOMAIN = "example.com"


def programs_from_document(document):
    """The list of program dicts in ``document`` (a path, a JSON string, a dict or a list)."""
    if isinstance(document, Path) or (isinstance(document, str) and not document.lstrip().startswith(("{", "["))):
        document = Path(document).read_text(encoding="utf-8")
    if isinstance(document, str):
        document = json.loads(document)
    if isinstance(document, dict):
        return list(document["results"]) if "results" in document else [document]
    return list(document)


def cache_programs(document, *, site_id=DEFAULT_SITE_ID, site_domain=DEFAULT_SITE_DOMAIN):
    """Write the programs of ``document`` to the cache under the platform's keys; returns their UUIDs.

    Adds to what is cached already (programs of the same UUID are replaced; the per-course,
    per-organization and per-type UUID lists are merged).
    """
    programs = {}
    for program in programs_from_document(document):
        program = dict(program)
        program.setdefault("pathway_ids", [])
        programs[PROGRAM_CACHE_KEY_TPL.format(uuid=program["uuid"])] = program

    site_uuids_key = SITE_PROGRAM_UUIDS_CACHE_KEY_TPL.format(domain=site_domain)
    uuid_lists = defaultdict(list)
    uuid_lists[site_uuids_key] = []
    for program in programs.values():
        uuid = program["uuid"]
        uuid_lists[site_uuids_key].append(uuid)
        for run_key in course_run_keys_for_program(program):
            uuid_lists[COURSE_PROGRAMS_CACHE_KEY_TPL.format(course_run_id=run_key)].append(uuid)
        for course_uuid in course_uuids_for_program(program):
            if course_uuid:
                uuid_lists[CATALOG_COURSE_PROGRAMS_CACHE_KEY_TPL.format(course_uuid=course_uuid)].append(uuid)
        program_type = normalize_program_type(program.get("type"))
        uuid_lists[PROGRAMS_BY_TYPE_CACHE_KEY_TPL.format(site_id=site_id, program_type=program_type)].append(uuid)
        type_slug = (program.get("type_attrs") or {}).get("slug")
        if type_slug:
            slug_key = PROGRAMS_BY_TYPE_SLUG_CACHE_KEY_TPL.format(site_id=site_id, program_slug=type_slug)
            uuid_lists[slug_key].append(uuid)
        for organization in program.get("authoring_organizations", []):
            uuid_lists[PROGRAMS_BY_ORGANIZATION_CACHE_KEY_TPL.format(org_key=organization["key"])].append(uuid)

    existing = cache.get_many(list(uuid_lists))
    merged = {key: list(dict.fromkeys([*(existing.get(key) or []), *uuids])) for key, uuids in uuid_lists.items()}
    cache.set_many(programs, None)
    cache.set_many(merged, None)
    return [program["uuid"] for program in programs.values()]
