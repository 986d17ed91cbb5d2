"""Stand-in of the cache-reading part of ``openedx/core/djangoapps/catalog/utils.py``.

As on the platform, nothing here calls course-discovery: programs are read from Django's cache, which
the ``cache_programs`` management command fills (in the harness from a course-discovery-shaped JSON
document, see ``openedx_harness.catalog``). A cold cache reads as "no such program".
"""

import logging

from django.core.cache import cache
from opaque_keys.edx.keys import CourseKey

from openedx.core.djangoapps.catalog.cache import (
    CATALOG_COURSE_PROGRAMS_CACHE_KEY_TPL,
    COURSE_PROGRAMS_CACHE_KEY_TPL,
    PROGRAM_CACHE_KEY_TPL,
    PROGRAMS_BY_ORGANIZATION_CACHE_KEY_TPL,
    PROGRAMS_BY_TYPE_CACHE_KEY_TPL,
    PROGRAMS_BY_TYPE_SLUG_CACHE_KEY_TPL,
    SITE_PROGRAM_UUIDS_CACHE_KEY_TPL,
)

logger = logging.getLogger(__name__)

missing_details_msg_tpl = "Failed to get details for program {uuid} from the cache."


def get_programs(site=None, uuid=None, uuids=None, course=None, catalog_course_uuid=None, organization=None):
    """Read programs from the cache; exactly one argument must be given, else ``TypeError``.

    ``uuid`` returns that program's dict, or ``None``; every other argument returns a list of dicts
    (``site`` means the site's programs, ``course`` a course run key, ``organization`` an org key).
    """
    given = [arg for arg in (site, uuid, uuids, course, catalog_course_uuid, organization) if arg is not None]
    if len(given) != 1:
        raise TypeError("get_programs takes exactly one argument")

    if uuid:
        program = cache.get(PROGRAM_CACHE_KEY_TPL.format(uuid=uuid))
        if not program:
            logger.warning(missing_details_msg_tpl.format(uuid=uuid))
        return program
    if course:
        uuids = cache.get(COURSE_PROGRAMS_CACHE_KEY_TPL.format(course_run_id=course))
        if not uuids:
            return []
    elif catalog_course_uuid:
        uuids = cache.get(CATALOG_COURSE_PROGRAMS_CACHE_KEY_TPL.format(course_uuid=catalog_course_uuid))
        if not uuids:
            return []
    elif site:
        uuids = cache.get(SITE_PROGRAM_UUIDS_CACHE_KEY_TPL.format(domain=site.domain), [])
        if not uuids:
            logger.warning("Failed to get program UUIDs from the cache for site %s.", site.domain)
    elif organization:
        uuids = get_programs_for_organization(organization)
        if not uuids:
            return []
    return get_programs_by_uuids(uuids)


def get_programs_by_uuids(uuids):
    """The cached programs among ``uuids`` (UUIDs or strings); missing ones are logged and left out."""
    uuid_strings = [str(handle) for handle in uuids]
    programs = list(cache.get_many([PROGRAM_CACHE_KEY_TPL.format(uuid=handle) for handle in uuid_strings]).values())
    for missing in set(uuid_strings) - {program["uuid"] for program in programs}:
        logger.warning(missing_details_msg_tpl.format(uuid=missing))
    return programs


def get_programs_by_type(site, program_type):
    """The site's cached programs of type ``program_type``."""
    key = PROGRAMS_BY_TYPE_CACHE_KEY_TPL.format(site_id=site.id, program_type=normalize_program_type(program_type))
    return get_programs_by_uuids(cache.get(key, []))


def get_programs_by_type_slug(site, program_type_slug):
    """The site's cached programs whose type has slug ``program_type_slug``."""
    key = PROGRAMS_BY_TYPE_SLUG_CACHE_KEY_TPL.format(site_id=site.id, program_slug=program_type_slug)
    return get_programs_by_uuids(cache.get(key, []))


def get_programs_for_organization(organization):
    """The UUIDs of the programs authored by the organization with key ``organization`` (or ``None``)."""
    return cache.get(PROGRAMS_BY_ORGANIZATION_CACHE_KEY_TPL.format(org_key=organization))


def normalize_program_type(program_type):
    """A program type as used in cache keys."""
    return str(program_type).lower()


def is_course_run_in_program(course_run_key, program):
    """Whether the course run (key or string) belongs to ``program`` (a dict from ``get_programs``)."""
    key = str(course_run_key) if isinstance(course_run_key, CourseKey) else course_run_key
    return key in course_run_keys_for_program(program)


def course_run_keys_for_program(parent_program):
    """The course run keys (strings) of a program.

    Those of the first active curriculum of the program and of its child programs (recursively), plus
    those of the programs' own ``courses`` lists.
    """
    keys = set()
    for program in [parent_program] + child_programs(parent_program):
        curriculum = _primary_active_curriculum(program)
        if curriculum:
            keys.update(_course_runs_from_container(curriculum))
        keys.update(_course_runs_from_container(program))
    return keys


def course_uuids_for_program(parent_program):
    """The catalog course UUIDs of a program, collected as ``course_run_keys_for_program`` collects runs."""
    uuids = set()
    for program in [parent_program] + child_programs(parent_program):
        curriculum = _primary_active_curriculum(program)
        if curriculum:
            uuids.update(_courses_from_container(curriculum))
        uuids.update(_courses_from_container(program))
    return uuids


def child_programs(program):
    """The programs nested (at any depth) in the program's first active curriculum."""
    curriculum = _primary_active_curriculum(program)
    if not curriculum:
        return []
    result = []
    for child in curriculum.get("programs", []):
        result.append(child)
        result.extend(child_programs(child))
    return result


def _primary_active_curriculum(program):
    return next((curriculum for curriculum in program.get("curricula", []) if curriculum.get("is_active")), None)


def _course_runs_from_container(container):
    return [run.get("key") for course in container.get("courses", []) for run in course.get("course_runs", [])]


def _courses_from_container(container):
    return [course.get("uuid") for course in container.get("courses", [])]
