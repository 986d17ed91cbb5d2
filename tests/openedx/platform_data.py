"""Platform data for the Open edX host tests: courses, users, organizations, SAML identities, cached programs.

Everything is made through the platform's models and its catalog cache keys, the
way an LMS holds it (the harness stand-ins under tests/openedx_host/ and the real
edx-organizations and social-auth-app-django packages).

The tests using it need this app installed in the harness LMS (the label
``program_enrollments`` held by ``program_enrollments``, i.e. the LMS after the
takeover): importing this module raises ImportError otherwise, so that those
test modules, which import it first with ``pytest.importorskip``, are skipped
with the reason instead of failing on the built-in app's models.
"""

from __future__ import annotations

import itertools
from uuid import UUID, uuid4

from django.contrib.auth import get_user_model
from django.core.cache import cache
from opaque_keys.edx.keys import CourseKey

_counter = itertools.count(1)


def _this_app_holds_the_label() -> bool:
    from django.apps import apps

    try:
        return apps.get_app_config("program_enrollments").name == "program_enrollments"
    except LookupError:
        return False


if not _this_app_holds_the_label():
    raise ImportError(
        "The harness LMS runs the built-in program_enrollments app, not this one (the LMS before the takeover); "
        "run with OPENEDX_HOST_WITHOUT_PLUGINS=program_enrollments to test the app installed in the LMS."
    )


def course(key: str = "course-v1:GTx+CS101+2026"):
    """A course run the LMS knows (its ``CourseOverview``)."""
    from openedx.core.djangoapps.content.course_overviews.models import CourseOverview

    course_key = CourseKey.from_string(key)
    overview, _ = CourseOverview.objects.get_or_create(
        id=course_key, defaults={"org": course_key.org, "display_name": f"Course {course_key.course}"}
    )
    return overview.id


def user(username: str | None = None, **fields):
    username = username or f"learner{next(_counter)}"
    return get_user_model().objects.create_user(username=username, email=f"{username}@example.com", **fields)


def organization(short_name: str = "GTx"):
    from organizations.models import Organization

    found, _ = Organization.objects.get_or_create(short_name=short_name, defaults={"name": f"{short_name} University"})
    return found


def saml_provider(slug: str, org=None, *, enabled: bool = True, **fields):
    """A SAML provider config (a new current row for ``slug``, as the platform's admin saves them)."""
    from common.djangoapps.third_party_auth.models import SAMLProviderConfig

    return SAMLProviderConfig.objects.create(
        slug=slug,
        organization=org,
        enabled=enabled,
        entity_id=fields.pop("entity_id", f"https://idp.example.com/{slug}"),
        display_name=fields.pop("display_name", slug),
        **fields,
    )


def social_auth(learner, uid: str, provider: str = "tpa-saml"):
    """The SSO identity the SAML pipeline stores on login (``uid`` is ``<slug>:<student key>``)."""
    from social_django.models import UserSocialAuth

    return UserSocialAuth.objects.create(user=learner, provider=provider, uid=uid)


def program_document(
    *,
    uuid: UUID | None = None,
    organization_key: str | None = "GTx",
    title: str = "Online Master of Science",
    curricula: list[dict] | None = None,
    courses: list[str] = (),
    **extra,
) -> dict:
    """A program as the discovery service serializes it into the LMS's catalog cache."""
    return {
        "uuid": str(uuid or uuid4()),
        "title": title,
        "type": "Masters",
        "marketing_slug": "omscs",
        "authoring_organizations": [{"key": organization_key, "name": organization_key}] if organization_key else [],
        "curricula": curricula if curricula is not None else [curriculum(courses=["course-v1:GTx+CS101+2026"])],
        "courses": [course_document(key) for key in courses],
        **extra,
    }


def curriculum(*, uuid: UUID | None = None, is_active: bool = True, courses: list[str] = (), programs=()) -> dict:
    return {
        "uuid": str(uuid or uuid4()),
        "name": "Curriculum",
        "is_active": is_active,
        "courses": [course_document(key) for key in courses],
        "programs": list(programs),
    }


def course_document(*run_keys: str) -> dict:
    return {"key": "course", "uuid": str(uuid4()), "course_runs": [{"key": key} for key in run_keys]}


def cache_program(document: dict) -> dict:
    """Put a program in the catalog cache, as the LMS's ``cache_programs`` command does."""
    from openedx.core.djangoapps.catalog.cache import PROGRAM_CACHE_KEY_TPL

    cache.set(PROGRAM_CACHE_KEY_TPL.format(uuid=document["uuid"]), document, None)
    return document


def program(*course_keys: str, organization_key: str = "GTx", **fields) -> dict:
    """A cached program of ``organization_key`` whose one active curriculum holds ``course_keys``."""
    for key in course_keys:
        course(key)
    return cache_program(
        program_document(organization_key=organization_key, curricula=[curriculum(courses=list(course_keys))], **fields)
    )


def curriculum_uuid(document: dict) -> str:
    return document["curricula"][0]["uuid"]
