"""Fuzzing of API v1: whatever a caller sends, the answer is never a server error.

Two layers, both deterministic (derandomized Hypothesis, no example database) and in-process:

* every operation of the OpenAPI schema the app serves, driven by Schemathesis (its coverage
  cases, then valid and invalid generated requests) with a staff JWT. Half of the generated
  requests name a real program (and course run) of the test catalog, and half of the bodies
  carry realistic statuses, learners and curricula, so that most requests reach the handlers;
* arbitrary JSON, realistic or not, sent to every write endpoint of a real program.

The database is not reset between the examples of one test: earlier writes give later
requests enrollments to update, conflict with and transfer.
"""

from __future__ import annotations

import base64
import json
from contextlib import contextmanager
from urllib.parse import urlencode

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, connections
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.meta import TestPhase

from program_enrollments.constants import ProgramCourseEnrollmentStatus, ProgramEnrollmentStatus
from tests import catalog as c
from tests.factories import SupportStaffFactory
from tests.rest_api.conftest import jwt_header

BASE = "/api/program_enrollments/v1"

# Examples of each schema operation in the fuzzing phase (coverage cases come on top).
MAX_EXAMPLES = 30


class _Django:
    """Django's WSGI handler, run as the test client runs it: without recycling the database
    connection at the end of each request, which would end the transaction the test runs in.
    A server error's traceback is in the test's captured log (logger ``django.request``)."""

    def __init__(self):
        self.handler = get_wsgi_application()

    def __call__(self, environ, start_response):
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        try:
            response = self.handler(environ, start_response)
            try:
                body = b"".join(response)
            finally:
                response.close()
        finally:
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)
        return [body]


APP = _Django()

CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {
            "mode": "all",
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",
            # The JWT comes from the test, not from the generator.
            "with-security-parameters": False,
        },
        "phases": {"stateful": {"enabled": False}},
        "checks": {"enabled": False, "not_a_server_error": {"enabled": True}},
    }
)


@contextmanager
def _requests_without_transactions():
    """Requests served without ``ATOMIC_REQUESTS`` (the LMS sets it): the schema is fetched while pytest
    collects the tests, when the database is closed to them, and the schema needs none."""
    database = connections.settings["default"]
    atomic = database.get("ATOMIC_REQUESTS", False)
    database["ATOMIC_REQUESTS"] = False
    try:
        yield
    finally:
        database["ATOMIC_REQUESTS"] = atomic


with _requests_without_transactions():
    schema = schemathesis.openapi.from_wsgi(f"{BASE}/schema/", APP, config=CONFIG)

# Real targets of the test catalog, including a course run outside the program (404) and
# programs other than the one most requests name.
PROGRAM_TARGETS = [{"program_uuid": str(program)} for program in (c.CYBERSECURITY, c.OTHER, c.MIT, c.ANALYTICS)]
COURSE_TARGETS = [
    {"program_uuid": str(program), "course_key": course}
    for program, course in (
        (c.CYBERSECURITY, c.SHARED_COURSE),
        (c.CYBERSECURITY, c.SECOND_SHARED_COURSE),
        (c.OTHER, c.SHARED_COURSE),
        (c.OTHER, c.ANALYTICS_COURSE),
        (c.MIT, c.SHARED_COURSE),
        (c.CYBERSECURITY, c.ANALYTICS_COURSE),
        (c.CYBERSECURITY, c.LONE_COURSE),
    )
]

STUDENT_KEYS = ["a", "b", "A", "learner-1", "learner-2", " a", "a\x00", "k" * 255]
STATUSES = [*ProgramEnrollmentStatus.values, *ProgramCourseEnrollmentStatus.values, "graduated"]
CURRICULA = [str(curriculum) for curriculum in c.CURRICULUM_OF.values()]
PROGRAMS = [str(program) for program in c.CURRICULUM_OF]
COURSES = [c.SHARED_COURSE, c.SECOND_SHARED_COURSE, c.ANALYTICS_COURSE, c.LONE_COURSE, "course-v1:Nobody+X+Y"]

# Realistic values of the fields the bodies carry, by name.
REALISTIC = {
    "student_key": st.sampled_from(STUDENT_KEYS),
    "status": st.sampled_from(STATUSES),
    "curriculum_uuid": st.sampled_from(CURRICULA),
    "course_staff": st.booleans(),
    "to_program_uuid": st.sampled_from(PROGRAMS),
    "to_curriculum_uuid": st.none() | st.sampled_from(CURRICULA),
    "student_keys": st.none() | st.lists(st.sampled_from(STUDENT_KEYS), max_size=4),
    "course_keys": st.none() | st.lists(st.sampled_from(COURSES), min_size=1, max_size=3),
    "source_status": st.none() | st.sampled_from(ProgramEnrollmentStatus.values),
    "dry_run": st.booleans(),
}


def _realistic_object(value):
    """The object with each field it has given a realistic value (fields it lacks stay absent)."""
    if not isinstance(value, dict):
        return st.just(value)
    known = {name: REALISTIC[name] for name in value if name in REALISTIC}
    return st.fixed_dictionaries(known).map(lambda drawn: {**value, **drawn})


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Half of the requests go to a real program (and course run) instead of the generated one."""
    if not path_parameters or "program_uuid" not in path_parameters:
        return st.just(path_parameters)
    targets = COURSE_TARGETS if "course_key" in path_parameters else PROGRAM_TARGETS
    return st.sampled_from(targets).map(lambda target: {**path_parameters, **target}) | st.just(path_parameters)


def _cursor(tokens):
    """A cursor as the pagination writes it: base64 of its offset, reverse and position."""
    return base64.b64encode(urlencode(tokens).encode("ascii")).decode("ascii")


CURSORS = st.fixed_dictionaries(
    {"p": st.integers().map(str) | st.text(max_size=6)},
    optional={"o": st.integers(min_value=-1, max_value=3).map(str), "r": st.sampled_from(["0", "1"])},
)


@schema.hook
def flatmap_query(context, query):
    """Half of the generated cursors are replaced by well-formed ones, so that paging is reached."""
    if not isinstance(query, dict) or "cursor" not in query:
        return st.just(query)
    return st.just(query) | CURSORS.map(lambda cursor: {**query, "cursor": _cursor(cursor)})


@schema.hook
def flatmap_body(context, body):
    """Half of the bodies keep their generated values; the others get realistic ones."""
    if isinstance(body, list):
        realistic = st.tuples(*(_realistic_object(item) for item in body)).map(list)
    elif isinstance(body, dict):
        realistic = _realistic_object(body)
    else:
        return st.just(body)
    return st.just(body) | realistic


FORM_MEDIA_TYPES = {"multipart/form-data", "application/x-www-form-urlencoded"}


@schema.hook
def filter_case(context, case):
    """Coverage cases go as JSON only: a form body is never a list, so its hundreds of coverage
    variants would all take the same 400 path (the fuzzing phase still sends form bodies)."""
    meta = case.meta
    return meta is None or meta.phase.name != TestPhase.COVERAGE or case.media_type not in FORM_MEDIA_TYPES


@schema.hook
def map_case(context, case):
    """Coverage cases and schema examples that vary anything but the path go to a real program."""
    meta = case.meta
    if (
        meta is not None
        and meta.phase.name != TestPhase.FUZZING
        and "program_uuid" in case.path_parameters
        and meta.phase.data.parameter_location != ParameterLocation.PATH
    ):
        targets = COURSE_TARGETS if "course_key" in case.path_parameters else PROGRAM_TARGETS
        case.path_parameters = {**case.path_parameters, **targets[0]}
    return case


@pytest.fixture
def staff_jwt(catalog):
    return {"Authorization": jwt_header(SupportStaffFactory(username="fuzz-staff"))["HTTP_AUTHORIZATION"]}


@schema.parametrize()
@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_no_server_error_from_any_operation(case, staff_jwt):
    # The sandbox endpoint switched on: off, it answers the built-in app's 501 by design.
    with override_settings(ENABLE_ENROLLMENT_RESET=True):
        case.call_and_validate(headers=staff_jwt, checks=[not_a_server_error])


# Arbitrary JSON values, and the same shapes the endpoints expect with fields of any type.
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)


JSON_OBJECTS = st.dictionaries(st.text(max_size=8), JSON, max_size=3)


def _field(name):
    return REALISTIC[name] | JSON


def _json_object(*names):
    return st.fixed_dictionaries({}, optional={name: _field(name) for name in names}) | JSON


ENROLLMENTS = st.lists(_json_object("student_key", "status", "curriculum_uuid", "course_staff"), max_size=5) | JSON
TRANSFER = _json_object(
    "to_program_uuid", "to_curriculum_uuid", "student_keys", "course_keys", "source_status", "dry_run"
) | st.builds(lambda program, extra: {"to_program_uuid": program, **extra}, st.sampled_from(PROGRAMS), JSON_OBJECTS)


def _enrollments_url(program):
    return f"{BASE}/programs/{program}/enrollments/"


def _course_url(program, course):
    return f"{BASE}/programs/{program}/courses/{course}/enrollments/"


WRITES = st.one_of(
    st.tuples(
        st.sampled_from(["post", "put", "patch"]),
        st.sampled_from([_enrollments_url(c.CYBERSECURITY), _enrollments_url(c.OTHER)]),
        ENROLLMENTS,
    ),
    st.tuples(
        st.sampled_from(["post", "put", "patch"]),
        st.sampled_from(
            [
                _course_url(c.CYBERSECURITY, c.SHARED_COURSE),
                _course_url(c.OTHER, c.SHARED_COURSE),
                _course_url(c.CYBERSECURITY, c.SECOND_SHARED_COURSE),
            ]
        ),
        ENROLLMENTS,
    ),
    st.tuples(
        st.just("post"),
        st.sampled_from([f"{BASE}/programs/{c.CYBERSECURITY}/transfers/", f"{BASE}/programs/{c.OTHER}/transfers/"]),
        TRANSFER,
    ),
)


@given(writes=st.lists(WRITES, min_size=1, max_size=3))
@settings(
    max_examples=100,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_arbitrary_json_to_write_endpoints_is_never_a_server_error(catalog, staff, writes):
    for method, url, body in writes:
        response = staff.client.generic(
            method.upper(), url, json.dumps(body), content_type="application/json", **staff.headers
        )
        request = f"{method.upper()} {url} {json.dumps(body)}"
        assert response.status_code < 500, request
        if 400 <= response.status_code < 500 and response.status_code != 422:
            assert "developer_message" in response.json(), f"{request} -> {response.status_code} {response.content}"


@pytest.mark.parametrize("body", [b"[{", b"\xff\xfe[]", b"NaN", b"[Infinity]", b'{"a": 1}' * 3, b""])
def test_unparsable_bodies_are_400(catalog, staff, body):
    for url in (_enrollments_url(c.CYBERSECURITY), _course_url(c.CYBERSECURITY, c.SHARED_COURSE)):
        response = staff.client.generic("PUT", url, body, content_type="application/json", **staff.headers)
        assert response.status_code == 400, (url, body, response.content)
        assert response.json()["developer_message"]


# Found by the fuzzing above, kept as plain examples.
@pytest.mark.parametrize(
    "url",
    [
        # A well-formed cursor whose position is not an id.
        pytest.param(f"{BASE}/programs/{c.CYBERSECURITY}/enrollments/?cursor={_cursor({'p': 'abc'})}", id="cursor"),
        pytest.param(
            f"{BASE}/programs/{c.CYBERSECURITY}/courses/{c.SHARED_COURSE}/enrollments/?cursor={_cursor({'p': 'abc'})}",
            id="course-cursor",
        ),
        # NUL characters, which PostgreSQL refuses in text.
        pytest.param(f"{BASE}/learners/?username=a%00b", id="nul-username"),
        pytest.param(f"{BASE}/learners/?organization=GTx&student_key=a%00b", id="nul-student-key"),
        pytest.param(f"{BASE}/learners/?organization=G%00Tx&student_key=a", id="nul-organization"),
    ],
)
def test_malformed_query_strings_are_not_server_errors(catalog, staff, url):
    staff.client.raise_request_exception = False
    assert staff.get(url).status_code < 500
