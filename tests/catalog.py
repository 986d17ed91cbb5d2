"""The test catalog: the demo programs of GTx, plus one program of another organization.

``load()`` puts it where the host reads programs and course runs (``tests.hosts``).
"""

import json
from pathlib import Path
from uuid import UUID

DEMO_CATALOG = (
    Path(__file__).resolve().parents[1] / "program_enrollments" / "standalone" / "fixtures" / "demo_programs.json"
)

CYBERSECURITY = UUID("509c2e6c-f4e2-5b32-bc77-5137159b0719")
CYBERSECURITY_CURRICULUM = UUID("8f6bcfd1-48ca-5ba6-ae52-0572a322788d")
ANALYTICS = UUID("28385600-2327-5a6a-af0e-fd1f9e3790db")
ANALYTICS_CURRICULUM = UUID("b6cbe92b-c9b2-5abe-a6f3-a7d4eaa30a91")
OTHER = UUID("38bf8bae-2aba-5ad8-9e83-12beb8b72442")
OTHER_CURRICULUM = UUID("ae7981d8-cfda-5fde-9e60-68b299453419")
MIT = UUID("7b6f0a58-2a4d-4f55-9d1e-3a1c4e1f0b01")
MIT_CURRICULUM = UUID("0f2f5a36-8b55-4a8e-9d0c-6d5f3e6b2c02")

# In Cybersecurity and Other (and in the other organization's program).
SHARED_COURSE = "course-v1:GTx+CS6035+2020_Spring"
SECOND_SHARED_COURSE = "course-v1:GTx+CS6250+2020_Spring"
# In Analytics and Other only.
ANALYTICS_COURSE = "course-v1:GTx+ISYE6501+2020_Spring"
# In no program.
LONE_COURSE = "course-v1:GTx+LONE+2020_Spring"

CURRICULUM_OF = {
    CYBERSECURITY: CYBERSECURITY_CURRICULUM,
    ANALYTICS: ANALYTICS_CURRICULUM,
    OTHER: OTHER_CURRICULUM,
    MIT: MIT_CURRICULUM,
}


def curriculum_document(uuid, course_keys=(), *, name="", is_active=True):
    """A curriculum in course-discovery's shape, one course per course run."""
    return {
        "uuid": str(uuid),
        "name": name,
        "is_active": is_active,
        "courses": [{"key": key, "course_runs": [{"key": key}]} for key in course_keys],
    }


def program_document(uuid, *, title, organization_key, curricula, organization_name="", type_="MicroMasters"):
    """A program in course-discovery's shape (``curricula``: ``curriculum_document`` results)."""
    return {
        "uuid": str(uuid),
        "title": title,
        "type": type_,
        "authoring_organizations": [{"key": organization_key, "name": organization_name or organization_key}],
        "curricula": list(curricula),
    }


MIT_PROGRAM = {
    "uuid": str(MIT),
    "title": "MicroMasters in Security",
    "type": "MicroMasters",
    "authoring_organizations": [{"key": "MITx", "name": "MIT"}],
    "curricula": [
        {
            "uuid": str(MIT_CURRICULUM),
            "name": "2020",
            "is_active": True,
            "courses": [{"key": "GTx+CS6035", "course_runs": [{"key": SHARED_COURSE}]}],
        }
    ],
}


def programs():
    """The test catalog's programs in course-discovery's shape (fresh copies)."""
    return [*json.loads(DEMO_CATALOG.read_text(encoding="utf-8"))["results"], json.loads(json.dumps(MIT_PROGRAM))]


def program(uuid):
    """The test catalog's program ``uuid`` in course-discovery's shape."""
    return next(program for program in programs() if UUID(program["uuid"]) == UUID(str(uuid)))


def load():
    """Load the test catalog where the host reads it, with ``LONE_COURSE``, a course run of no program."""
    from tests import hosts

    hosts.load_catalog()
