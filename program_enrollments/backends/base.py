"""The interface between the app and its host.

Every method works on sets (a course and many users, many programs) so that a
bulk write costs a fixed number of round trips whatever its size.
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Iterable, Iterator, Mapping
from uuid import UUID

from opaque_keys.edx.keys import CourseKey

from program_enrollments.data import CourseGradeData, CourseRunOverviewData, ProgramData, SSOIdentityData


class _Checked:
    @classmethod
    def check(cls, **kwargs) -> list:
        """System check messages about what this backend needs from its host (none by default).

        The app's system checks call it at start-up (``manage.py check``, ``migrate``), so a
        backend that cannot reach its host fails there rather than at the first request.
        """
        return []


class LMSBackend(_Checked, abc.ABC):
    """What the app needs from the host LMS: courses, users and course enrollments."""

    @abc.abstractmethod
    def course_exists(self, course_key: CourseKey) -> bool:
        """Whether the LMS has this course run."""

    @abc.abstractmethod
    def resolve_users(self, organization_key: str, student_keys: Iterable[str]) -> dict[str, int]:
        """Map case-folded student keys of ``organization_key`` to the ids of their LMS users.

        Keys with no SSO identity are absent from the result.
        """

    @abc.abstractmethod
    def get_user_ids(self, usernames: Iterable[str]) -> dict[str, int]:
        """Map usernames to user ids; unknown usernames are absent from the result."""

    @abc.abstractmethod
    def enroll(self, course_key: CourseKey, user_ids: Collection[int], *, active: bool = True) -> dict[int, int]:
        """Make sure each user has a course enrollment in ``course_key``; return their ids by user id.

        A missing enrollment is created in masters mode, active or not as asked.
        With ``active``, an existing enrollment is activated and an ``audit`` or
        ``honor`` one is upgraded to masters; other modes (paid ones) are kept.
        Without ``active``, existing enrollments are left as they are.
        """

    def enroll_from(
        self, course_key: CourseKey, user_ids: Collection[int], *, active: bool = True
    ) -> tuple[dict[int, tuple[int, str, bool]], dict[int, int]]:
        """``enroll``, returning also the users' course enrollments before it (as ``get_enrollments`` gives them).

        The default reads them with ``get_enrollments`` first; a backend that reads them
        anyway to enroll can return what it read instead.
        """
        before = self.get_enrollments(course_key, user_ids)
        return before, self.enroll(course_key, user_ids, active=active)

    @abc.abstractmethod
    def deactivate(self, course_key: CourseKey, user_ids: Collection[int]) -> None:
        """Deactivate the course enrollments of ``user_ids`` in ``course_key``."""

    @abc.abstractmethod
    def update_enrollments(self, course_key: CourseKey, changes: Mapping[int, tuple[str | None, bool | None]]) -> None:
        """Give the users' existing course enrollments in ``course_key`` a mode and/or activity.

        ``changes`` maps a user id to ``(mode, is_active)``; None keeps that part
        as it is. Used to give back what a program changed (its former mode, its
        former inactivity) when the program's access is taken away.
        """

    @abc.abstractmethod
    def get_enrollments(self, course_key: CourseKey, user_ids: Collection[int]) -> dict[int, tuple[int, str, bool]]:
        """Return the users' course enrollments in ``course_key`` as ``(id, mode, is_active)`` by user id.

        Users with no course enrollment in ``course_key`` are absent from the result.
        """

    @abc.abstractmethod
    def course_staff_user_ids(self, course_key: CourseKey, user_ids: Collection[int]) -> set[int]:
        """The users among ``user_ids`` who hold the course staff role in ``course_key``."""

    @abc.abstractmethod
    def set_course_staff(self, course_key: CourseKey, user_ids: Collection[int], *, staff: bool) -> None:
        """Grant (``staff``) or remove the users' course staff role in ``course_key``; safe to repeat."""

    @abc.abstractmethod
    def get_course_grades(self, course_key: CourseKey, user_ids: Collection[int]) -> dict[int, CourseGradeData | str]:
        """The users' grades in ``course_key``, by user id: the grade, or why it could not be computed.

        Every user gets an entry (a learner without progress has a zero grade). Set-wise:
        one call reads a page of learners' grades.
        """

    @abc.abstractmethod
    def get_user_course_enrollments(
        self, user_id: int, course_keys: Collection[str], *, modes: Collection[str]
    ) -> list[tuple[int, str]]:
        """The user's active course enrollments in ``course_keys`` whose mode is one of ``modes``.

        ``(id, course key)`` pairs in id order (the learner's program pages page on the id).
        """

    @abc.abstractmethod
    def get_course_run_overviews(self, course_keys: Collection[str], user_id: int) -> dict[str, CourseRunOverviewData]:
        """What the LMS shows ``user_id`` of each course run: titles, dates, URLs, certificate, by course key.

        Course runs the LMS does not know are absent. Set-wise: one call serves a page.
        """

    @abc.abstractmethod
    def get_courses_with_staff_role(self, user_id: int) -> set[str]:
        """The course runs in which the user holds the course ``staff`` or ``instructor`` role."""

    @abc.abstractmethod
    def iter_active_enrollments_in_mode(self, mode: str, chunk_size: int) -> Iterator[list[tuple[int, int, str]]]:
        """Yield the active course enrollments in ``mode`` as ``(id, user_id, course_key)``.

        Lists of at most ``chunk_size`` enrollments, in id order, so that a scan
        of every enrollment holds one chunk in memory at a time.
        """

    def current_token_claims(self, claims: dict) -> dict:
        """The claims of a decoded JWT as the host judges them at this request.

        A host that knows the application a token was issued to returns that application's
        current claims (``is_restricted``, ``scopes``, ``filters``) in place of the token's,
        so that taking access away works before the token expires. The default trusts the
        token. A host that refuses the token altogether does so in its authentication class.
        """
        return claims

    @abc.abstractmethod
    def get_sso_identities(
        self, organization_key: str, *, student_keys: Iterable[str] = (), user_ids: Iterable[int] = ()
    ) -> list[SSOIdentityData]:
        """The organization's SSO identities of the given student keys (any case) and of the given users.

        What support staff look at to tell which account a student key signs in to. An
        identity matches when its key is one of ``student_keys`` (compared ignoring case, as
        ``resolve_users`` does) or its user is one of ``user_ids``; each is listed once.
        An organization without SSO has none.
        """


class CatalogBackend(_Checked, abc.ABC):
    """What the app needs from the program catalog."""

    @abc.abstractmethod
    def get_programs(self, program_uuids: Iterable[UUID]) -> dict[UUID, ProgramData]:
        """Return the known programs among ``program_uuids``, by uuid."""

    def get_program(self, program_uuid: UUID | str) -> ProgramData | None:
        """Return one program, or None when the catalog does not know it."""
        uuid = program_uuid if isinstance(program_uuid, UUID) else UUID(str(program_uuid))
        return self.get_programs([uuid]).get(uuid)

    @abc.abstractmethod
    def get_programs_of_type(self, program_type: str) -> list[ProgramData]:
        """The programs whose type is ``program_type``, compared ignoring case (``masters``, ``MicroMasters``)."""

    @abc.abstractmethod
    def get_programs_with_course_runs(self, course_keys: Collection[str]) -> list[ProgramData]:
        """The programs that contain at least one of ``course_keys``."""

    @abc.abstractmethod
    def get_programs_of_organizations(self, organization_keys: Collection[str]) -> list[ProgramData]:
        """The programs authored by the organizations of ``organization_keys``."""
