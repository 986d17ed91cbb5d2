"""
Fill the tables of the Open edX BUILT-IN ``program_enrollments`` app with realistic data.

Run where the built-in app (``lms.djangoapps.program_enrollments``, the stand-in under
``tests/openedx_host/platform``) holds the label ``program_enrollments`` and its migrations 0001..0012 are
applied, on empty tables, e.g. from ``manage.py shell`` or a subprocess::

    from tests.openedx_host.seed_builtin import seed
    report = seed()

Everything is written through the built-in models with ``save()``, so simple-history writes the history
rows the platform would have (``+`` on create, ``~`` on change, ``-`` on delete, ``history_user`` and
``history_change_reason`` where a person or a support action made the change). Where the LMS has course
overviews (label ``course_overviews``), every course run the data names gets its overview row.

Besides ordinary data (realized and waiting learners in several programs and curricula, active and
inactive program-course enrollments, course enrollments in ``masters`` and paid modes, pending course
staff roles for waiting learners, deleted rows that live on only in history), it writes every shape the
built-in app allowed and our rules forbid; ``seed()`` returns their ids under ``shapes`` (see
``SHAPES``).

Programs (``catalog_programs()`` returns them for the harness catalog cache, all but ``UNKNOWN_PROGRAM``):

- ``CYBERSECURITY``, ``ANALYTICS`` and ``OTHER``: the three GTx programs of
  ``program_enrollments/standalone/fixtures/demo_programs.json``; ``OTHER`` shares its courses with the
  first two. ``CYBERSECURITY_OLD_CURRICULUM`` is a retired curriculum of ``CYBERSECURITY`` that the catalog
  no longer lists.
- ``MIT``: a program of the organization ``MITx`` (the one of ``tests/catalog.py``), whose curriculum
  holds the GTx course ``SHARED_COURSE``.
- ``UNKNOWN_PROGRAM``: a program the catalog does not know, so its organization cannot be resolved.

External user keys start with the organization (``gt-``, ``mit-``) only to be readable; nothing relies on
that.
"""

import json
from pathlib import Path
from uuid import UUID

GTX = "GTx"
MITX = "MITx"

CYBERSECURITY = UUID("509c2e6c-f4e2-5b32-bc77-5137159b0719")
CYBERSECURITY_CURRICULUM = UUID("8f6bcfd1-48ca-5ba6-ae52-0572a322788d")
CYBERSECURITY_OLD_CURRICULUM = UUID("5d0c43e7-1f0a-4b8e-9c1d-2a7e6b3f9c11")
ANALYTICS = UUID("28385600-2327-5a6a-af0e-fd1f9e3790db")
ANALYTICS_CURRICULUM = UUID("b6cbe92b-c9b2-5abe-a6f3-a7d4eaa30a91")
OTHER = UUID("38bf8bae-2aba-5ad8-9e83-12beb8b72442")
OTHER_CURRICULUM = UUID("ae7981d8-cfda-5fde-9e60-68b299453419")
MIT = UUID("7b6f0a58-2a4d-4f55-9d1e-3a1c4e1f0b01")
MIT_CURRICULUM = UUID("0f2f5a36-8b55-4a8e-9d0c-6d5f3e6b2c02")
UNKNOWN_PROGRAM = UUID("e4a1c2d3-7b6f-4e5a-8c9d-0f1e2d3c4b55")
UNKNOWN_CURRICULUM = UUID("9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c66")

ORGANIZATION_OF = {CYBERSECURITY: GTX, ANALYTICS: GTX, OTHER: GTX, MIT: MITX}

# In CYBERSECURITY, OTHER and MIT.
SHARED_COURSE = "course-v1:GTx+CS6035+2020_Spring"
# In CYBERSECURITY and OTHER.
SECOND_SHARED_COURSE = "course-v1:GTx+CS6250+2020_Spring"
THIRD_SHARED_COURSE = "course-v1:GTx+CS6262+2020_Spring"
# In ANALYTICS and OTHER.
ANALYTICS_COURSE = "course-v1:GTx+ISYE6501+2020_Spring"
SECOND_ANALYTICS_COURSE = "course-v1:GTx+CSE6040+2020_Spring"
# In no catalog program.
LONE_COURSE = "course-v1:GTx+LONE+2020_Spring"

DEMO_CATALOG = (
    Path(__file__).resolve().parents[2] / "program_enrollments" / "standalone" / "fixtures" / "demo_programs.json"
)
# The MITx program as course-discovery describes it (the one of tests/catalog.py, which imports the
# standalone host and so cannot be used inside the LMS).
MIT_CATALOG_PROGRAM = {
    "uuid": str(MIT),
    "title": "MicroMasters in Security",
    "type": "MicroMasters",
    "authoring_organizations": [{"key": MITX, "name": "MIT"}],
    "curricula": [
        {
            "uuid": str(MIT_CURRICULUM),
            "name": "2020",
            "is_active": True,
            "courses": [{"key": "GTx+CS6035", "course_runs": [{"key": SHARED_COURSE}]}],
        }
    ],
}


def catalog_programs():
    """The catalog's programs (course-discovery's shape) for the harness catalog cache: all but the unknown one."""
    demo = json.loads(DEMO_CATALOG.read_text(encoding="utf-8"))["results"]
    return [*demo, MIT_CATALOG_PROGRAM]


# The labels of ``seed()["shapes"]``: what the built-in app allowed and our rules forbid.
SHAPES = {
    "same_key_two_curricula": "one external key in two curricula of one program",
    "case_variant_keys": "external keys differing only in case in one program",
    "user_several_curricula": "one user in several curricula of one program",
    "two_active_by_user": "two active PCEs of one user in one course, through two programs",
    "two_active_by_org_key": (
        "two active PCEs of one waiting (organization, key) in one course, through two programs of that organization"
    ),
    "waiting_pce_with_course_enrollment": "a waiting PCE (its PE has no user) that points at a course enrollment",
    "pe_without_user_or_key": "a PE with neither user nor external key",
}

# The labels of ``seed()["controls"]``: unusual but allowed data that a takeover must keep as it is.
CONTROLS = {
    "same_key_other_organization": (
        "one waiting key with active PCEs in one course through programs of two organizations (different learners)"
    ),
    "realized_without_key": "a realized PE without external key",
    "verified_mode_kept": "a realized PCE whose course enrollment is in the paid mode verified",
    "unknown_program": "PEs in a program the catalog does not know",
    "deleted_waiting_enrollment": "a waiting PE and its PCE deleted: only history rows remain",
    "deleted_user": "a learner whose user was deleted: the cascade left only history rows",
}

SERVICE_USERNAME = "registrar_service_worker"
SUPPORT_USERNAME = "support_staff"


def seed(*, case_sensitive_keys=None, extra_learners=0):
    """
    Fill the built-in tables and return what was written.

    Arguments:
        case_sensitive_keys: whether the database compares external keys case-sensitively in the PE unique
            keys. MySQL and MariaDB with the usual ``*_ci`` collations do not, so there the case-variant
            shape can only span two curricula. ``None`` (the default) means "not on MySQL/MariaDB".
        extra_learners: that many more ordinary learners (alternately realized and waiting, spread over the
            three GTx programs), for volume.

    Returns a dict::

        {
          "counts": {table name: rows, ...},   # the built-in tables, auth_user, student_courseenrollment
                                               # (and course_overviews_courseoverview where installed)
          "shapes": {label: {"why": str, "groups": [group, ...]}, ...},     # labels of SHAPES
          "controls": {label: {"why": str, "groups": [group, ...]}, ...},   # labels of CONTROLS
          "waiting_program_enrollment_ids": [...], "realized_program_enrollment_ids": [...],
          "course_access_role_assignment_ids": [...],
          "programs": {"CYBERSECURITY": "<uuid>", ...}, "organizations": {"<program uuid>": "GTx", ...},
          "case_sensitive_keys": bool,
        }

    where a group is ``{"program_enrollment_ids": [...], "program_course_enrollment_ids": [...],
    "course_enrollment_ids": [...], "user_ids": [...], "external_user_keys": [...]}`` (lists may be empty;
    deleted rows are named by the ids their history rows carry). A group is listed under the shape it was
    written for and may show another one too: grace's two curricula are also one key in two curricula, and
    a case-variant pair across two curricula is one key in two curricula once keys are compared
    case-insensitively.

    Raises:
        RuntimeError: the label ``program_enrollments`` does not belong to the built-in app, or its
            tables are not empty.
    """
    from django.apps import apps
    from django.db import connection, transaction

    config = apps.get_app_config("program_enrollments")
    if config.name != "lms.djangoapps.program_enrollments":
        raise RuntimeError(f"seed_builtin needs the built-in app installed; the label belongs to {config.name}")
    if case_sensitive_keys is None:
        case_sensitive_keys = connection.vendor != "mysql"
    with transaction.atomic():
        return _Seeder(case_sensitive_keys).run(extra_learners)


class _Seeder:
    def __init__(self, case_sensitive_keys):
        from django.apps import apps
        from django.contrib.auth import get_user_model

        self.User = get_user_model()
        self.CourseEnrollment = apps.get_model("student", "CourseEnrollment")
        self.PE = apps.get_model("program_enrollments", "ProgramEnrollment")
        self.PCE = apps.get_model("program_enrollments", "ProgramCourseEnrollment")
        self.CARA = apps.get_model("program_enrollments", "CourseAccessRoleAssignment")
        try:
            self.CourseOverview = apps.get_model("course_overviews", "CourseOverview")
        except LookupError:
            self.CourseOverview = None
        self.case_sensitive_keys = case_sensitive_keys
        self.shapes = {label: {"why": why, "groups": []} for label, why in SHAPES.items()}
        self.controls = {label: {"why": why, "groups": []} for label, why in CONTROLS.items()}
        self.role_assignment_ids = []

    # ----------------------------------------------------------------- writing helpers

    def user(self, username):
        user = self.User(username=username, email=f"{username}@example.com")
        user.set_unusable_password()
        user.save()
        return user

    def course(self, course_key):
        """The course key; in an LMS with course overviews, also the course run's overview row."""
        from opaque_keys.edx.keys import CourseKey

        key = CourseKey.from_string(course_key)
        if self.CourseOverview is not None:
            self.CourseOverview.objects.get_or_create(
                id=key, defaults={"org": key.org, "display_name": f"{key.course} ({key.run})"}
            )
        return key

    def course_enrollment(self, user, course_key, *, mode="masters", is_active=True):
        enrollment, _ = self.CourseEnrollment.objects.get_or_create(
            user=user,
            course_id=self.course(course_key),
            defaults={"mode": mode, "is_active": is_active},
        )
        return enrollment

    def _save(self, instance, *, by=None, reason=None):
        # simple-history reads these two attributes when it writes the history row of this save.
        instance._history_user = by or self.service
        if reason:
            instance._change_reason = reason
        instance.save()
        for attribute in ("_history_user", "_change_reason"):
            instance.__dict__.pop(attribute, None)
        return instance

    def pe(self, program, curriculum, *, key=None, user=None, status="enrolled"):
        return self._save(
            self.PE(program_uuid=program, curriculum_uuid=curriculum, external_user_key=key, user=user, status=status)
        )

    def pce(self, pe, course_key, *, status="active", course_enrollment=None, mode="masters"):
        """A PCE; a realized PE gets a course enrollment (masters, active as the PCE) unless one is given."""
        if course_enrollment is None and pe.user_id is not None:
            course_enrollment = self.course_enrollment(pe.user, course_key, mode=mode, is_active=status == "active")
        return self._save(
            self.PCE(
                program_enrollment=pe,
                course_key=self.course(course_key),
                status=status,
                course_enrollment=course_enrollment,
            )
        )

    def staff_role(self, pce):
        assignment = self.CARA.objects.create(enrollment=pce, role="staff")
        self.role_assignment_ids.append(assignment.id)
        return assignment

    @staticmethod
    def group(*, pes=(), pces=(), course_enrollments=(), users=(), keys=(), pe_ids=(), pce_ids=()):
        return {
            "program_enrollment_ids": [pe.id for pe in pes] + list(pe_ids),
            "program_course_enrollment_ids": [pce.id for pce in pces] + list(pce_ids),
            "course_enrollment_ids": [enrollment.id for enrollment in course_enrollments],
            "user_ids": [user.id for user in users],
            "external_user_keys": list(keys),
        }

    # ----------------------------------------------------------------- the data

    def run(self, extra_learners):
        if self.PE.objects.exists() or self.PE.historical_records.model.objects.exists():
            raise RuntimeError("seed_builtin expects empty built-in program_enrollments tables")
        self.service = self.user(SERVICE_USERNAME)
        self.support = self.user(SUPPORT_USERNAME)
        self.support.is_staff = True
        self.support.save()

        self.realized_learners()
        self.waiting_learners()
        self.forbidden_shapes()
        self.controls_and_deletions()
        for number in range(extra_learners):
            self.extra_learner(number)
        return self.report()

    def realized_learners(self):
        alice = self.user("alice")
        pe = self.pe(CYBERSECURITY, CYBERSECURITY_CURRICULUM, key="gt-0001", user=alice)
        self.pce(pe, SHARED_COURSE)
        self.pce(pe, SECOND_SHARED_COURSE)
        dropped = self.pce(pe, THIRD_SHARED_COURSE)
        dropped.status = "inactive"
        self._save(dropped)
        dropped.course_enrollment.is_active = False
        dropped.course_enrollment.save()

        # Registrar wrote bob as pending before his account existed, then linked and enrolled him.
        bob = self.user("bob")
        pe = self.pe(ANALYTICS, ANALYTICS_CURRICULUM, key="gt-0002", status="pending")
        waiting = self.pce(pe, ANALYTICS_COURSE)
        pe.user = bob
        pe.status = "enrolled"
        self._save(pe)
        waiting.course_enrollment = self.course_enrollment(bob, ANALYTICS_COURSE)
        self._save(waiting)
        self.pce(pe, SECOND_ANALYTICS_COURSE)

        carol = self.user("carol")
        pe = self.pe(CYBERSECURITY, CYBERSECURITY_CURRICULUM, key="gt-0003", user=carol)
        self.pce(pe, SHARED_COURSE, status="inactive")
        pe.status = "suspended"
        self._save(pe, by=self.support, reason="Suspended on the school's request")

        dave = self.user("dave")
        pe = self.pe(OTHER, OTHER_CURRICULUM, key="gt-0004", user=dave, status="canceled")
        self.pce(pe, SECOND_ANALYTICS_COURSE, status="inactive")

        erin = self.user("erin")
        pe = self.pe(ANALYTICS, ANALYTICS_CURRICULUM, key="gt-0005", user=erin, status="ended")
        self.pce(pe, ANALYTICS_COURSE)

        mia = self.user("mia")
        pe = self.pe(MIT, MIT_CURRICULUM, key="mit-0001", user=mia)
        self.pce(pe, SHARED_COURSE)

    def waiting_learners(self):
        pe = self.pe(CYBERSECURITY, CYBERSECURITY_CURRICULUM, key="gt-1001", status="pending")
        self.staff_role(self.pce(pe, SHARED_COURSE))
        self.pce(pe, SECOND_SHARED_COURSE)

        pe = self.pe(ANALYTICS, ANALYTICS_CURRICULUM, key="gt-1002", status="pending")
        self.staff_role(self.pce(pe, ANALYTICS_COURSE))

        pe = self.pe(OTHER, OTHER_CURRICULUM, key="gt-1003", status="enrolled")
        self.pce(pe, THIRD_SHARED_COURSE, status="inactive")

        pe = self.pe(MIT, MIT_CURRICULUM, key="mit-1001", status="pending")
        self.staff_role(self.pce(pe, SHARED_COURSE))

    def forbidden_shapes(self):
        shapes = self.shapes

        # A learner re-enrolled into the current curriculum while the retired one was kept.
        old = self.pe(CYBERSECURITY, CYBERSECURITY_OLD_CURRICULUM, key="gt-2001", status="enrolled")
        old_pce = self.pce(old, SHARED_COURSE, status="inactive")
        new = self.pe(CYBERSECURITY, CYBERSECURITY_CURRICULUM, key="gt-2001", status="pending")
        new_pce = self.pce(new, SHARED_COURSE)
        self.staff_role(new_pce)
        shapes["same_key_two_curricula"]["groups"].append(
            self.group(pes=[old, new], pces=[old_pce, new_pce], keys=["gt-2001"])
        )

        # The same, for a learner who has an account: one user in both curricula.
        grace = self.user("grace")
        old = self.pe(CYBERSECURITY, CYBERSECURITY_OLD_CURRICULUM, key="gt-2002", user=grace, status="canceled")
        old_pce = self.pce(old, SECOND_SHARED_COURSE, status="inactive")
        new = self.pe(CYBERSECURITY, CYBERSECURITY_CURRICULUM, key="gt-2002", user=grace)
        new_pce = self.pce(new, SHARED_COURSE)
        shapes["user_several_curricula"]["groups"].append(
            self.group(
                pes=[old, new],
                pces=[old_pce, new_pce],
                course_enrollments=[old_pce.course_enrollment, new_pce.course_enrollment],
                users=[grace],
                keys=["gt-2002"],
            )
        )
        shapes["same_key_two_curricula"]["groups"].append(
            self.group(pes=[old, new], pces=[old_pce, new_pce], users=[grace], keys=["gt-2002"])
        )

        # Keys differing only in case: across two curricula everywhere; within one curriculum only where the
        # unique key compares case-sensitively (a *_ci collation refuses the second row).
        upper = self.pe(CYBERSECURITY, CYBERSECURITY_CURRICULUM, key="GT-3002", status="pending")
        upper_pce = self.pce(upper, THIRD_SHARED_COURSE)
        lower = self.pe(CYBERSECURITY, CYBERSECURITY_OLD_CURRICULUM, key="gt-3002", status="pending")
        lower_pce = self.pce(lower, SECOND_SHARED_COURSE)
        shapes["case_variant_keys"]["groups"].append(
            self.group(pes=[upper, lower], pces=[upper_pce, lower_pce], keys=["GT-3002", "gt-3002"])
        )
        if self.case_sensitive_keys:
            henry = self.user("henry")
            realized = self.pe(ANALYTICS, ANALYTICS_CURRICULUM, key="GT-3001", user=henry)
            realized_pce = self.pce(realized, ANALYTICS_COURSE)
            waiting = self.pe(ANALYTICS, ANALYTICS_CURRICULUM, key="gt-3001", status="pending")
            waiting_pce = self.pce(waiting, SECOND_ANALYTICS_COURSE)
            shapes["case_variant_keys"]["groups"].append(
                self.group(
                    pes=[realized, waiting],
                    pces=[realized_pce, waiting_pce],
                    course_enrollments=[realized_pce.course_enrollment],
                    users=[henry],
                    keys=["GT-3001", "gt-3001"],
                )
            )

        # One user active in one course through two GTx programs: both PCEs share the course enrollment.
        ivan = self.user("ivan")
        first = self.pe(CYBERSECURITY, CYBERSECURITY_CURRICULUM, key="gt-4001", user=ivan)
        first_pce = self.pce(first, SHARED_COURSE)
        second = self.pe(OTHER, OTHER_CURRICULUM, key="gt-4001", user=ivan)
        second_pce = self.pce(second, SHARED_COURSE)
        shapes["two_active_by_user"]["groups"].append(
            self.group(
                pes=[first, second],
                pces=[first_pce, second_pce],
                course_enrollments=[first_pce.course_enrollment],
                users=[ivan],
                keys=["gt-4001"],
            )
        )
        # And through programs of two organizations, under two keys.
        judy = self.user("judy")
        first = self.pe(CYBERSECURITY, CYBERSECURITY_CURRICULUM, key="gt-4002", user=judy)
        first_pce = self.pce(first, SHARED_COURSE)
        second = self.pe(MIT, MIT_CURRICULUM, key="mit-4002", user=judy)
        second_pce = self.pce(second, SHARED_COURSE)
        shapes["two_active_by_user"]["groups"].append(
            self.group(
                pes=[first, second],
                pces=[first_pce, second_pce],
                course_enrollments=[first_pce.course_enrollment],
                users=[judy],
                keys=["gt-4002", "mit-4002"],
            )
        )

        # One waiting GTx learner active in one course through two GTx programs.
        first = self.pe(CYBERSECURITY, CYBERSECURITY_CURRICULUM, key="gt-5001", status="pending")
        first_pce = self.pce(first, SECOND_SHARED_COURSE)
        second = self.pe(OTHER, OTHER_CURRICULUM, key="gt-5001", status="pending")
        second_pce = self.pce(second, SECOND_SHARED_COURSE)
        self.staff_role(second_pce)
        shapes["two_active_by_org_key"]["groups"].append(
            self.group(pes=[first, second], pces=[first_pce, second_pce], keys=["gt-5001"])
        )

        # Support unlinked kate's enrollment by clearing the user only; the PCE kept her course enrollment.
        kate = self.user("kate")
        pe = self.pe(ANALYTICS, ANALYTICS_CURRICULUM, key="gt-6001", user=kate)
        pce = self.pce(pe, ANALYTICS_COURSE)
        pe.user = None
        pe.status = "pending"
        self._save(pe, by=self.support, reason="Unlinked: wrong account")
        shapes["waiting_pce_with_course_enrollment"]["groups"].append(
            self.group(pes=[pe], pces=[pce], course_enrollments=[pce.course_enrollment], users=[kate], keys=["gt-6001"])
        )

        # clean() would refuse this row, but nothing calls it on the write paths.
        orphan = self.pe(CYBERSECURITY, CYBERSECURITY_CURRICULUM, status="pending")
        shapes["pe_without_user_or_key"]["groups"].append(self.group(pes=[orphan]))

    def controls_and_deletions(self):
        controls = self.controls

        gtx = self.pe(CYBERSECURITY, CYBERSECURITY_CURRICULUM, key="x-5002", status="pending")
        gtx_pce = self.pce(gtx, SHARED_COURSE)
        mitx = self.pe(MIT, MIT_CURRICULUM, key="x-5002", status="pending")
        mitx_pce = self.pce(mitx, SHARED_COURSE)
        controls["same_key_other_organization"]["groups"].append(
            self.group(pes=[gtx, mitx], pces=[gtx_pce, mitx_pce], keys=["x-5002"])
        )

        lee = self.user("lee")
        pe = self.pe(ANALYTICS, ANALYTICS_CURRICULUM, user=lee)
        pce = self.pce(pe, SECOND_ANALYTICS_COURSE)
        controls["realized_without_key"]["groups"].append(
            self.group(pes=[pe], pces=[pce], course_enrollments=[pce.course_enrollment], users=[lee])
        )

        # frank paid for the verified track before joining the program; the built-in app kept that mode.
        frank = self.user("frank")
        verified = self.course_enrollment(frank, SECOND_SHARED_COURSE, mode="verified")
        pe = self.pe(CYBERSECURITY, CYBERSECURITY_CURRICULUM, key="gt-0006", user=frank)
        pce = self.pce(pe, SECOND_SHARED_COURSE, course_enrollment=verified)
        controls["verified_mode_kept"]["groups"].append(
            self.group(pes=[pe], pces=[pce], course_enrollments=[verified], users=[frank], keys=["gt-0006"])
        )

        uma = self.user("uma")
        realized = self.pe(UNKNOWN_PROGRAM, UNKNOWN_CURRICULUM, key="gt-0009", user=uma)
        realized_pce = self.pce(realized, LONE_COURSE)
        waiting = self.pe(UNKNOWN_PROGRAM, UNKNOWN_CURRICULUM, key="gt-1009", status="pending")
        waiting_pce = self.pce(waiting, LONE_COURSE)
        controls["unknown_program"]["groups"].append(
            self.group(
                pes=[realized, waiting],
                pces=[realized_pce, waiting_pce],
                course_enrollments=[realized_pce.course_enrollment],
                users=[uma],
                keys=["gt-0009", "gt-1009"],
            )
        )

        # Expired: the cascade takes the PCE and its pending role; history keeps "-" rows of both enrollments.
        pe = self.pe(CYBERSECURITY, CYBERSECURITY_CURRICULUM, key="gt-1099", status="pending")
        pce = self.pce(pe, SHARED_COURSE)
        self.CARA.objects.create(enrollment=pce, role="staff")
        pe_id, pce_id = pe.id, pce.id
        pe.delete()
        controls["deleted_waiting_enrollment"]["groups"].append(
            self.group(pe_ids=[pe_id], pce_ids=[pce_id], keys=["gt-1099"])
        )

        zed = self.user("zed")
        pe = self.pe(ANALYTICS, ANALYTICS_CURRICULUM, key="gt-0010", user=zed)
        pce = self.pce(pe, ANALYTICS_COURSE)
        group = self.group(
            pes=[pe], pces=[pce], course_enrollments=[pce.course_enrollment], users=[zed], keys=["gt-0010"]
        )
        zed.delete()
        controls["deleted_user"]["groups"].append(group)

    def extra_learner(self, number):
        program, curriculum, course = (
            (CYBERSECURITY, CYBERSECURITY_CURRICULUM, SHARED_COURSE),
            (ANALYTICS, ANALYTICS_CURRICULUM, ANALYTICS_COURSE),
            (OTHER, OTHER_CURRICULUM, THIRD_SHARED_COURSE),
        )[number % 3]
        key = f"gt-9{number:05d}"
        if number % 2:
            pe = self.pe(program, curriculum, key=key, status="pending")
        else:
            pe = self.pe(program, curriculum, key=key, user=self.user(f"learner{number:05d}"))
        self.pce(pe, course)

    # ----------------------------------------------------------------- the report

    def report(self):
        from django.db.models import Q

        pe_history = self.PE.historical_records.model
        pce_history = self.PCE.historical_records.model
        counted = [self.User, self.CourseEnrollment, self.PE, self.PCE, self.CARA, pe_history, pce_history]
        if self.CourseOverview is not None:
            counted.append(self.CourseOverview)
        return {
            "counts": {model._meta.db_table: model.objects.count() for model in counted},
            "shapes": self.shapes,
            "controls": self.controls,
            "waiting_program_enrollment_ids": sorted(self.PE.objects.filter(user=None).values_list("id", flat=True)),
            "realized_program_enrollment_ids": sorted(
                self.PE.objects.filter(~Q(user=None)).values_list("id", flat=True)
            ),
            "course_access_role_assignment_ids": sorted(self.role_assignment_ids),
            "programs": {
                name: str(value)
                for name, value in (
                    ("CYBERSECURITY", CYBERSECURITY),
                    ("ANALYTICS", ANALYTICS),
                    ("OTHER", OTHER),
                    ("MIT", MIT),
                    ("UNKNOWN_PROGRAM", UNKNOWN_PROGRAM),
                )
            },
            "organizations": {str(program): organization for program, organization in ORGANIZATION_OF.items()},
            "case_sensitive_keys": self.case_sensitive_keys,
        }
