"""What support staff look at to tell who a learner is: the learner's enrollments, accounts and SSO identities.

The counterpart of Open edX's "program enrollments inspector": a learner found by
username, email or student key; for each program enrollment, the account it is
linked to and the organization's SSO identities of its student key (the uid, and
the account the identity signs in to). When the two accounts differ, the key is
linked to another account than the one its owner signs in with: the case for
relinking (``link_program_enrollments(..., relink=True)``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection

from django.contrib.auth import get_user_model
from django.db.models import Q

from program_enrollments.api.reading import fetch_learner_view, organizations_of_student_key
from program_enrollments.backends import catalog_backend, lms_backend
from program_enrollments.exceptions import InvalidRequest, OrganizationNotReadable
from program_enrollments.identity import normalize_student_key
from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment


def fetch_support_view(
    *,
    user: str = "",
    organization_key: str = "",
    student_key: str = "",
    readable_organizations: Collection[str] | None = None,
) -> dict:
    """One learner's program enrollments with their linked accounts and SSO identities.

    The learner is given by ``user`` (a username, or the email of one account), or by
    ``student_key`` (any case) with or without ``organization_key``: without it, the
    organization is the one whose programs use the key, and a key used by several
    organizations is refused (each is a different learner). ``readable_organizations``
    limits the answer as in ``fetch_learner_view`` (None: every organization).

    Returns ``fetch_learner_view``'s answer with ``account`` (the account found:
    ``{"id", "username", "email"}``, or None) and, in each program, ``enrollment_id``,
    ``linked_account`` (``{"id", "username", "email"}`` or None), ``sso_identities``
    (``[{"uid", "student_key", "account"}]``: the organization's identities of the
    student key and of the linked account) and ``sso_mismatch`` (an identity of the
    key signs in to another account than the linked one).

    Raises:
        InvalidRequest: nothing to look up by, an email shared by several accounts, a key
            of several organizations without ``organization_key``, or a NUL character.
        OrganizationNotReadable: ``organization_key`` is not one of ``readable_organizations``.
    """
    user, organization_key, student_key = (value.strip() for value in (user, organization_key, student_key))
    if any("\x00" in value for value in (user, organization_key, student_key)):
        raise InvalidRequest("A username, email, organization or student key must not contain NUL characters.")
    if user:
        account = _account(user)
        view = fetch_learner_view(
            username=account["username"] if account else user, readable_organizations=readable_organizations
        )
        if account is None:
            view["username"] = ""
    elif student_key:
        if not organization_key:
            organizations = sorted(organizations_of_student_key(student_key))
            if readable_organizations is not None:
                organizations = [key for key in organizations if key in readable_organizations]
            if len(organizations) > 1:
                raise InvalidRequest(
                    f"Student key {student_key} is used by several organizations ({', '.join(organizations)}); "
                    "each is a different learner. Give the organization."
                )
            if not organizations:
                return {"username": "", "account": None, "programs": [], "active_slots": {}}
            organization_key = organizations[0]
        elif readable_organizations is not None and organization_key not in readable_organizations:
            raise OrganizationNotReadable(f"The caller may not read the learners of organization {organization_key}.")
        view = fetch_learner_view(
            organization_key=organization_key, student_key=student_key, readable_organizations=readable_organizations
        )
        _add_linked_elsewhere(view, organization_key, student_key, readable_organizations)
        account = _account(view["username"]) if view["username"] else None
    else:
        raise InvalidRequest("Give a username or email, or a student key.")
    view["account"] = account
    _add_accounts_and_identities(view, account)
    return view


def _add_linked_elsewhere(
    view: dict, organization_key: str, student_key: str, readable_organizations: Collection[str] | None
) -> None:
    """Add the key's enrollments linked to an account its SSO identity does not name (or without SSO).

    ``fetch_learner_view`` finds a learner by identity: the key while waiting, the
    account its SSO identity names once known. An enrollment linked by username to
    another account is exactly what support looks for, so it is listed too. Its
    courses do not count in ``active_slots``, which are the learner's.
    """
    shown = {(program["program_uuid"], normalize_student_key(program["student_key"])) for program in view["programs"]}
    candidates = [
        enrollment
        for enrollment in ProgramEnrollment.objects.for_student_keys([student_key])
        .filter(user__isnull=False)
        .select_related("user")
        .order_by("program_uuid")
        if (str(enrollment.program_uuid), enrollment.external_user_key_normalized) not in shown
    ]
    if not candidates:
        return
    programs = catalog_backend().get_programs({enrollment.program_uuid for enrollment in candidates})
    rows = defaultdict(list)
    for row in ProgramCourseEnrollment.objects.filter(program_enrollment__in=candidates).order_by("course_key"):
        rows[row.program_enrollment_id].append(row)
    for enrollment in candidates:
        program = programs.get(enrollment.program_uuid)
        if program is None or program.organization_key.casefold() != organization_key.casefold():
            continue
        if readable_organizations is not None and program.organization_key not in readable_organizations:
            continue
        view["programs"].append(
            {
                "program_uuid": str(enrollment.program_uuid),
                "program_title": program.title,
                "organization_key": program.organization_key,
                "curriculum_uuid": str(enrollment.curriculum_uuid),
                "student_key": enrollment.external_user_key or "",
                "status": enrollment.status,
                "courses": [
                    {"course_key": str(row.course_key), "status": row.status, "holds_active_slot": row.is_active}
                    for row in rows[enrollment.id]
                ],
            }
        )
        if not view["username"]:
            view["username"] = enrollment.user.get_username()


def _account(username_or_email: str) -> dict | None:
    """The account of a username, or else of an email (compared ignoring case)."""
    users = get_user_model().objects.all()
    found = list(users.filter(username=username_or_email).values("id", "username", "email"))
    if not found and "@" in username_or_email:
        found = list(users.filter(email__iexact=username_or_email).values("id", "username", "email")[:2])
        if len(found) > 1:
            raise InvalidRequest(f"Several accounts use the email {username_or_email}; give the username.")
    return found[0] if found else None


def _add_accounts_and_identities(view: dict, account: dict | None) -> None:
    programs = view["programs"]
    if not programs:
        return
    keys = {normalize_student_key(program["student_key"]) for program in programs if program["student_key"]}
    condition = Q(external_user_key_normalized__in=keys)
    if account:
        condition |= Q(user_id=account["id"])
    enrollments = {}
    for enrollment in ProgramEnrollment.objects.filter(
        condition, program_uuid__in={program["program_uuid"] for program in programs}
    ):
        if enrollment.external_user_key_normalized:
            enrollments[(str(enrollment.program_uuid), enrollment.external_user_key_normalized)] = enrollment
        else:
            enrollments[(str(enrollment.program_uuid), None)] = enrollment
    matched = {
        index: enrollments.get((program["program_uuid"], normalize_student_key(program["student_key"] or None)))
        for index, program in enumerate(programs)
    }

    # One backend call per organization: the identities of its keys and of the accounts linked there.
    wanted: dict[str, tuple[set[str], set[int]]] = defaultdict(lambda: (set(), set()))
    for index, program in enumerate(programs):
        enrollment = matched[index]
        organization = program["organization_key"]
        if program["student_key"]:
            wanted[organization][0].add(program["student_key"])
        if enrollment is not None and enrollment.user_id:
            wanted[organization][1].add(enrollment.user_id)
    backend = lms_backend()
    identities = {
        organization: backend.get_sso_identities(organization, student_keys=keys, user_ids=user_ids)
        for organization, (keys, user_ids) in wanted.items()
        if organization
    }
    user_ids = {identity.user_id for found in identities.values() for identity in found}
    user_ids |= {enrollment.user_id for enrollment in matched.values() if enrollment and enrollment.user_id}
    accounts = {
        row["id"]: row for row in get_user_model().objects.filter(id__in=user_ids).values("id", "username", "email")
    }
    for index, program in enumerate(programs):
        enrollment = matched[index]
        linked = accounts.get(enrollment.user_id) if enrollment is not None and enrollment.user_id else None
        folded = normalize_student_key(program["student_key"]) if program["student_key"] else None
        own = [
            identity
            for identity in identities.get(program["organization_key"], ())
            if normalize_student_key(identity.student_key) == folded or (linked and identity.user_id == linked["id"])
        ]
        program["enrollment_id"] = enrollment.id if enrollment is not None else None
        program["linked_account"] = linked
        program["sso_identities"] = [
            {"uid": identity.uid, "student_key": identity.student_key, "account": accounts.get(identity.user_id)}
            for identity in own
        ]
        program["sso_mismatch"] = linked is not None and any(
            normalize_student_key(identity.student_key) == folded and identity.user_id != linked["id"]
            for identity in own
        )
