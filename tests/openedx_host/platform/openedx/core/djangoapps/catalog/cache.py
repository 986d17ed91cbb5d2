"""Mirrors ``openedx/core/djangoapps/catalog/cache.py``: the cache keys the ``cache_programs`` command writes."""

# One program's course-discovery document.
PROGRAM_CACHE_KEY_TPL = "program-{uuid}"

# The list of every program UUID of a site.
SITE_PROGRAM_UUIDS_CACHE_KEY_TPL = "program-uuids-{domain}"

# One pathway, and the list of a site's pathway ids.
PATHWAY_CACHE_KEY_TPL = "pathway-{id}"
SITE_PATHWAY_IDS_CACHE_KEY_TPL = "pathway-ids-{domain}"

# Course run key -> the UUIDs of the programs it belongs to.
COURSE_PROGRAMS_CACHE_KEY_TPL = "course-programs-{course_run_id}"

# Catalog course UUID -> the UUIDs of the programs it belongs to.
CATALOG_COURSE_PROGRAMS_CACHE_KEY_TPL = "catalog-course-programs-{course_uuid}"

# (site, program type) -> program UUIDs, and (site, program type slug) -> program UUIDs.
PROGRAMS_BY_TYPE_CACHE_KEY_TPL = "programs-by-type-{site_id}-{program_type}"
PROGRAMS_BY_TYPE_SLUG_CACHE_KEY_TPL = "programs-by-type-slug-{site_id}-{program_slug}"

# Organization key -> the UUIDs of the programs it authored.
PROGRAMS_BY_ORGANIZATION_CACHE_KEY_TPL = "organization-programs-{org_key}"
