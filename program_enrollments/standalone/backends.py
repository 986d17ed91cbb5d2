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
from opaque_keys.edx.keys import CourseKey

from program_enrollments.backends.base import CatalogBackend, LMSBackend
from program_enrollments.constants import MASTERS_MODE, UPGRADABLE_MODES
from program_enrollments.data import CurriculumData, ProgramData
from program_enrollments.identity import normalize_student_key

log = logging.getLogger(__name__)


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
        rows = SSOIdentity.objects.filter(
            organization_key=organization_key, student_key_normalized__in=keys
        ).values_list("student_key_normalized", "user_id")
        return dict(rows)

    def get_user_ids(self, usernames: Iterable[str]) -> dict[str, int]:
        names = set(usernames)
        if not names:
            return {}
        return dict(get_user_model().objects.filter(username__in=names).values_list("username", "id"))

    def enroll(self, course_key: CourseKey, user_ids: Collection[int], *, active: bool = True) -> dict[int, int]:
        from program_enrollments.standalone.lms.models import CourseEnrollment

        if not user_ids:
            return {}
        existing = list(
            CourseEnrollment.objects.filter(course_id=course_key, user_id__in=user_ids).values_list(
                "id", "user_id", "mode", "is_active"
            )
        )
        ids = {user_id: enrollment_id for enrollment_id, user_id, _mode, _is_active in existing}
        missing = [user_id for user_id in user_ids if user_id not in ids]
        created = CourseEnrollment.objects.bulk_create(
            CourseEnrollment(user_id=user_id, course_id=course_key, mode=MASTERS_MODE, is_active=active)
            for user_id in missing
        )
        ids.update({enrollment.user_id: enrollment.id for enrollment in created})
        if active:
            to_upgrade = [row[0] for row in existing if row[2] in UPGRADABLE_MODES]
            to_activate = [row[0] for row in existing if not row[3]]
            for _enrollment_id, user_id, mode, _is_active in existing:
                if mode != MASTERS_MODE and mode not in UPGRADABLE_MODES:
                    log.info(
                        "Kept mode %s of user %s in %s for a program enrollment instead of %s.",
                        mode,
                        user_id,
                        course_key,
                        MASTERS_MODE,
                    )
            if to_upgrade:
                CourseEnrollment.objects.filter(id__in=to_upgrade).update(mode=MASTERS_MODE)
            if to_activate:
                CourseEnrollment.objects.filter(id__in=to_activate).update(is_active=True)
        return ids

    def deactivate(self, course_key: CourseKey, user_ids: Collection[int]) -> None:
        from program_enrollments.standalone.lms.models import CourseEnrollment

        if user_ids:
            CourseEnrollment.objects.filter(course_id=course_key, user_id__in=user_ids, is_active=True).update(
                is_active=False
            )

    def update_enrollments(self, course_key: CourseKey, changes: Mapping[int, tuple[str | None, bool | None]]) -> None:
        from program_enrollments.standalone.lms.models import CourseEnrollment

        # One UPDATE per distinct change (a handful: the former modes), not one per learner.
        by_change: dict[tuple[str | None, bool | None], list[int]] = defaultdict(list)
        for user_id, change in changes.items():
            if change != (None, None):
                by_change[change].append(user_id)
        for (mode, is_active), user_ids in by_change.items():
            values = {"mode": mode, "is_active": is_active}
            CourseEnrollment.objects.filter(course_id=course_key, user_id__in=user_ids).update(
                **{name: value for name, value in values.items() if value is not None}
            )

    def get_enrollments(self, course_key: CourseKey, user_ids: Collection[int]) -> dict[int, tuple[int, str, bool]]:
        from program_enrollments.standalone.lms.models import CourseEnrollment

        if not user_ids:
            return {}
        rows = CourseEnrollment.objects.filter(course_id=course_key, user_id__in=user_ids).values_list(
            "user_id", "id", "mode", "is_active"
        )
        return {user_id: (enrollment_id, mode, is_active) for user_id, enrollment_id, mode, is_active in rows}

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


class StandaloneCatalogBackend(CatalogBackend):
    """The program catalog stored in the standalone host's database."""

    def get_programs(self, program_uuids: Iterable[UUID]) -> dict[UUID, ProgramData]:
        from program_enrollments.standalone.catalog.models import Curriculum, Program

        uuids = set(program_uuids)
        if not uuids:
            return {}
        programs = {
            program.uuid: program
            for program in Program.objects.filter(uuid__in=uuids).select_related("authoring_organization")
        }
        course_keys: dict[int, set[str]] = {}
        through = Curriculum.course_runs.through
        for curriculum_id, key in through.objects.filter(curriculum__program__uuid__in=programs).values_list(
            "curriculum_id", "courserun__key"
        ):
            course_keys.setdefault(curriculum_id, set()).add(str(key))
        curricula: dict[UUID, list[CurriculumData]] = {}
        for curriculum in Curriculum.objects.filter(program__uuid__in=programs).select_related("program"):
            curricula.setdefault(curriculum.program.uuid, []).append(
                CurriculumData(
                    uuid=curriculum.uuid,
                    is_active=curriculum.is_active,
                    name=curriculum.name,
                    course_keys=frozenset(course_keys.get(curriculum.id, ())),
                )
            )
        return {
            uuid: ProgramData(
                uuid=uuid,
                organization_key=program.authoring_organization.key,
                title=program.title,
                curricula=tuple(curricula.get(uuid, ())),
            )
            for uuid, program in programs.items()
        }
