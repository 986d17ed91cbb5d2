"""Shorthands for calling the Python API in tests."""

from program_enrollments import api
from tests import catalog

PUT = {"create": True, "update": True}
POST = {"create": True, "update": False}
PATCH = {"create": False, "update": True}


def enroll(program, keys, status="enrolled", mode=PUT, **kwargs):
    return api.write_program_enrollments(
        program_uuid=program,
        requests=[
            {"student_key": key, "status": status, "curriculum_uuid": catalog.CURRICULUM_OF[program]} for key in keys
        ],
        **mode,
        **kwargs,
    )


def enroll_course(program, course, keys, status="active", mode=PUT, **kwargs):
    return api.write_program_course_enrollments(
        program_uuid=program,
        course_key=course,
        requests=[{"student_key": key, "status": status} for key in keys],
        **mode,
        **kwargs,
    )
