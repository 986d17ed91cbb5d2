"""Linking waiting program enrollments to LMS users.

Linking changes a learner's identity from (organization, student key) to the
user, so it re-applies the one-active rule: when the learner ends up active in
one course through two programs, the enrollment activated first stays active
and the other is made inactive, with the reason kept in its history.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping
from uuid import UUID

from django.contrib.auth import get_user_model
from django.utils import timezone
from opaque_keys.edx.keys import CourseKey

from program_enrollments.api import _batches, _course_access, _course_staff, _history, _sql
from program_enrollments.api._validation import as_student_key, as_uuid
from program_enrollments.backends import lms_backend
from program_enrollments.constants import ProgramCourseEnrollmentStatus
from program_enrollments.data import LinkOutcome
from program_enrollments.identity import learner_ref, normalize_student_key, user_ref
from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment

log = logging.getLogger(__name__)

PE = ProgramEnrollment
PCE = ProgramCourseEnrollment

ACTIVE = ProgramCourseEnrollmentStatus.ACTIVE
INACTIVE = ProgramCourseEnrollmentStatus.INACTIVE

NO_PROGRAM_ENROLLMENT_TEMPLATE = (
    "No program enrollment found for program uuid={program_uuid} and external student key={external_user_key}"
)
NO_LMS_USER_TEMPLATE = "No user found with username {}"
EXISTING_USER_TEMPLATE = (
    "Program enrollment with external_student_key={external_user_key} is already linked to "
    "{account_relation} account username={username}"
)
USER_IN_PROGRAM_TEMPLATE = (
    "User with username={username} is already enrolled in program uuid={program_uuid} under another student key"
)
LINK_ERROR_TEMPLATE = "Could not link external student key={external_user_key} to username={username}"


def link_program_enrollments(
    *, program_uuid: UUID | str, usernames_by_student_key: Mapping[str, str], actor=None
) -> dict[str, LinkOutcome]:
    """Link the program's enrollments of the given student keys to the users with the given usernames.

    Student keys compare ignoring case. A learner that cannot be linked (no such
    user, no such enrollment, already linked, the user already in the program)
    gets an outcome with ``error`` set and is left unchanged; the others are
    linked. A learner whose linking fails unexpectedly is rolled back alone.

    Returns an outcome per student key, in the order given.

    Raises:
        InvalidRequest: a malformed uuid or student key.
    """
    uuid = as_uuid(program_uuid, name="program_uuid")
    requested = {as_student_key(key): username for key, username in usernames_by_student_key.items()}
    users = lms_backend().get_user_ids(requested.values())
    enrollments = _enrollments_with_usernames(uuid, {normalize_student_key(key) for key in requested})
    in_program = _users_in_program(uuid, set(users.values()))
    outcomes: dict[str, LinkOutcome] = {}
    to_link: list[tuple[str, str, int]] = []
    for key, username in requested.items():
        enrollment = enrollments.get(normalize_student_key(key))
        user_id = users.get(username)
        error = ""
        if user_id is None:
            error = NO_LMS_USER_TEMPLATE.format(username)
        elif enrollment is None:
            error = NO_PROGRAM_ENROLLMENT_TEMPLATE.format(program_uuid=uuid, external_user_key=key)
        elif enrollment.user_id is not None:
            error = EXISTING_USER_TEMPLATE.format(
                external_user_key=enrollment.external_user_key,
                account_relation="target" if enrollment.user_id == user_id else "a different",
                username=enrollment.username,
            )
        elif user_id in in_program:
            error = USER_IN_PROGRAM_TEMPLATE.format(username=username, program_uuid=uuid)
        if error:
            log.info(error)
            outcomes[key] = LinkOutcome(student_key=key, username=username, error=error)
        else:
            to_link.append((key, username, user_id))

    def apply(chunk: list[tuple[str, str, int]]) -> dict[str, LinkOutcome]:
        folded = [normalize_student_key(key) for key, _, _ in chunk]
        condition, params = _sql.in_list(_sql.column(PE, "external_user_key_normalized"), folded, _sql.TEXT)
        locked = {
            key: _Waiting(enrollment_id)
            for enrollment_id, key in _sql.fetch(
                f"SELECT {_sql.columns(PE, ['id', 'external_user_key_normalized'])} FROM {_sql.table(PE)} "
                f"WHERE {_sql.column(PE, 'program_uuid')} = %s AND {condition} AND {_sql.column(PE, 'user')} IS NULL "
                f"ORDER BY {_sql.column(PE, 'id')}{_sql.for_update()}",
                [_sql.prep(PE, "program_uuid", uuid), *params],
            )
        }
        pairs = [(locked[normalize_student_key(key)], user_id) for key, _, user_id in chunk]
        deactivated = _link(pairs, actor=actor)
        return {
            key: LinkOutcome(
                student_key=key,
                username=username,
                deactivated_courses=deactivated.get(locked[normalize_student_key(key)].id, ()),
            )
            for key, username, _ in chunk
        }

    def on_failure(entry: tuple[str, str, int]) -> dict[str, LinkOutcome]:
        key, username, _ = entry
        return {
            key: LinkOutcome(
                student_key=key,
                username=username,
                error=LINK_ERROR_TEMPLATE.format(external_user_key=key, username=username),
            )
        }

    from program_enrollments import conf

    outcomes.update(
        _batches.run_in_chunks(to_link, size=conf.get("WRITE_CHUNK_SIZE"), apply=apply, on_failure=on_failure)
    )
    return {key: outcomes[key] for key in requested}


class _Waiting:
    """A locked waiting program enrollment, as linking changes it (``_link`` sets the new identity)."""

    __slots__ = ("id", "user_id", "learner_ref", "modified")

    def __init__(self, enrollment_id):
        self.id = enrollment_id


class _Found:
    """What linking checks of a program enrollment before linking it."""

    __slots__ = ("user_id", "external_user_key", "username")

    def __init__(self, user_id, external_user_key, username):
        self.user_id = user_id
        self.external_user_key = external_user_key
        self.username = username


def _enrollments_with_usernames(program_uuid: UUID, folded_keys: set[str]) -> dict[str, _Found]:
    """The program's enrollments of the folded keys, with their user's username: one query."""
    if not folded_keys:
        return {}
    user_model = get_user_model()
    users = _sql.table(user_model)
    condition, params = _sql.in_list(
        f"e.{_sql.column(PE, 'external_user_key_normalized')}", list(folded_keys), _sql.TEXT
    )
    rows = _sql.fetch(
        f"SELECT e.{_sql.column(PE, 'external_user_key_normalized')}, e.{_sql.column(PE, 'user')}, "
        f"e.{_sql.column(PE, 'external_user_key')}, u.{_sql.column(user_model, 'username')} "
        f"FROM {_sql.table(PE)} e LEFT JOIN {users} u "
        f"ON u.{_sql.column(user_model, 'id')} = e.{_sql.column(PE, 'user')} "
        f"WHERE e.{_sql.column(PE, 'program_uuid')} = %s AND {condition}",
        [_sql.prep(PE, "program_uuid", program_uuid), *params],
    )
    return {folded: _Found(user_id, key, username) for folded, user_id, key, username in rows}


def _users_in_program(program_uuid: UUID, user_ids: set[int]) -> set[int]:
    if not user_ids:
        return set()
    condition, params = _sql.in_list(_sql.column(PE, "user"), list(user_ids), _sql.BIGINT)
    return {
        user_id
        for (user_id,) in _sql.fetch(
            f"SELECT {_sql.column(PE, 'user')} FROM {_sql.table(PE)} WHERE {_sql.column(PE, 'program_uuid')} = %s "
            f"AND {condition}",
            [_sql.prep(PE, "program_uuid", program_uuid), *params],
        )
    }


def link_waiting_program_enrollments(*, organization_key: str, student_key: str, user, actor=None) -> list[LinkOutcome]:
    """Link every waiting enrollment of (organization, student key) to ``user``, in every program.

    Called when the host learns a learner's SSO identity. A program where the
    user is already enrolled under another key is left alone and reported.

    Returns one outcome per waiting enrollment found.

    Raises:
        InvalidRequest: a malformed student key.
    """
    key = as_student_key(student_key)
    ref = learner_ref(user_id=None, organization_key=organization_key, student_key=key)

    def apply(_chunk) -> dict[str, LinkOutcome]:
        waiting = list(
            ProgramEnrollment.objects.select_for_update().filter(learner_ref=ref, user__isnull=True).order_by("id")
        )
        in_programs = set(
            ProgramEnrollment.objects.filter(user=user, program_uuid__in=[e.program_uuid for e in waiting]).values_list(
                "program_uuid", flat=True
            )
        )
        linkable = [enrollment for enrollment in waiting if enrollment.program_uuid not in in_programs]
        deactivated = _link([(enrollment, user.pk) for enrollment in linkable], actor=actor)
        outcomes = {}
        for enrollment in waiting:
            error = ""
            if enrollment.program_uuid in in_programs:
                error = USER_IN_PROGRAM_TEMPLATE.format(
                    username=user.get_username(), program_uuid=enrollment.program_uuid
                )
                log.info(error)
            outcomes[str(enrollment.id)] = LinkOutcome(
                student_key=enrollment.external_user_key,
                username=user.get_username(),
                error=error,
                deactivated_courses=deactivated.get(enrollment.id, ()),
            )
        return outcomes

    def on_failure(_item) -> dict[str, LinkOutcome]:
        return {
            "": LinkOutcome(
                student_key=key,
                username=user.get_username(),
                error=LINK_ERROR_TEMPLATE.format(external_user_key=key, username=user.get_username()),
            )
        }

    return list(_batches.run_chunk([key], apply=apply, on_failure=on_failure).values())


def link_locked(pairs: list[tuple[ProgramEnrollment, int]], *, actor) -> dict[int, tuple[str, ...]]:
    """Link program enrollments the caller locked (``select_for_update``) to users, in its transaction.

    For the other writers of this package (a transfer links the target it proves to be the
    learner's). Returns the courses deactivated by the one-active rule, by enrollment id.
    """
    return _link(pairs, actor=actor)


class _LinkedRow:
    """What linking reads and changes of a program course enrollment (attnames of the model's fields).

    ``_course_access.record`` changes it, ``_course_staff.apply_pending`` and relinking's give-back read
    it, as they would a model instance.
    """

    __slots__ = (
        "id",
        "program_enrollment_id",
        "course_key",
        "status",
        "course_staff",
        "course_enrollment_id",
        "access_grant",
        "prior_mode",
        "prior_is_active",
        "learner_ref",
        "created",
    )

    def __init__(self, values):
        for name, value in zip(self.__slots__, values, strict=True):
            setattr(self, name, value)
        self.course_staff = bool(self.course_staff)
        self.prior_is_active = _sql.as_bool(self.prior_is_active)
        self.created = _sql.as_datetime(self.created)


# The columns of ``_LinkedRow``, in its order.
_LINKED_ROW_COLUMNS = [
    "id",
    "program_enrollment",
    "course_key",
    "status",
    "course_staff",
    "course_enrollment",
    "access_grant",
    "prior_mode",
    "prior_is_active",
    "learner_ref",
    "created",
]


def read_course_rows(condition: str, params: list) -> list[_LinkedRow]:
    """The program course enrollments matching ``condition`` (SQL on the table), in id order, locked."""
    course_keys: dict[str, CourseKey] = {}
    rows = []
    for values in _sql.fetch(
        f"SELECT {_sql.columns(PCE, _LINKED_ROW_COLUMNS)} FROM {_sql.table(PCE)} WHERE {condition} "
        f"ORDER BY {_sql.column(PCE, 'id')}{_sql.for_update()}",
        params,
    ):
        row = _LinkedRow(values)
        key = course_keys.get(row.course_key)
        if key is None:
            key = course_keys[row.course_key] = CourseKey.from_string(row.course_key)
        row.course_key = key
        rows.append(row)
    return rows


def rows_of_enrollments(enrollment_ids) -> list[_LinkedRow]:
    """Every program course enrollment of the program enrollments, in id order, locked."""
    condition, params = _sql.in_list(_sql.column(PCE, "program_enrollment"), list(enrollment_ids), _sql.BIGINT)
    return read_course_rows(condition, params)


def _link(pairs: list[tuple[ProgramEnrollment, int]], *, actor) -> dict[int, tuple[str, ...]]:
    """Link locked waiting enrollments to users; return the courses deactivated, by enrollment id.

    Runs inside the caller's transaction; a fixed number of queries plus two
    backend calls per distinct course run. A program enrollment's own
    ``_change_reason`` is the reason of its history row.
    """
    if not pairs:
        return {}
    now = timezone.now()
    stamp = _sql.timestamp(now)
    new_refs = {enrollment.id: user_ref(user_id) for enrollment, user_id in pairs}
    course_rows = rows_of_enrollments(new_refs)
    active_keys = {str(row.course_key) for row in course_rows if row.status == ACTIVE}
    rivals = []
    if active_keys:
        refs, ref_params = _sql.in_list(_sql.column(PCE, "active_learner_ref"), list(set(new_refs.values())), _sql.TEXT)
        courses, course_params = _sql.in_list(_sql.column(PCE, "course_key"), sorted(active_keys), _sql.TEXT)
        mine, mine_params = _sql.in_list(_sql.column(PCE, "program_enrollment"), list(new_refs), _sql.BIGINT)
        rivals = read_course_rows(f"{refs} AND {courses} AND NOT ({mine})", [*ref_params, *course_params, *mine_params])

    # Group every row that will be active under one (user, course) after linking.
    contenders: dict[tuple[str, str], list[_LinkedRow]] = defaultdict(list)
    for row in course_rows:
        if row.status == ACTIVE:
            contenders[(new_refs[row.program_enrollment_id], str(row.course_key))].append(row)
    for row in rivals:
        contenders[(row.learner_ref, str(row.course_key))].append(row)
    clashes = {slot: rows for slot, rows in contenders.items() if len(rows) > 1}
    losers: list[_LinkedRow] = []
    if clashes:
        activated = _activation_times([row.id for rows in clashes.values() for row in rows])
        reasons = {}
        for rows in clashes.values():
            rows.sort(key=lambda row: (activated.get(row.id, row.created), row.id))
            for row in rows[1:]:
                row.status = INACTIVE
                reasons[row.id] = (
                    f"Deactivated on linking: the learner was already active in {row.course_key} "
                    f"through program enrollment {rows[0].program_enrollment_id}."
                )
                losers.append(row)
        loser_ids = [row.id for row in losers]
        _sql.update_ids(PCE, {"status": INACTIVE, "modified": stamp}, loser_ids)
        _history.record_ids(
            PCE, loser_ids, created=False, actor=actor, reason="Deactivated on linking", when=now, reasons=reasons
        )

    # The database's trigger copies each new identity to the enrollment's course rows.
    for enrollment, user_id in pairs:
        enrollment.user_id = user_id
        enrollment.learner_ref = new_refs[enrollment.id]
        enrollment.modified = now
    _sql.update_rows(
        PE,
        ["user", "learner_ref"],
        {enrollment.id: (user_id, new_refs[enrollment.id]) for enrollment, user_id in pairs},
        [_sql.BIGINT, _sql.TEXT],
        same={"modified": stamp},
    )
    _history.record_ids(
        PE,
        list(new_refs),
        created=False,
        actor=actor,
        reason="Linked to a user",
        when=now,
        reasons={
            enrollment.id: enrollment._change_reason
            for enrollment, _ in pairs
            if getattr(enrollment, "_change_reason", None)
        },
    )

    user_of = dict((enrollment.id, user_id) for enrollment, user_id in pairs)
    by_course: dict[tuple[str, bool], set[int]] = defaultdict(set)
    keys = {}
    for row in course_rows:
        keys[str(row.course_key)] = row.course_key
        by_course[(str(row.course_key), row.status == ACTIVE)].add(user_of[row.program_enrollment_id])
    # Active rows get their user's course access (recording what the program changed);
    # inactive ones point at the user's course enrollment, created inactive where missing.
    given: dict[tuple[str, bool, int], _course_access.Grant] = {}
    for (course, active), user_ids in by_course.items():
        grants = (_course_access.grant if active else _course_access.attach)(keys[course], user_ids)
        for user_id, grant in grants.items():
            given[(course, active, user_id)] = grant
    # One UPDATE per recorded grant (a handful of states), one for the course enrollment pointers.
    grants_of: dict[tuple, list[int]] = defaultdict(list)
    for row in course_rows:
        row.learner_ref = new_refs[row.program_enrollment_id]
        _course_access.record(
            row,
            given[(str(row.course_key), row.status == ACTIVE, user_of[row.program_enrollment_id])],
            entering=True,
        )
        grants_of[(row.access_grant, row.prior_mode, row.prior_is_active)].append(row.id)
    for (access_grant, prior_mode, prior_is_active), ids in grants_of.items():
        _sql.update_ids(
            PCE,
            {
                "access_grant": access_grant,
                "prior_mode": prior_mode,
                "prior_is_active": prior_is_active,
                "modified": stamp,
            },
            ids,
        )
    _sql.update_rows(
        PCE, ["course_enrollment"], {row.id: (row.course_enrollment_id,) for row in course_rows}, [_sql.BIGINT]
    )
    _history.record_ids(
        PCE, [row.id for row in course_rows], created=False, actor=actor, reason="Linked to a user", when=now
    )
    # The course staff roles granted while the learners waited.
    _course_staff.apply_pending(course_rows, user_of)

    deactivated: dict[int, list[str]] = defaultdict(list)
    for row in losers:
        deactivated[row.program_enrollment_id].append(str(row.course_key))
    return {enrollment_id: tuple(keys) for enrollment_id, keys in deactivated.items()}


def _activation_times(row_ids: list[int]) -> dict:
    """When each program course enrollment last became active, read from its history."""
    history = ProgramCourseEnrollment.history.model.objects.filter(id__in=row_ids).order_by(
        "history_date", "history_id"
    )
    activated: dict[int, object] = {}
    previous: dict[int, str] = {}
    for row_id, status, when in history.values_list("id", "status", "history_date"):
        if status == ACTIVE and previous.get(row_id) != ACTIVE:
            activated[row_id] = when
        previous[row_id] = status
    return activated
