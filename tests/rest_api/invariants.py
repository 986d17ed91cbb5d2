"""The invariants of the tables, recomputed from the rows themselves (not through the API).

Shared by the stress run and the fault tests: whatever happened before, these must hold.
"""

from __future__ import annotations

from collections import defaultdict
from uuid import UUID

from program_enrollments import api
from program_enrollments.identity import learner_ref, normalize_student_key
from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment
from tests import catalog as c
from tests import hosts

# The authoring organization of each program of the test catalog.
ORGANIZATION_OF = {UUID(program["uuid"]): program["authoring_organizations"][0]["key"] for program in c.programs()}


def table_problems() -> list[str]:
    """Every broken invariant, recomputed from the rows (not through the API)."""
    course_enrollment_model = hosts.course_enrollment_model()
    pes = {row["id"]: row for row in ProgramEnrollment.objects.values()}
    pces = list(ProgramCourseEnrollment.objects.values())
    ces = {
        row["id"]: row
        for row in course_enrollment_model.objects.values("id", "user_id", "course_id", "is_active", "mode")
    }
    sso_users = {}
    if hosts.is_standalone():
        from program_enrollments.standalone.lms.models import SSOIdentity

        sso_users = {
            (organization, normalize_student_key(key)): user_id
            for organization, key, user_id in SSOIdentity.objects.values_list(
                "organization_key", "student_key", "user_id"
            )
        }
    problems = []

    def person(pe) -> tuple:
        """The human behind a PE: its user; else the user its SSO identity names; else (organization, key)."""
        if pe["user_id"] is not None:
            return ("user", pe["user_id"])
        organization = ORGANIZATION_OF[pe["program_uuid"]]
        folded = normalize_student_key(pe["external_user_key"])
        if (organization, folded) in sso_users:
            return ("user", sso_users[organization, folded])
        return ("key", organization, folded)

    by_person, by_user, by_course_enrollment = defaultdict(list), defaultdict(list), defaultdict(list)
    for pce in pces:
        pe = pes[pce["program_enrollment_id"]]
        course = str(pce["course_key"])
        if pce["status"] == "active":
            by_person[person(pe), course].append(pce["id"])
            if pe["user_id"] is not None:
                by_user[pe["user_id"], course].append(pce["id"])
            if pce["course_enrollment_id"] is not None:
                by_course_enrollment[pce["course_enrollment_id"]].append(pce["id"])
        if pce["learner_ref"] != pe["learner_ref"]:
            problems.append(f"PCE {pce['id']} learner_ref {pce['learner_ref']} != its PE's {pe['learner_ref']}")
        ce_id = pce["course_enrollment_id"]
        if ce_id is not None:
            ce = ces.get(ce_id)
            if ce is None or ce["user_id"] != pe["user_id"] or str(ce["course_id"]) != course:
                problems.append(f"PCE {pce['id']} (PE {pe['id']}, user {pe['user_id']}, {course}) points at CE {ce}")
        if pce["status"] == "active" and pe["user_id"] is not None:
            ce = ces.get(ce_id)
            if ce is None or not ce["is_active"]:
                problems.append(f"active PCE {pce['id']} of user {pe['user_id']} in {course} has CE {ce}")
    for name, groups in (("person", by_person), ("user", by_user), ("course enrollment", by_course_enrollment)):
        for owner, ids in groups.items():
            if len(ids) > 1:
                rows = [
                    (
                        row["id"],
                        str(pes[row["program_enrollment_id"]]["program_uuid"]),
                        pes[row["program_enrollment_id"]]["external_user_key"],
                    )
                    for row in pces
                    if row["id"] in ids
                ]
                problems.append(f"one-active rule broken by {name} {owner}: active PCEs {rows}")

    for pe in pes.values():
        expected = learner_ref(
            user_id=pe["user_id"],
            organization_key=ORGANIZATION_OF[pe["program_uuid"]],
            student_key=pe["external_user_key"],
        )
        if pe["learner_ref"] != expected:
            problems.append(f"PE {pe['id']} learner_ref {pe['learner_ref']}, expected {expected}")

    for model, rows in ((ProgramEnrollment, pes.values()), (ProgramCourseEnrollment, pces)):
        # Ordered by history id, the last status seen for a row is its latest history row's.
        latest = dict(model.history.model.objects.order_by("history_id").values_list("id", "status"))
        for row in rows:
            if row["id"] not in latest:
                problems.append(f"{model.__name__} {row['id']} has no history")
            elif latest[row["id"]] != row["status"]:
                problems.append(
                    f"{model.__name__} {row['id']} is {row['status']}, its last history row says {latest[row['id']]}"
                )

    report = api.audit_program_enrollments()
    problems += [f"audit: {finding.kind}: {finding.detail}" for finding in report.findings]
    return problems
