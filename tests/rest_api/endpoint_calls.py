"""One call of each v1 endpoint family and method, and what the enrollment tables hold: for authorization tests.

Each write call would change the database if it were allowed (``test_authorization`` checks that
with a caller who may write), so an unchanged ``snapshot()`` after a refused call shows that
nothing was written.
"""

from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment
from tests import catalog as c

BASE = "/api/program_enrollments/v1"

# The organization of each program the calls are made on.
ORGANIZATION_OF = {c.CYBERSECURITY: "GTx", c.MIT: "MITx"}
TRANSFER_TARGET_OF = {c.CYBERSECURITY: c.OTHER, c.MIT: c.OTHER}


def seed(program=c.CYBERSECURITY):
    """Learners ``a`` to ``f`` in ``program``, ``a``, ``e`` and ``f`` active in the shared course; ``a`` in
    the transfer target too. Each write call changes a learner of its own, so that the calls can run in turn."""
    from tests.api.helpers import enroll, enroll_course

    enroll(program, ["a", "b", "c", "d", "e", "f"])
    enroll_course(program, c.SHARED_COURSE, ["a", "e", "f"])
    enroll(TRANSFER_TARGET_OF[program], ["a"])


def calls(program=c.CYBERSECURITY):
    """name -> (method, path, data) of every endpoint family on ``program``."""
    enrollments = f"{BASE}/programs/{program}/enrollments/"
    course = f"{BASE}/programs/{program}/courses/{c.SHARED_COURSE}/enrollments/"
    curriculum = str(c.CURRICULUM_OF[program])
    return {
        "GET program": ("get", enrollments, None),
        "POST program": (
            "post",
            enrollments,
            [{"student_key": "new", "status": "enrolled", "curriculum_uuid": curriculum}],
        ),
        "PUT program": (
            "put",
            enrollments,
            [{"student_key": "b", "status": "suspended", "curriculum_uuid": curriculum}],
        ),
        "PATCH program": ("patch", enrollments, [{"student_key": "c", "status": "suspended"}]),
        "GET course": ("get", course, None),
        "POST course": ("post", course, [{"student_key": "d", "status": "active"}]),
        "PUT course": ("put", course, [{"student_key": "e", "status": "inactive"}]),
        "PATCH course": ("patch", course, [{"student_key": "f", "status": "inactive"}]),
        "POST transfer": (
            "post",
            f"{BASE}/programs/{program}/transfers/",
            {"to_program_uuid": str(TRANSFER_TARGET_OF[program]), "student_keys": ["a"]},
        ),
        "GET learner": ("get", f"{BASE}/learners/", {"organization": ORGANIZATION_OF[program], "student_key": "a"}),
    }


READS = ["GET program", "GET course", "GET learner"]
WRITES = [name for name in calls() if name not in READS]


def call(caller, name, program=c.CYBERSECURITY):
    method, path, data = calls(program)[name]
    if method == "get":
        return caller.client.get(path, data, **caller.headers)
    return getattr(caller, method)(path, data)


def snapshot():
    """Every enrollment row as it is, and how many history rows there are."""
    return (
        sorted(ProgramEnrollment.objects.values_list("program_uuid", "external_user_key", "status", "curriculum_uuid")),
        sorted(
            ProgramCourseEnrollment.objects.values_list(
                "program_enrollment__program_uuid", "program_enrollment__external_user_key", "course_key", "status"
            )
        ),
        ProgramEnrollment.history.count(),
        ProgramCourseEnrollment.history.count(),
    )


def codes(caller, names, program=c.CYBERSECURITY):
    """name -> (status code, whether the database changed) of each call, made in turn."""
    results = {}
    for name in names:
        before = snapshot()
        response = call(caller, name, program)
        results[name] = (response.status_code, snapshot() != before)
    return results
