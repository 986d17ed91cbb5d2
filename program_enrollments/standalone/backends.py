"""Backends of the standalone host (``program_enrollments.standalone``).

The reference implementation of the host interface: the LMS's course
enrollments and SSO identities and the program catalog all live in the same
database as the app.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping
from uuid import UUID

from django.contrib.auth import get_user_model
from django.utils import timezone
from opaque_keys.edx.keys import CourseKey

from program_enrollments.backends.base import CatalogBackend, LMSBackend
from program_enrollments.constants import MASTERS_MODE, UPGRADABLE_MODES
from program_enrollments.data import (
    CourseGradeData,
    CourseRunOverviewData,
    CurriculumData,
    ProgramData,
    SSOIdentityData,
)
from program_enrollments.identity import normalize_student_key

log = logging.getLogger(__name__)

# The role Open edX's ``CourseStaffRole`` grants (``student.roles.CourseStaffRole.ROLE``).
COURSE_STAFF_ROLE = "staff"
# The roles whose holders administer a course run (Open edX's CourseStaffRole and CourseInstructorRole).
COURSE_ADMIN_ROLES = (COURSE_STAFF_ROLE, "instructor")


def _sql():
    """The write path's SQL helpers (imported late: the core's API package imports the backends)."""
    from program_enrollments.api import _sql as sql

    return sql


def _key(course_key) -> CourseKey:
    return course_key if isinstance(course_key, CourseKey) else CourseKey.from_string(str(course_key))


class StandaloneLMSBackend(LMSBackend):
    """Course enrollments and SSO identities of the standalone host."""

    def course_exists(self, course_key: CourseKey) -> bool:
        from program_enrollments.standalone.catalog.models import CourseRun

        return CourseRun.objects.filter(key=course_key).exists()

    def resolve_users(self, organization_key: str, student_keys: Iterable[str]) -> dict[str, int]:
        from program_enrollments.standalone.lms.models import SSOIdentity

        keys = {normalize_student_key(key) for key in student_keys}
        if not keys:
            return {}
        condition, params = _sql().in_list(_sql().column(SSOIdentity, "student_key_normalized"), list(keys), "text")
        return dict(
            _sql().fetch(
                f"SELECT {_sql().columns(SSOIdentity, ['student_key_normalized', 'user'])} "
                f"FROM {_sql().table(SSOIdentity)} WHERE {_sql().column(SSOIdentity, 'organization_key')} = %s "
                f"AND {condition}",
                [organization_key, *params],
            )
        )

    def get_user_ids(self, usernames: Iterable[str]) -> dict[str, int]:
        names = set(usernames)
        if not names:
            return {}
        return dict(get_user_model().objects.filter(username__in=names).values_list("username", "id"))

    def enroll(self, course_key: CourseKey, user_ids: Collection[int], *, active: bool = True) -> dict[int, int]:
        """Set-wise: one read, one multi-row insert of the missing ones, one update per change of the others."""
        return self.enroll_from(course_key, user_ids, active=active)[1]

    def enroll_from(
        self, course_key: CourseKey, user_ids: Collection[int], *, active: bool = True
    ) -> tuple[dict[int, tuple[int, str, bool]], dict[int, int]]:
        """``enroll``, with the state before taken from the read it makes anyway."""
        from program_enrollments.standalone.lms.models import CourseEnrollment

        if not user_ids:
            return {}, {}
        sql = _sql()
        existing = self._enrollment_rows(course_key, user_ids)
        before = {user_id: (enrollment_id, mode, is_active) for user_id, enrollment_id, mode, is_active in existing}
        ids = {user_id: enrollment_id for user_id, enrollment_id, _mode, _is_active in existing}
        missing = [user_id for user_id in user_ids if user_id not in ids]
        if missing:
            now = sql.timestamp(timezone.now())
            course = str(course_key)
            created = sql.insert(
                CourseEnrollment,
                ["created", "modified", "user", "course_id", "mode", "is_active"],
                [(now, now, user_id, course, MASTERS_MODE, active) for user_id in missing],
                [sql.TIMESTAMP, sql.TIMESTAMP, sql.BIGINT, sql.TEXT, sql.TEXT, sql.BOOLEAN],
                returning=("id", "user"),
                lookup=lambda: [(row[1], row[0]) for row in self._enrollment_rows(course_key, missing)],
            )
            ids.update({user_id: enrollment_id for enrollment_id, user_id in created})
        if active:
            to_upgrade = [row[1] for row in existing if row[2] in UPGRADABLE_MODES]
            to_activate = [row[1] for row in existing if not row[3]]
            for user_id, _enrollment_id, mode, _is_active in existing:
                if mode != MASTERS_MODE and mode not in UPGRADABLE_MODES:
                    log.info(
                        "Kept mode %s of user %s in %s for a program enrollment instead of %s.",
                        mode,
                        user_id,
                        course_key,
                        MASTERS_MODE,
                    )
            sql.update_ids(CourseEnrollment, {"mode": MASTERS_MODE}, to_upgrade)
            sql.update_ids(CourseEnrollment, {"is_active": True}, to_activate)
        return before, ids

    def _enrollment_rows(self, course_key, user_ids) -> list[tuple[int, int, str, bool]]:
        """``(user id, id, mode, is_active)`` of the users' course enrollments in ``course_key``: one query."""
        from program_enrollments.standalone.lms.models import CourseEnrollment

        sql = _sql()
        condition, params = sql.in_list(sql.column(CourseEnrollment, "user"), list(user_ids), sql.BIGINT)
        rows = sql.fetch(
            f"SELECT {sql.columns(CourseEnrollment, ['user', 'id', 'mode', 'is_active'])} "
            f"FROM {sql.table(CourseEnrollment)} "
            f"WHERE {sql.column(CourseEnrollment, 'course_id')} = %s AND {condition}",
            [str(course_key), *params],
        )
        return [(user_id, enrollment_id, mode, bool(is_active)) for user_id, enrollment_id, mode, is_active in rows]

    def deactivate(self, course_key: CourseKey, user_ids: Collection[int]) -> None:
        from program_enrollments.standalone.lms.models import CourseEnrollment

        if user_ids:
            sql = _sql()
            condition, params = sql.in_list(sql.column(CourseEnrollment, "user"), list(user_ids), sql.BIGINT)
            sql.execute(
                f"UPDATE {sql.table(CourseEnrollment)} SET {sql.column(CourseEnrollment, 'is_active')} = %s "
                f"WHERE {sql.column(CourseEnrollment, 'course_id')} = %s AND {condition} "
                f"AND {sql.column(CourseEnrollment, 'is_active')} = %s",
                [False, str(course_key), *params, True],
            )

    def update_enrollments(self, course_key: CourseKey, changes: Mapping[int, tuple[str | None, bool | None]]) -> None:
        from program_enrollments.standalone.lms.models import CourseEnrollment

        # One UPDATE per distinct change (a handful: the former modes), not one per learner.
        by_change: dict[tuple[str | None, bool | None], list[int]] = defaultdict(list)
        for user_id, change in changes.items():
            if change != (None, None):
                by_change[change].append(user_id)
        sql = _sql()
        for (mode, is_active), user_ids in by_change.items():
            values = {name: value for name, value in (("mode", mode), ("is_active", is_active)) if value is not None}
            assignments = ", ".join(f"{sql.column(CourseEnrollment, name)} = %s" for name in values)
            condition, params = sql.in_list(sql.column(CourseEnrollment, "user"), user_ids, sql.BIGINT)
            sql.execute(
                f"UPDATE {sql.table(CourseEnrollment)} SET {assignments} "
                f"WHERE {sql.column(CourseEnrollment, 'course_id')} = %s AND {condition}",
                [*values.values(), str(course_key), *params],
            )

    def course_staff_user_ids(self, course_key: CourseKey, user_ids: Collection[int]) -> set[int]:
        from program_enrollments.standalone.lms.models import CourseAccessRole

        if not user_ids:
            return set()
        return set(
            CourseAccessRole.objects.filter(
                course_id=course_key, role=COURSE_STAFF_ROLE, user_id__in=user_ids
            ).values_list("user_id", flat=True)
        )

    def set_course_staff(self, course_key: CourseKey, user_ids: Collection[int], *, staff: bool) -> None:
        from program_enrollments.standalone.lms.models import CourseAccessRole

        if not user_ids:
            return
        if not staff:
            CourseAccessRole.objects.filter(course_id=course_key, role=COURSE_STAFF_ROLE, user_id__in=user_ids).delete()
            return
        holders = self.course_staff_user_ids(course_key, user_ids)
        CourseAccessRole.objects.bulk_create(
            CourseAccessRole(
                user_id=user_id, course_id=course_key, org=getattr(course_key, "org", ""), role=COURSE_STAFF_ROLE
            )
            for user_id in sorted(set(user_ids) - holders)
        )

    def get_course_grades(self, course_key: CourseKey, user_ids: Collection[int]) -> dict[int, CourseGradeData | str]:
        from program_enrollments.standalone.lms.models import CourseGrade

        grades: dict[int, CourseGradeData | str] = {
            user_id: CourseGradeData(percent=0.0, passed=False) for user_id in user_ids
        }
        if user_ids:
            for user_id, percent, letter_grade, passed in CourseGrade.objects.filter(
                course_id=course_key, user_id__in=user_ids
            ).values_list("user_id", "percent", "letter_grade", "passed"):
                grades[user_id] = CourseGradeData(percent=percent, passed=passed, letter_grade=letter_grade or None)
        return grades

    def get_enrollments(self, course_key: CourseKey, user_ids: Collection[int]) -> dict[int, tuple[int, str, bool]]:

        if not user_ids:
            return {}
        return {
            user_id: (enrollment_id, mode, is_active)
            for user_id, enrollment_id, mode, is_active in self._enrollment_rows(course_key, user_ids)
        }

    def get_user_course_enrollments(
        self, user_id: int, course_keys: Collection[str], *, modes: Collection[str]
    ) -> list[tuple[int, str]]:
        from program_enrollments.standalone.lms.models import CourseEnrollment

        if not course_keys or not modes:
            return []
        rows = (
            CourseEnrollment.objects.filter(
                user_id=user_id, course_id__in=[_key(key) for key in course_keys], mode__in=modes, is_active=True
            )
            .order_by("id")
            .values_list("id", "course_id")
        )
        return [(enrollment_id, str(course_id)) for enrollment_id, course_id in rows]

    def get_course_run_overviews(self, course_keys: Collection[str], user_id: int) -> dict[str, CourseRunOverviewData]:
        """The catalog's course runs, with a passing ``CourseGrade`` standing for a passing certificate.

        The standalone host serves no courseware: the course URL is the
        ``PROGRAM_ENROLLMENTS_STANDALONE_COURSE_URL`` template (``{course_key}``), there is no
        resume URL, no bulk email, no due date and no certificate to download.
        Two queries whatever the number of course runs.
        """
        from django.conf import settings

        from program_enrollments.standalone.catalog.models import CourseRun
        from program_enrollments.standalone.lms.models import CourseGrade

        keys = [_key(key) for key in course_keys]
        if not keys:
            return {}
        passed = {
            str(course_id): created
            for course_id, created in CourseGrade.objects.filter(
                user_id=user_id, course_id__in=keys, passed=True
            ).values_list("course_id", "created")
        }
        template = getattr(settings, "PROGRAM_ENROLLMENTS_STANDALONE_COURSE_URL", "/courses/{course_key}/")
        overviews = {}
        for run in CourseRun.objects.filter(key__in=keys):
            key = str(run.key)
            overviews[key] = CourseRunOverviewData(
                course_key=key,
                display_name=run.title or key,
                course_run_url=template.format(course_key=key),
                start=run.start,
                end=run.end,
                self_paced=run.self_paced,
                certificate_passing=key in passed,
                certificate_created=passed.get(key),
            )
        return overviews

    def get_courses_with_staff_role(self, user_id: int) -> set[str]:
        from program_enrollments.standalone.lms.models import CourseAccessRole

        rows = CourseAccessRole.objects.filter(user_id=user_id, role__in=COURSE_ADMIN_ROLES).values_list(
            "course_id", flat=True
        )
        return {str(course_id) for course_id in rows if course_id}

    def iter_active_enrollments_in_mode(self, mode: str, chunk_size: int) -> Iterator[list[tuple[int, int, str]]]:
        from program_enrollments.standalone.lms.models import CourseEnrollment

        # Keyset pagination: each chunk is one indexed range query, however far the scan has gone.
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

    def current_token_claims(self, claims: dict) -> dict:
        """A token of the host's token endpoint is judged by its application's current access entry."""
        from program_enrollments.standalone.oauth.standing import current_claims

        return current_claims(claims)

    def get_sso_identities(
        self, organization_key: str, *, student_keys: Iterable[str] = (), user_ids: Iterable[int] = ()
    ) -> list[SSOIdentityData]:
        """The ``SSOIdentity`` rows of the organization; the uid is the student key as recorded."""
        from django.db.models import Q

        from program_enrollments.standalone.lms.models import SSOIdentity

        keys = {normalize_student_key(key) for key in student_keys if key}
        users = set(user_ids)
        if not keys and not users:
            return []
        rows = (
            SSOIdentity.objects.filter(organization_key=organization_key)
            .filter(Q(student_key_normalized__in=keys) | Q(user_id__in=users))
            .order_by("id")
            .values_list("student_key", "user_id")
        )
        return [
            SSOIdentityData(organization_key=organization_key, student_key=key, user_id=user_id, uid=key)
            for key, user_id in rows
        ]


class StandaloneCatalogBackend(CatalogBackend):
    """The program catalog stored in the standalone host's database."""

    def get_programs(self, program_uuids: Iterable[UUID]) -> dict[UUID, ProgramData]:
        """One query: each program with its organization, curricula (in id order) and their course runs."""
        from program_enrollments.standalone.catalog.models import Program

        uuids = set(program_uuids)
        if not uuids:
            return {}
        rows = (
            Program.objects.filter(uuid__in=uuids)
            .order_by("id", "curricula__id")
            .values_list(
                "uuid",
                "title",
                "type",
                "marketing_slug",
                "authoring_organization__key",
                "curricula__uuid",
                "curricula__is_active",
                "curricula__name",
                "curricula__course_runs__key",
            )
        )
        programs: dict[UUID, tuple] = {}
        # Curricula by program, in order: uuid -> (is_active, name, course keys).
        curricula: dict[UUID, dict[UUID, tuple[bool, str, set[str]]]] = {}
        for uuid, title, kind, slug, organization, curriculum, is_active, name, course_key in rows:
            programs.setdefault(uuid, (title, kind, slug, organization))
            by_uuid = curricula.setdefault(uuid, {})
            if curriculum is not None:
                keys = by_uuid.setdefault(curriculum, (is_active, name, set()))[2]
                if course_key is not None:
                    keys.add(str(course_key))
        return {
            uuid: ProgramData(
                uuid=uuid,
                organization_key=organization,
                title=title,
                curricula=tuple(
                    CurriculumData(uuid=curriculum, is_active=is_active, name=name, course_keys=frozenset(keys))
                    for curriculum, (is_active, name, keys) in curricula[uuid].items()
                ),
                type=kind,
                marketing_slug=slug,
            )
            for uuid, (title, kind, slug, organization) in programs.items()
        }

    def get_programs_of_type(self, program_type: str) -> list[ProgramData]:
        from program_enrollments.standalone.catalog.models import Program

        uuids = Program.objects.filter(type__iexact=program_type).values_list("uuid", flat=True)
        return self._in_order(uuids)

    def get_programs_with_course_runs(self, course_keys: Collection[str]) -> list[ProgramData]:
        from program_enrollments.standalone.catalog.models import Program

        keys = [_key(key) for key in course_keys]
        if not keys:
            return []
        # Course runs of active curricula only: those are the program's (ProgramData.course_keys).
        uuids = Program.objects.filter(curricula__is_active=True, curricula__course_runs__key__in=keys).values_list(
            "uuid", flat=True
        )
        return self._in_order(uuids)

    def get_programs_of_organizations(self, organization_keys: Collection[str]) -> list[ProgramData]:
        from program_enrollments.standalone.catalog.models import Program

        if not organization_keys:
            return []
        uuids = Program.objects.filter(authoring_organization__key__in=set(organization_keys)).values_list(
            "uuid", flat=True
        )
        return self._in_order(uuids)

    def _in_order(self, uuids) -> list[ProgramData]:
        programs = self.get_programs(set(uuids))
        return [programs[uuid] for uuid in sorted(programs, key=str)]
