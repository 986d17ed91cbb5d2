"""Turning Python API arguments into checked values, or an InvalidRequest naming the problem."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from uuid import UUID

from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey

from program_enrollments.backends import catalog_backend
from program_enrollments.constants import STUDENT_KEY_MAX_LENGTH
from program_enrollments.data import ProgramData
from program_enrollments.exceptions import InvalidRequest, ProgramDoesNotExist
from program_enrollments.identity import student_key_problem


def as_uuid(value, *, name: str) -> UUID:
    if isinstance(value, UUID):
        return value
    if isinstance(value, str):
        try:
            return UUID(value)
        except ValueError:
            pass
    raise InvalidRequest(f"{name} must be a UUID, not {value!r}.")


def as_course_key(value) -> CourseKey:
    if isinstance(value, CourseKey):
        return value
    if isinstance(value, str) and len(value) <= 255:
        try:
            return CourseKey.from_string(value)
        except InvalidKeyError:
            pass
    raise InvalidRequest(f"{value!r} is not a valid course key.")


def as_student_key(value, *, position: int | None = None) -> str:
    where = f"item {position}: " if position is not None else ""
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"{where}student_key must be a non-blank string, not {value!r}.")
    problem = student_key_problem(value, STUDENT_KEY_MAX_LENGTH)
    if problem is not None:
        raise InvalidRequest(f"{where}{problem}")
    return value


def field(item, name: str, default=None):
    """Read ``name`` from a request given as a data object or a mapping."""
    if isinstance(item, Mapping):
        return item.get(name, default)
    return getattr(item, name, default)


def get_program(program_uuid) -> ProgramData:
    """Return the catalog's program, or raise ProgramDoesNotExist."""
    uuid = as_uuid(program_uuid, name="program_uuid")
    program = catalog_backend().get_program(uuid)
    if program is None:
        raise ProgramDoesNotExist(f"Program {uuid} does not exist.")
    return program


def student_keys(values: Iterable) -> list[str]:
    return [as_student_key(value, position=index) for index, value in enumerate(values)]
