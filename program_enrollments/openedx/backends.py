"""Backends for an Open edX LMS: the platform's course enrollments, SAML identities and catalog cache.

Writes go through ``CourseEnrollment``'s own methods (``enroll``,
``update_enrollment``, ``deactivate``), one learner at a time as the platform
offers them, so that the LMS's signals, tracking events and openedx-events fire
as they do for any enrollment change. Reads are set-wise: a fixed number of
queries whatever the number of learners.

Platform modules are imported inside the methods (see the package docstring).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Iterator, Mapping
from uuid import UUID

from django.contrib.auth import get_user_model
from django.db.models.functions import Lower
from opaque_keys.edx.keys import CourseKey

from program_enrollments.backends.base import CatalogBackend, LMSBackend
from program_enrollments.constants import MASTERS_MODE, UPGRADABLE_MODES
from program_enrollments.data import (
    CourseGradeData,
    CourseRunOverviewData,
    CurriculumData,
    DueDateData,
    ProgramData,
    SSOIdentityData,
)
from program_enrollments.identity import UNKNOWN_ORGANIZATION, normalize_student_key

log = logging.getLogger(__name__)

# The role CourseStaffRole grants (common.djangoapps.student.roles.CourseStaffRole.ROLE).
COURSE_STAFF_ROLE = "staff"
# The roles of CourseStaffRole and CourseInstructorRole, whose holders administer a course run.
COURSE_ADMIN_ROLES = (COURSE_STAFF_ROLE, "instructor")
# Course keys of custom courses (ccx_keys' CCXLocator), which the built-in app's access list leaves out.
CCX_PREFIX = "ccx-v1:"


class _RelativeURLRequest:
    """What the platform's URL helpers need of a request; the URLs they build stay relative."""

    def build_absolute_uri(self, location=None):
        return location or "/"


def _course_key(course_key) -> CourseKey:
    return course_key if isinstance(course_key, CourseKey) else CourseKey.from_string(str(course_key))


class OpenEdxLMSBackend(LMSBackend):
    """Course enrollments, users and SAML identities of the Open edX LMS this app runs in."""

    @classmethod
    def check(cls, **kwargs) -> list:
        """System-check errors when the platform parts this backend needs are missing."""
        from program_enrollments.openedx.checks import check_lms_backend

        return check_lms_backend()

    def course_exists(self, course_key: CourseKey) -> bool:
        from openedx.core.djangoapps.content.course_overviews.models import CourseOverview

        return bool(CourseOverview.course_exists(_course_key(course_key)))

    def resolve_users(self, organization_key: str, student_keys: Iterable[str]) -> dict[str, int]:
        """Map case-folded student keys to users through the organization's current SAML providers.

        An organization with no enabled provider (or unknown to edx-organizations)
        resolves nobody, as the platform's own app treats a missing provider.
        """
        keys = {key for key in student_keys if key}
        if not keys:
            return {}
        return saml_user_ids(organization_providers(organization_key), keys)

    def get_user_ids(self, usernames: Iterable[str]) -> dict[str, int]:
        names = set(usernames)
        if not names:
            return {}
        return dict(get_user_model().objects.filter(username__in=names).values_list("username", "id"))

    def enroll(self, course_key: CourseKey, user_ids: Collection[int], *, active: bool = True) -> dict[int, int]:
        """Create, activate or upgrade the users' course enrollments through ``CourseEnrollment``'s methods.

        * missing and ``active``: ``CourseEnrollment.enroll(user, key, mode='masters',
          check_access=False)``, the platform's enrollment with its filter, signals and events;
        * missing and not ``active``: ``get_or_create_enrollment`` (inactive) then
          ``update_enrollment(mode='masters')``: the learner was never in the course, so
          no enrollment is announced (no activation event or enrollment email), and no
          ``UNENROLL_DONE`` (refund logic) is sent for an enrollment that never was active;
        * existing ``audit``/``honor`` and ``active``: ``update_enrollment(mode='masters',
          is_active=True)``: one save, and the mode change is announced
          (``ENROLLMENT_TRACK_UPDATED`` recalculates grades, the tracking event is emitted).
          The platform's built-in app did a plain ``save()`` here, which left the
          enrollment-track listeners unaware of the new track;
        * existing in another mode (a paid one): the mode is kept (logged) and the
          enrollment activated with ``activate()`` when inactive.

        Safe to repeat: each step first compares with the current state.
        """
        from common.djangoapps.student.models import CourseEnrollment

        if not user_ids:
            return {}
        key = _course_key(course_key)
        existing = {
            enrollment.user_id: enrollment
            for enrollment in CourseEnrollment.objects.filter(course_id=key, user_id__in=user_ids).select_related(
                "user"
            )
        }
        missing = sorted(user_id for user_id in set(user_ids) if user_id not in existing)
        users = get_user_model().objects.in_bulk(missing) if missing else {}
        ids: dict[int, int] = {}
        for user_id in missing:
            user = users.get(user_id)
            if user is None:
                raise ValueError(f"No user with id {user_id} to enroll in {key}.")
            if active:
                enrollment = CourseEnrollment.enroll(user, key, mode=MASTERS_MODE, check_access=False)
            else:
                enrollment = CourseEnrollment.get_or_create_enrollment(user, key)
                enrollment.update_enrollment(mode=MASTERS_MODE)
            ids[user_id] = enrollment.id
        for user_id, enrollment in sorted(existing.items()):
            ids[user_id] = enrollment.id
            if not active:
                continue
            if enrollment.mode in UPGRADABLE_MODES:
                log.info(
                    "Converting the course enrollment of user %s in %s from mode %s to %s for a program.",
                    user_id,
                    key,
                    enrollment.mode,
                    MASTERS_MODE,
                )
                enrollment.update_enrollment(mode=MASTERS_MODE, is_active=True)
                continue
            if enrollment.mode != MASTERS_MODE:
                log.info(
                    "Kept mode %s of user %s in %s for a program enrollment instead of %s.",
                    enrollment.mode,
                    user_id,
                    key,
                    MASTERS_MODE,
                )
            if not enrollment.is_active:
                enrollment.activate()
        return ids

    def deactivate(self, course_key: CourseKey, user_ids: Collection[int]) -> None:
        """Deactivate the users' active course enrollments with ``CourseEnrollment.deactivate()``.

        As the built-in app's status change does, whatever the mode; the platform's
        unenrollment signals and events fire.
        """
        from common.djangoapps.student.models import CourseEnrollment

        if not user_ids:
            return
        enrollments = CourseEnrollment.objects.filter(
            course_id=_course_key(course_key), user_id__in=user_ids, is_active=True
        ).select_related("user")
        for enrollment in enrollments.order_by("user_id"):
            enrollment.deactivate()

    def update_enrollments(self, course_key: CourseKey, changes: Mapping[int, tuple[str | None, bool | None]]) -> None:
        """Give back a mode and/or activity through ``CourseEnrollment.update_enrollment``.

        The platform's own method: a mode change is announced (``ENROLLMENT_TRACK_UPDATED``)
        and a deactivation sends the unenrollment signals, as when the learner changes them.
        """
        from common.djangoapps.student.models import CourseEnrollment

        wanted = {user_id: change for user_id, change in changes.items() if change != (None, None)}
        if not wanted:
            return
        enrollments = CourseEnrollment.objects.filter(
            course_id=_course_key(course_key), user_id__in=wanted
        ).select_related("user")
        for enrollment in enrollments.order_by("user_id"):
            mode, is_active = wanted[enrollment.user_id]
            enrollment.update_enrollment(mode=mode, is_active=is_active)

    def get_course_grades(self, course_key: CourseKey, user_ids: Collection[int]) -> dict[int, CourseGradeData | str]:
        """The users' grades through the grades app's API, as the built-in app reads them.

        ``prefetch_course_grades`` reads the stored grades of the page in one query, then
        ``CourseGradeFactory().iter`` yields ``(student, course_grade, error)`` per user (an
        exception while grading one learner becomes that learner's error), and the prefetched
        grades are cleared (``lms.djangoapps.grades.api``).
        """
        from lms.djangoapps.grades.api import CourseGradeFactory, clear_prefetched_course_grades, prefetch_course_grades

        if not user_ids:
            return {}
        key = _course_key(course_key)
        users = list(get_user_model().objects.filter(id__in=user_ids).order_by("id"))
        grades: dict[int, CourseGradeData | str] = {}
        prefetch_course_grades(key, users)
        try:
            for student, course_grade, error in CourseGradeFactory().iter(users, course_key=key):
                if error is not None or course_grade is None:
                    grades[student.id] = str(error) if error else "Unknown error"
                else:
                    grades[student.id] = CourseGradeData(
                        percent=course_grade.percent,
                        passed=course_grade.passed,
                        letter_grade=course_grade.letter_grade or None,
                    )
        finally:
            clear_prefetched_course_grades(key)
        for user_id in user_ids:
            grades.setdefault(user_id, "Unknown error")  # a user the LMS no longer has
        return grades

    def get_enrollments(self, course_key: CourseKey, user_ids: Collection[int]) -> dict[int, tuple[int, str, bool]]:
        from common.djangoapps.student.models import CourseEnrollment

        if not user_ids:
            return {}
        rows = CourseEnrollment.objects.filter(course_id=_course_key(course_key), user_id__in=user_ids).values_list(
            "user_id", "id", "mode", "is_active"
        )
        return {user_id: (enrollment_id, mode, is_active) for user_id, enrollment_id, mode, is_active in rows}

    def get_user_course_enrollments(
        self, user_id: int, course_keys: Collection[str], *, modes: Collection[str]
    ) -> list[tuple[int, str]]:
        from common.djangoapps.student.models import CourseEnrollment

        if not course_keys or not modes:
            return []
        rows = (
            CourseEnrollment.objects.filter(
                user_id=user_id,
                course_id__in=[_course_key(key) for key in course_keys],
                mode__in=list(modes),
                is_active=True,
            )
            .order_by("id")
            .values_list("id", "course_id")
        )
        return [(enrollment_id, str(course_id)) for enrollment_id, course_id in rows]

    def get_course_run_overviews(self, course_keys: Collection[str], user_id: int) -> dict[str, CourseRunOverviewData]:
        """What the built-in app's learner pages read, through the same platform functions.

        ``CourseOverview.get_from_ids`` (title, dates, pacing); the certificates API's
        ``get_certificates_for_user_by_course_keys``; ``student.helpers.get_resume_urls_for_enrollments``;
        ``bulk_email.api.get_emails_enabled``; ``course_api.api.get_course_run_url`` and, for runs
        under way, ``get_due_dates``. The last two build URLs with a request; they are given one
        that keeps URLs relative, and the REST API makes them absolute on its own request.
        """
        from common.djangoapps.student.helpers import get_resume_urls_for_enrollments
        from common.djangoapps.student.models import CourseEnrollment
        from lms.djangoapps.bulk_email.api import get_emails_enabled
        from lms.djangoapps.certificates.api import get_certificates_for_user_by_course_keys
        from lms.djangoapps.course_api.api import get_course_run_url, get_due_dates
        from openedx.core.djangoapps.content.course_overviews.models import CourseOverview

        keys = [_course_key(key) for key in course_keys]
        if not keys:
            return {}
        user = get_user_model().objects.get(id=user_id)
        overviews = {key: overview for key, overview in CourseOverview.get_from_ids(keys).items() if overview}
        if not overviews:
            return {}
        certificates = get_certificates_for_user_by_course_keys(user, set(overviews))
        enrollments = list(CourseEnrollment.objects.filter(user=user, course_id__in=list(overviews)))
        resume_urls = get_resume_urls_for_enrollments(user, enrollments)
        request = _RelativeURLRequest()
        result = {}
        for key, overview in overviews.items():
            certificate = certificates.get(key) or {}
            under_way = overview.has_started() and not overview.has_ended()
            result[str(key)] = CourseRunOverviewData(
                course_key=str(key),
                display_name=overview.display_name_with_default,
                course_run_url=get_course_run_url(request, key),
                start=overview.start,
                end=overview.end,
                self_paced=overview.pacing == "self",
                certificate_passing=bool(certificate.get("is_passing")),
                certificate_created=certificate.get("created"),
                certificate_download_url=certificate.get("download_url") or "",
                resume_url=resume_urls.get(key) or "",
                emails_enabled=get_emails_enabled(user, key),
                due_dates=tuple(
                    DueDateData(name=due["name"], url=due["url"], date=due["date"])
                    for due in (get_due_dates(request, key, user) if under_way else [])
                ),
            )
        return result

    def get_courses_with_staff_role(self, user_id: int) -> set[str]:
        """Course runs of the user's ``staff`` and ``instructor`` rows in ``student_courseaccessrole``.

        What the built-in app reads through ``UserBasedRole(...).courses_with_role()``, in one
        query; CCX runs are left out, as there.
        """
        from common.djangoapps.student.models import CourseAccessRole

        rows = CourseAccessRole.objects.filter(user_id=user_id, role__in=COURSE_ADMIN_ROLES).values_list(
            "course_id", flat=True
        )
        return {str(key) for key in rows if key and not str(key).startswith(CCX_PREFIX)}

    def iter_active_enrollments_in_mode(self, mode: str, chunk_size: int) -> Iterator[list[tuple[int, int, str]]]:
        from common.djangoapps.student.models import CourseEnrollment

        # Keyset pagination: each chunk is one range query on the primary key.
        last_id = 0
        while True:
            rows = list(
                CourseEnrollment.objects.filter(mode=mode, is_active=True, id__gt=last_id)
                .order_by("id")
                .values_list("id", "user_id", "course_id")[:chunk_size]
            )
            if not rows:
                return
            last_id = rows[-1][0]
            yield [(enrollment_id, user_id, str(course_id)) for enrollment_id, user_id, course_id in rows]

    # --- course staff (CourseStaffRole) ---------------------------------------------------------

    def course_staff_user_ids(self, course_key: CourseKey, user_ids: Collection[int]) -> set[int]:
        """The users among ``user_ids`` who hold the course staff role in ``course_key`` (one query)."""
        from common.djangoapps.student.roles import CourseStaffRole

        if not user_ids:
            return set()
        staff = CourseStaffRole(_course_key(course_key)).users_with_role()
        return set(staff.filter(id__in=user_ids).values_list("id", flat=True))

    def set_course_staff(self, course_key: CourseKey, user_ids: Collection[int], *, staff: bool) -> None:
        """Grant (``staff``) or remove the course staff role through ``CourseStaffRole``."""
        from common.djangoapps.student.roles import CourseStaffRole

        if not user_ids:
            return
        key = _course_key(course_key)
        holders = self.course_staff_user_ids(key, user_ids)
        targets = [user_id for user_id in user_ids if (user_id in holders) != staff]
        if not targets:
            return
        users = list(get_user_model().objects.filter(id__in=targets).order_by("id"))
        role = CourseStaffRole(key)
        if staff:
            role.add_users(*users)
        else:
            role.remove_users(*users)

    def get_sso_identities(
        self, organization_key: str, *, student_keys: Iterable[str] = (), user_ids: Iterable[int] = ()
    ) -> list[SSOIdentityData]:
        """The ``UserSocialAuth`` rows of the organization's current SAML providers for these keys or users.

        A uid is ``<provider slug>:<student key>``; keys compare ignoring case, as in
        ``saml_user_ids``. One query for the providers, one for the identities.
        """
        from django.db.models import Q
        from social_django.models import UserSocialAuth

        keys = [key for key in student_keys if key]
        folded = {normalize_student_key(key) for key in keys}
        users = set(user_ids)
        if not folded and not users:
            return []
        providers = organization_providers(organization_key)
        if not providers:
            return []
        slugs = {provider.slug.casefold(): provider for provider in providers}
        wanted = {f"{provider.slug}:{key}".lower() for provider in providers for key in folded | set(keys)}
        rows = (
            UserSocialAuth.objects.filter(provider__in={provider.backend_name for provider in providers})
            .filter(_uids_ignoring_case(wanted) | Q(user_id__in=users))
            .order_by("id")
            .values_list("provider", "uid", "user_id")
        )
        identities = []
        for backend_name, uid, user_id in rows:
            slug, separator, remote_id = uid.partition(":")
            provider = slugs.get(slug.casefold())
            if not separator or provider is None or provider.backend_name != backend_name:
                continue
            if user_id in users or normalize_student_key(remote_id) in folded:
                identities.append(
                    SSOIdentityData(organization_key=organization_key, student_key=remote_id, user_id=user_id, uid=uid)
                )
        return identities


def _uids_ignoring_case(lowered: set[str]):
    """``UserSocialAuth`` rows whose uid is one of ``lowered`` (lower-cased), ignoring case.

    On MySQL/MariaDB, the LMS's database, the uid column compares by its collation, which
    ignores case in an Open edX installation (``utf8mb4_unicode_ci``, as Tutor sets it, as
    the platform's own ``uid__iexact`` lookups rely on); an ``IN`` then reads the
    ``(provider, uid)`` unique index. ``lower(uid)`` would read every identity of the
    provider: in an LMS with many SAML learners, the whole table on every write of new
    program enrollments. Elsewhere (the harness's PostgreSQL and SQLite, whose comparisons
    are case-sensitive) both sides are lower-cased.
    """
    from django.db import connections
    from django.db.models import Q
    from django.db.models.lookups import In
    from social_django.models import UserSocialAuth

    if connections[UserSocialAuth.objects.db].vendor == "mysql":
        return Q(uid__in=lowered)
    return Q(In(Lower("uid"), list(lowered)))


def organization_providers(organization_key: str) -> list:
    """The enabled, current SAML provider configs of an organization (one query; may be several)."""
    from common.djangoapps.third_party_auth.models import SAMLProviderConfig

    return list(
        SAMLProviderConfig.objects.current_set()
        .filter(enabled=True, organization__short_name=organization_key)
        .order_by("slug")
    )


def saml_user_ids(providers: Iterable, student_keys: Iterable[str]) -> dict[str, int]:
    """Map case-folded student keys to the users whose SAML uid ``<slug>:<key>`` matches, ignoring case.

    One query for any number of keys and providers. When several users match one
    key (the same person under two providers of the organization should be one
    user; a database may say otherwise), the identity recorded first wins, and a
    warning is logged.
    """
    from social_django.models import UserSocialAuth

    providers = list(providers)
    student_keys = [key for key in student_keys if key]
    folded = {normalize_student_key(key) for key in student_keys}
    if not providers or not folded:
        return {}
    # The database finds the candidates ignoring case (_uids_ignoring_case); casefold(), the
    # app's comparison, decides in Python (it also drops matches such as 'ß' vs 'ss').
    wanted = {f"{provider.slug}:{key}".lower() for provider in providers for key in folded}
    wanted |= {f"{provider.slug}:{key}".lower() for provider in providers for key in student_keys}
    slugs = {provider.slug.casefold(): provider for provider in providers}
    rows = (
        UserSocialAuth.objects.filter(provider__in={provider.backend_name for provider in providers})
        .filter(_uids_ignoring_case(wanted))
        .order_by("id")
        .values_list("provider", "uid", "user_id")
    )
    found: dict[str, int] = {}
    for backend_name, uid, user_id in rows:
        slug, separator, remote_id = uid.partition(":")
        provider = slugs.get(slug.casefold())
        if not separator or provider is None or provider.backend_name != backend_name:
            continue
        key = normalize_student_key(remote_id)
        if key not in folded:
            continue
        if key in found and found[key] != user_id:
            log.warning(
                "Student key %r of SAML providers %s has several users (%s, %s); keeping %s.",
                remote_id,
                ", ".join(sorted(slugs)),
                found[key],
                user_id,
                found[key],
            )
            continue
        found[key] = user_id
    return found


class OpenEdxCatalogBackend(CatalogBackend):
    """Programs from the LMS's catalog cache (filled by the ``cache_programs`` command)."""

    @classmethod
    def check(cls, **kwargs) -> list:
        """System-check errors when the platform's catalog cache cannot be reached."""
        from program_enrollments.openedx.checks import check_catalog_backend

        return check_catalog_backend()

    def get_programs(self, program_uuids: Iterable[UUID]) -> dict[UUID, ProgramData]:
        from openedx.core.djangoapps.catalog.utils import get_programs

        uuids = {uuid if isinstance(uuid, UUID) else UUID(str(uuid)) for uuid in program_uuids}
        if not uuids:
            return {}
        programs = {}
        for program in get_programs(uuids=[str(uuid) for uuid in sorted(uuids, key=str)]) or []:
            data = program_data(program)
            if data is not None and data.uuid in uuids:
                programs[data.uuid] = data
        return programs

    def get_programs_of_type(self, program_type: str) -> list[ProgramData]:
        """``get_programs_by_type`` of the current site (``SITE_ID``), as the built-in app asks for its request's."""
        from django.contrib.sites.models import Site
        from openedx.core.djangoapps.catalog.utils import get_programs_by_type

        return _unique(get_programs_by_type(Site.objects.get_current(), program_type))

    def get_programs_with_course_runs(self, course_keys: Collection[str]) -> list[ProgramData]:
        """``get_programs(course=key)`` for each course run (cache reads, no query)."""
        from openedx.core.djangoapps.catalog.utils import get_programs

        keys = sorted({str(key) for key in course_keys})
        return _unique(program for key in keys for program in get_programs(course=key))

    def get_programs_of_organizations(self, organization_keys: Collection[str]) -> list[ProgramData]:
        """``get_programs(organization=key)`` for each organization (cache reads, no query)."""
        from openedx.core.djangoapps.catalog.utils import get_programs

        return _unique(
            program for key in sorted(set(organization_keys)) for program in get_programs(organization=key) or []
        )


def _unique(programs: Iterable[dict]) -> list[ProgramData]:
    """``ProgramData`` of the catalog's program dicts, each program once, in uuid order."""
    found = {}
    for program in programs:
        data = program_data(program) if program else None
        if data is not None:
            found.setdefault(data.uuid, data)
    return [found[uuid] for uuid in sorted(found, key=str)]


def program_data(program: dict) -> ProgramData | None:
    """Map a program of the catalog cache (the discovery service's serialization) to ``ProgramData``.

    The organization is the first authoring organization's key (the built-in app's
    rule); a program without one gets the unknown organization, under which its
    learners resolve to nobody. Each curriculum keeps its course runs. The first
    active curriculum also gets what the platform's ``course_run_keys_for_program``
    adds to it: the course runs of its child programs (recursively) and those of
    the program's own ``courses`` list, so that a course run is in the program
    here exactly when the platform says so (and when several curricula are active,
    the others' runs too, the app's rule).
    """
    try:
        uuid = UUID(str(program["uuid"]))
    except (KeyError, TypeError, ValueError):
        log.warning("Ignoring a catalog program without a valid uuid: %r", program.get("uuid"))
        return None
    organizations = program.get("authoring_organizations") or []
    organization_key = (organizations[0] or {}).get("key") if organizations else None
    if not organization_key:
        log.warning("Catalog program %s has no authoring organization.", uuid)
        organization_key = UNKNOWN_ORGANIZATION
    primary = _primary_active_curriculum(program)
    curricula = []
    for curriculum in program.get("curricula") or []:
        try:
            curriculum_uuid = UUID(str(curriculum["uuid"]))
        except (KeyError, TypeError, ValueError):
            log.warning("Ignoring a curriculum without a valid uuid in catalog program %s.", uuid)
            continue
        keys = set(_course_runs(curriculum))
        if curriculum is primary:
            keys |= _course_runs(program)
            for child in _child_programs(program):
                keys |= _course_runs(child)
                child_curriculum = _primary_active_curriculum(child)
                if child_curriculum is not None:
                    keys |= _course_runs(child_curriculum)
        curricula.append(
            CurriculumData(
                uuid=curriculum_uuid,
                is_active=bool(curriculum.get("is_active")),
                name=curriculum.get("name") or "",
                course_keys=frozenset(keys),
            )
        )
    return ProgramData(
        uuid=uuid,
        organization_key=organization_key,
        title=program.get("title") or "",
        curricula=tuple(curricula),
        type=program.get("type") or "",
        marketing_slug=program.get("marketing_slug") or "",
    )


def _primary_active_curriculum(program: dict) -> dict | None:
    return next((curriculum for curriculum in program.get("curricula") or [] if curriculum.get("is_active")), None)


def _child_programs(program: dict, _seen: frozenset = frozenset()) -> list[dict]:
    """Programs nested in the first active curriculum, recursively (a cycle is cut, not followed)."""
    curriculum = _primary_active_curriculum(program)
    if curriculum is None:
        return []
    children = []
    for child in curriculum.get("programs") or []:
        marker = child.get("uuid") or id(child)
        if marker in _seen:
            continue
        children.append(child)
        children.extend(_child_programs(child, _seen | {marker}))
    return children


def _course_runs(container: dict) -> set[str]:
    return {
        run["key"]
        for course in container.get("courses") or []
        for run in course.get("course_runs") or []
        if run.get("key")
    }
