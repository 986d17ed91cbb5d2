"""Real answers of every endpoint conform to the published OpenAPI schema.

Each test sends real requests through the whole host (middleware, authentication, views),
valid and invalid, and checks every answer against the schema the API serves at ``schema/``:
its status code must be one the operation documents, and its body must match what the
schema gives for that code (Schemathesis' response validation, ``jsonschema`` underneath).
The last test checks that every documented operation was answered here at least once.
"""

from __future__ import annotations

import json
import re

import pytest
import requests
import schemathesis
import yaml
from django.test import Client, override_settings
from drf_spectacular.validation import validate_schema
from schemathesis.core.transport import Response

from program_enrollments.models import OrganizationGrant
from tests import catalog as c
from tests import hosts
from tests.api.helpers import enroll, enroll_course
from tests.factories import ProgramEnrollmentFactory, UserFactory
from tests.rest_api.conftest import Caller, app_settings

pytestmark = pytest.mark.django_db

BASE = "/api/program_enrollments/v1"
UNKNOWN_PROGRAM = "00000000-0000-0000-0000-00000000abcd"

# (method, path template, status code) of every answer validated in this module.
ANSWERED: set[tuple[str, str, int]] = set()


@pytest.fixture(scope="module")
def published(django_db_blocker):
    """The schema as the API publishes it: a valid OpenAPI 3 document, loaded by Schemathesis."""
    with django_db_blocker.unblock():
        document = yaml.safe_load(Client().get(f"{BASE}/schema/").content)
    validate_schema(document)  # the OpenAPI 3.0 meta-schema
    return document, schemathesis.openapi.from_dict(document)


def _template(document, method, path):
    """The documented path that ``path`` is an instance of, for ``method``."""
    for template, operations in document["paths"].items():
        pattern = re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path) and method.lower() in operations:
            return template
    raise AssertionError(f"{method} {path} is not in the published schema")


def conform(published, method, url, response):
    """Assert that ``response`` to ``method url`` is documented by the published schema; return it."""
    document, schema = published
    path = url.split("?", 1)[0]
    template = _template(document, method, path)
    operation = schema[template][method.upper()]
    documented = document["paths"][template][method.lower()]["responses"]
    code = response.status_code
    assert str(code) in documented, (
        f"{method} {url}: {code} is not documented ({sorted(documented)}): {response.content!r}"
    )
    content = response.getvalue()
    media_types = documented[str(code)].get("content", {})
    if not media_types:
        assert content == b"", f"{method} {url}: {code} documents no body: {content!r}"
    media_type = response.get("Content-Type", "").split(";")[0]
    assert not media_types or media_type in media_types, f"{method} {url}: {code} {media_type} not in {media_types}"
    if media_type != "application/json":
        ANSWERED.add((method.upper(), template, code))
        return response
    operation.validate_response(
        Response(
            status_code=code,
            headers={name.lower(): [value] for name, value in response.items()},
            content=content,
            request=requests.Request(method.upper(), f"http://testserver{url}").prepare(),
            elapsed=0.0,
            verify=False,
        )
    )
    ANSWERED.add((method.upper(), template, code))
    return response


class Checked:
    """A caller whose every answer is validated against the published schema."""

    def __init__(self, published, caller):
        self.published, self.caller = published, caller

    def send(self, method, url, body=None, *, raw=None, content_type="application/json", **extra):
        client = self.caller.client
        data = raw if raw is not None else (json.dumps(body) if body is not None else "")
        if method == "get":
            response = client.get(url, **self.caller.headers, **extra)
        else:
            response = client.generic(method.upper(), url, data, content_type=content_type, **self.caller.headers)
        return conform(self.published, method, url, response)


@pytest.fixture
def as_staff(published, staff):
    return Checked(published, staff)


@pytest.fixture
def as_anonymous(published, anonymous):
    return Checked(published, anonymous)


@pytest.fixture
def as_outsider(published, outsider):
    return Checked(published, outsider)


def program_url(program=c.CYBERSECURITY):
    return f"{BASE}/programs/{program}/enrollments/"


def course_url(program=c.CYBERSECURITY, course=c.SHARED_COURSE):
    return f"{BASE}/programs/{program}/courses/{course}/enrollments/"


def program_item(key, status="enrolled", curriculum=c.CYBERSECURITY_CURRICULUM):
    return {"student_key": key, "status": status, "curriculum_uuid": str(curriculum)}


@pytest.mark.parametrize("method", ["post", "put"])
def test_program_enrollment_writes(catalog, as_staff, method):
    ok = as_staff.send(method, program_url(), [program_item("NC-0001"), program_item("NC-0002", "pending")])
    assert ok.status_code == 200 and ok.json() == {"NC-0001": "enrolled", "NC-0002": "pending"}
    some = as_staff.send(method, program_url(), [program_item("NC-0003"), program_item("NC-0004", "graduated")])
    assert some.status_code == 207 and some.json()["NC-0004"] == "invalid-status"
    none = as_staff.send(method, program_url(), [program_item("NC-0005", "graduated")])
    assert none.status_code == 422
    assert as_staff.send(method, program_url(), []).status_code == 204


def test_program_enrollment_patch_and_list(catalog, as_staff):
    as_staff.send("put", program_url(), [program_item("NC-0001"), program_item("NC-0002")])
    assert as_staff.send("patch", program_url(), [{"student_key": "NC-0001", "status": "suspended"}]).status_code == 200
    missing = as_staff.send("patch", program_url(), [{"student_key": "NC-9999", "status": "suspended"}])
    assert missing.status_code == 422 and missing.json() == {"NC-9999": "not-in-program"}
    page = as_staff.send("get", program_url() + "?page_size=1")
    assert page.status_code == 200 and len(page.json()["results"]) == 1
    assert as_staff.send("get", page.json()["next"].replace("http://testserver", "")).status_code == 200


@pytest.mark.parametrize("method", ["post", "put", "patch"])
def test_program_enrollment_write_refusals(catalog, as_staff, as_anonymous, as_outsider, method):
    url = program_url()
    assert as_staff.send(method, url, {"student_key": "a"}).status_code == 400
    assert as_staff.send(method, url, [{"status": "enrolled"}]).status_code == 400
    assert as_staff.send(method, url, raw="[{").status_code == 400
    assert as_staff.send(method, url, raw="student_key=a", content_type="text/plain").status_code == 415
    assert as_staff.send(method, program_url(UNKNOWN_PROGRAM), [program_item("a")]).status_code == 404
    with app_settings(MAX_BATCH_SIZE=1):
        assert as_staff.send(method, url, [program_item("a"), program_item("b")]).status_code == 413
    assert as_anonymous.send(method, url, [program_item("a")]).status_code == 401
    assert as_outsider.send(method, url, [program_item("a")]).status_code == 403


def test_program_enrollment_list_refusals(catalog, as_staff, as_anonymous, as_outsider):
    assert as_staff.send("get", program_url(UNKNOWN_PROGRAM)).status_code == 404
    assert as_staff.send("get", program_url() + "?cursor=not-a-cursor").status_code == 404
    assert as_anonymous.send("get", program_url()).status_code == 401
    assert as_outsider.send("get", program_url()).status_code == 403
    invalid_token = Checked(as_staff.published, Caller())
    invalid_token.caller.headers = {"HTTP_AUTHORIZATION": "JWT not.a.token"}
    assert invalid_token.send("get", program_url()).status_code == 401


@pytest.mark.parametrize("method", ["post", "put", "patch"])
def test_course_enrollment_writes(catalog, as_staff, method):
    keys = ["NC-0001", "NC-0002", "NC-0003"]
    enroll(c.CYBERSECURITY, keys)
    enroll(c.OTHER, ["NC-0002"])
    enroll_course(c.OTHER, c.SHARED_COURSE, ["NC-0002"])
    if method == "patch":
        enroll_course(c.CYBERSECURITY, c.SHARED_COURSE, keys, status="inactive")
    ok = as_staff.send(method, course_url(), [{"student_key": "NC-0001", "status": "active"}])
    assert ok.status_code == 200 and ok.json() == {"NC-0001": "active"}
    body = [{"student_key": "NC-0003", "status": "inactive"}, {"student_key": "NC-0002", "status": "active"}]
    some = as_staff.send(method, course_url(), body)
    assert some.status_code == 207 and some.json()["NC-0002"] == "conflicted"
    assert as_staff.send(method, course_url(), [{"student_key": "NC-9", "status": "active"}]).status_code == 422
    assert as_staff.send(method, course_url(), [{"student_key": "NC-1", "status": 5}]).status_code == 400
    assert as_staff.send(method, course_url(c.CYBERSECURITY, c.LONE_COURSE), []).status_code == 404
    assert as_staff.send(method, course_url(c.CYBERSECURITY, "not-a-course"), []).status_code == 404


def test_course_enrollment_list(catalog, as_staff, as_anonymous, as_outsider):
    enroll(c.CYBERSECURITY, ["NC-0001"])
    enroll_course(c.CYBERSECURITY, c.SHARED_COURSE, ["NC-0001"])
    page = as_staff.send("get", course_url())
    assert page.status_code == 200 and page.json()["results"][0]["student_key"] == "NC-0001"
    assert as_staff.send("get", course_url(c.CYBERSECURITY, c.LONE_COURSE)).status_code == 404
    assert as_anonymous.send("get", course_url()).status_code == 401
    assert as_outsider.send("get", course_url()).status_code == 403


def test_grades(catalog, as_staff, as_anonymous, as_outsider):
    url = f"{BASE}/programs/{c.CYBERSECURITY}/courses/{c.SHARED_COURSE}/grades/"
    assert as_staff.send("get", url).status_code == 204
    users = {"g-1": UserFactory(username="graded-1"), "g-2": UserFactory(username="graded-2")}
    hosts.add_sso_identities("GTx", users)
    enroll(c.CYBERSECURITY, list(users))
    enroll_course(c.CYBERSECURITY, c.SHARED_COURSE, list(users))
    hosts.set_course_grade(users["g-1"], c.SHARED_COURSE, percent=0.9, letter_grade="Pass", passed=True)
    hosts.set_course_grade(users["g-2"], c.SHARED_COURSE, percent=0.1, letter_grade="", passed=False)
    grades = as_staff.send("get", url + "?page_size=1")
    assert grades.status_code == 200 and grades.json()["results"][0]["passed"] is True
    assert as_staff.send("get", f"{BASE}/programs/{c.CYBERSECURITY}/courses/{c.LONE_COURSE}/grades/").status_code == 404
    assert as_anonymous.send("get", url).status_code == 401
    assert as_outsider.send("get", url).status_code == 403


def test_grades_with_errors(catalog, as_staff, monkeypatch):
    url = f"{BASE}/programs/{c.CYBERSECURITY}/courses/{c.SHARED_COURSE}/grades/"
    users = {"g-1": UserFactory(username="graded-1"), "g-2": UserFactory(username="graded-2")}
    hosts.add_sso_identities("GTx", users)
    enroll(c.CYBERSECURITY, list(users))
    enroll_course(c.CYBERSECURITY, c.SHARED_COURSE, list(users))
    backend = hosts.lms_backend_class()
    real = backend.get_course_grades
    failing = {users["g-2"].id}

    def grades(self, course_key, user_ids):
        found = real(self, course_key, user_ids)
        found.update({user_id: "Timeout while calculating grade" for user_id in failing & set(user_ids)})
        return found

    monkeypatch.setattr(backend, "get_course_grades", grades)
    assert as_staff.send("get", url).status_code == 207
    failing.add(users["g-1"].id)
    assert as_staff.send("get", url).status_code == 422


def test_transfers(catalog, as_staff, as_anonymous, as_outsider):
    url = f"{BASE}/programs/{c.CYBERSECURITY}/transfers/"
    enroll(c.CYBERSECURITY, ["NC-0001", "NC-0002"])
    enroll_course(c.CYBERSECURITY, c.SHARED_COURSE, ["NC-0001", "NC-0002"])
    target = str(c.OTHER)
    dry = as_staff.send("post", url, {"to_program_uuid": target, "student_keys": ["NC-0001"], "dry_run": True})
    assert dry.status_code == 200 and dry.json() == {"NC-0001": "would-transfer"}
    some = as_staff.send("post", url, {"to_program_uuid": target, "student_keys": ["NC-0001", "NC-0404"]})
    assert some.status_code == 207 and some.json()["NC-0404"] == "not-in-program"
    assert as_staff.send("post", url, {"to_program_uuid": target, "student_keys": ["NC-0404"]}).status_code == 422
    assert as_staff.send("post", url, {"to_program_uuid": target, "student_keys": []}).status_code == 204
    assert as_staff.send("post", url, {"to_program_uuid": "nope"}).status_code == 400
    assert as_staff.send("post", url, ["not", "an", "object"]).status_code == 400
    assert as_staff.send("post", url, {"to_program_uuid": UNKNOWN_PROGRAM, "student_keys": ["a"]}).status_code == 404
    with app_settings(MAX_BATCH_SIZE=1):
        assert as_staff.send("post", url, {"to_program_uuid": target, "student_keys": ["a", "b"]}).status_code == 413
    assert as_anonymous.send("post", url, {"to_program_uuid": target}).status_code == 401
    assert as_outsider.send("post", url, {"to_program_uuid": target}).status_code == 403


def test_learner_view(catalog, as_staff, as_anonymous, published):
    user = UserFactory(username="viewed")
    ProgramEnrollmentFactory(user=user, external_user_key="NC-0001", program_uuid=c.CYBERSECURITY)
    enroll_course(c.CYBERSECURITY, c.SHARED_COURSE, ["NC-0001"])
    view = as_staff.send("get", f"{BASE}/learners/?username=viewed")
    assert view.status_code == 200 and view.json()["programs"][0]["student_key"] == "NC-0001"
    by_key = as_staff.send("get", f"{BASE}/learners/?organization=GTx&student_key=NC-0404")
    assert by_key.status_code == 200 and by_key.json()["programs"] == []
    assert as_staff.send("get", f"{BASE}/learners/").status_code == 400
    assert as_anonymous.send("get", f"{BASE}/learners/?username=viewed").status_code == 401
    reader = UserFactory(username="gtx-only")
    OrganizationGrant.objects.create(user=reader, organization_key="GTx", access="read")
    refused = Checked(published, Caller(reader)).send("get", f"{BASE}/learners/?organization=MITx&student_key=a")
    assert refused.status_code == 403


def test_integration_reset(catalog, as_staff, as_anonymous, as_outsider):
    url = f"{BASE}/integration-reset"
    enroll(c.CYBERSECURITY, ["NC-0001"])
    assert as_staff.send("post", url, {"organization": "GTx"}).status_code == 501
    with override_settings(ENABLE_ENROLLMENT_RESET=True):
        done = as_staff.send("post", url, {"organization": "GTx"})
        assert done.status_code == 200 and done.json() == "success"
        assert as_staff.send("post", url, {}).status_code == 400
        assert as_staff.send("post", url, raw="{").status_code == 400
        assert as_staff.send("post", url, raw="organization=GTx", content_type="text/plain").status_code == 415
        assert as_anonymous.send("post", url, {"organization": "GTx"}).status_code == 401
        assert as_outsider.send("post", url, {"organization": "GTx"}).status_code == 403


def test_learner_endpoints(catalog, published):
    user = UserFactory(username="learner")
    ProgramEnrollmentFactory(user=user, external_user_key="k-1", program_uuid=c.CYBERSECURITY, status="enrolled")
    learner = Checked(published, Caller(user))
    anonymous = Checked(published, Caller())
    for path in ("programs/enrollments/", "programs/readonly_access/"):
        listed = learner.send("get", f"{BASE}/{path}")
        assert listed.status_code == 200 and listed.json()[0]["uuid"] == str(c.CYBERSECURITY)
        assert anonymous.send("get", f"{BASE}/{path}").status_code == 401
    courses = f"{BASE}/users/learner/programs/{c.CYBERSECURITY}/courses"
    assert learner.send("get", courses).status_code == 200
    assert learner.send("get", f"{BASE}/users/someone-else/programs/{c.CYBERSECURITY}/courses").status_code == 403
    assert learner.send("get", f"{BASE}/users/learner/programs/{UNKNOWN_PROGRAM}/courses").status_code == 404
    assert anonymous.send("get", courses).status_code == 401
    overview = f"{BASE}/programs/{c.CYBERSECURITY}/overview/"
    body = learner.send("get", overview)
    assert body.status_code == 200 and body.json() == {"course_runs": []}
    assert learner.send("get", f"{BASE}/programs/{c.ANALYTICS}/overview/").status_code == 403
    assert learner.send("get", f"{BASE}/programs/{UNKNOWN_PROGRAM}/overview/").status_code == 404
    assert anonymous.send("get", overview).status_code == 401


def test_background_jobs(catalog, as_staff, as_anonymous, as_outsider, published):
    """The job endpoints, when the host has them: submissions (202), a job's status and its results."""
    document, _ = published
    jobs_path = f"{BASE}/programs/{{program_uuid}}/enrollments/jobs/"
    if jobs_path not in document["paths"]:
        pytest.skip("this version of the API has no background job endpoints")
    submitted = as_staff.send("post", program_url() + "jobs/", [program_item("NC-0001")])
    assert submitted.status_code == 202
    job = submitted.json()
    status_url = job["url"].replace("http://testserver", "")
    assert as_staff.send("get", status_url).status_code == 200
    assert as_staff.send("get", job["results_url"].replace("http://testserver", "")).status_code == 200
    unknown = f"{BASE}/programs/{c.CYBERSECURITY}/jobs/00000000-0000-0000-0000-000000000000/"
    assert as_staff.send("get", unknown).status_code == 404
    assert as_staff.send("get", unknown + "results").status_code == 404
    for method in ("post", "put", "patch"):
        items = (
            [program_item("NC-0002", "pending")]
            if method != "patch"
            else [{"student_key": "NC-0001", "status": "ended"}]
        )
        assert as_staff.send(method, program_url() + "jobs/", items).status_code == 202
        assert as_staff.send(method, program_url() + "jobs/", {"not": "a list"}).status_code == 400
        assert as_staff.send(method, program_url(UNKNOWN_PROGRAM) + "jobs/", items).status_code == 404
        assert as_anonymous.send(method, program_url() + "jobs/", items).status_code == 401
        assert as_outsider.send(method, program_url() + "jobs/", items).status_code == 403
        course_items = [{"student_key": "NC-0001", "status": "active"}]
        assert as_staff.send(method, course_url() + "jobs/", course_items).status_code == 202
        assert as_staff.send(method, course_url() + "jobs/", [{"status": 1}]).status_code == 400
        assert (
            as_staff.send(method, course_url(c.CYBERSECURITY, c.LONE_COURSE) + "jobs/", course_items).status_code == 404
        )
        assert as_anonymous.send(method, course_url() + "jobs/", course_items).status_code == 401
    transfers = f"{BASE}/programs/{c.CYBERSECURITY}/transfers/jobs/"
    move = {"to_program_uuid": str(c.OTHER), "student_keys": ["NC-0001"], "dry_run": True}
    assert as_staff.send("post", transfers, move).status_code == 202
    assert as_staff.send("post", transfers, {"to_program_uuid": "nope"}).status_code == 400
    assert as_staff.send("post", transfers, {**move, "to_program_uuid": UNKNOWN_PROGRAM}).status_code == 404
    assert as_anonymous.send("post", transfers, move).status_code == 401
    assert as_outsider.send("post", transfers, move).status_code == 403


def test_every_documented_operation_was_answered(published):
    """Run last in this module: each operation of the schema got a success and a refusal above."""
    if not ANSWERED:
        pytest.skip("Run with the rest of this module: it checks what the tests above answered.")
    document, _ = published
    for template, operations in document["paths"].items():
        for method in operations:
            if method == "parameters":
                continue
            codes = {code for verb, path, code in ANSWERED if (verb, path) == (method.upper(), template)}
            assert any(code < 300 for code in codes), f"{method.upper()} {template}: no success was validated"
            assert any(code >= 400 for code in codes), f"{method.upper()} {template}: no refusal was validated"
