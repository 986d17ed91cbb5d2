"""The OpenAPI 3 schema describes every endpoint, and its documentation page is served."""

import pytest
import yaml

pytestmark = pytest.mark.django_db

BASE = "/api/program_enrollments/v1"


def test_schema_describes_every_endpoint_with_responses(client):
    response = client.get(f"{BASE}/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    assert set(paths) == {
        f"{BASE}/programs/{{program_uuid}}/enrollments/",
        f"{BASE}/programs/{{program_uuid}}/courses/{{course_key}}/enrollments/",
        f"{BASE}/programs/{{program_uuid}}/courses/{{course_key}}/grades/",
        f"{BASE}/programs/{{program_uuid}}/transfers/",
        f"{BASE}/learners/",
        f"{BASE}/integration-reset",
        f"{BASE}/programs/enrollments/",
        f"{BASE}/programs/readonly_access/",
        f"{BASE}/programs/{{program_uuid}}/overview/",
        f"{BASE}/users/{{username}}/programs/{{program_uuid}}/courses",
        f"{BASE}/programs/{{program_uuid}}/enrollments/jobs/",
        f"{BASE}/programs/{{program_uuid}}/courses/{{course_key}}/enrollments/jobs/",
        f"{BASE}/programs/{{program_uuid}}/transfers/jobs/",
        f"{BASE}/programs/{{program_uuid}}/jobs/{{job_id}}/",
        f"{BASE}/programs/{{program_uuid}}/jobs/{{job_id}}/results",
    }
    put = paths[f"{BASE}/programs/{{program_uuid}}/courses/{{course_key}}/enrollments/"]["put"]
    assert {"200", "207", "400", "401", "403", "404", "413", "422"} <= set(put["responses"])
    assert "conflicted" in put["description"]
    assert schema["components"]["securitySchemes"]["jwt"]["name"] == "Authorization"


def test_documentation_page_is_served_without_a_cdn(client):
    response = client.get(f"{BASE}/docs/")
    assert response.status_code == 200
    assert b"redoc" in response.content.lower()
    assert b"cdn." not in response.content


def test_schema_describes_the_learner_pages_responses(client):
    paths = yaml.safe_load(client.get(f"{BASE}/schema/").content)["paths"]
    courses = paths[f"{BASE}/users/{{username}}/programs/{{program_uuid}}/courses"]["get"]
    assert {"200", "401", "403", "404"} <= set(courses["responses"])
    overview = paths[f"{BASE}/programs/{{program_uuid}}/overview/"]["get"]
    assert {"200", "401", "403", "404"} <= set(overview["responses"])
    readonly = paths[f"{BASE}/programs/readonly_access/"]["get"]
    assert readonly["responses"]["200"]["content"]["application/json"]["schema"]["type"] == "array"
