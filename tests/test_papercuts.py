"""Small things a first-time user meets: the token type, the linking command's arguments, re-running the demo."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from program_enrollments import api
from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment
from tests import catalog as c
from tests import hosts
from tests.api.helpers import enroll

pytestmark = pytest.mark.django_db

standalone_only = pytest.mark.skipif(
    not hosts.is_standalone(),
    reason="the standalone host's own token endpoint and demo command (an Open edX LMS has its own)",
)

DEMO_PROGRAM = f"/api/program_enrollments/v1/programs/{c.CYBERSECURITY}/enrollments/"


def _demo_token(client, **extra):
    form = {"grant_type": "client_credentials", "client_id": "demo-registrar", "client_secret": "demo-registrar-secret"}
    return client.post("/oauth2/access_token", {**form, **extra})


@standalone_only
def test_a_token_asked_without_token_type_is_a_jwt_the_api_accepts():
    call_command("setup_demo")
    client = Client()
    response = _demo_token(client)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "JWT"
    listed = client.get(DEMO_PROGRAM, HTTP_AUTHORIZATION=f"JWT {body['access_token']}")
    assert listed.status_code == 200 and len(listed.json()["results"]) == 4


@standalone_only
def test_token_types():
    call_command("setup_demo")
    client = Client()
    assert _demo_token(client, token_type="JWT").json()["token_type"] == "JWT"
    assert _demo_token(client, token_type="bearer").json()["token_type"] == "Bearer"
    refused = _demo_token(client, token_type="mac")
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_request" and "jwt" in refused.json()["error_description"]


def test_link_command_refuses_a_key_repeated_in_another_case(catalog):
    enroll(c.CYBERSECURITY, ["ab-1"])
    with pytest.raises(CommandError, match=r"external user key ab-1 provided multiple times \(as AB-1"):
        call_command("link_program_enrollments", str(c.CYBERSECURITY), "ab-1:alice", "AB-1:bob")
    assert ProgramEnrollment.objects.get().user is None


def test_link_command_without_learners_fails(catalog):
    with pytest.raises(CommandError, match="no learners given"):
        call_command("link_program_enrollments", str(c.CYBERSECURITY))


@standalone_only
def test_setup_demo_rerun_after_a_transfer_says_where_learners_stand(capsys):
    call_command("setup_demo")
    admin = get_user_model().objects.get(username="admin")
    report = api.transfer_program_enrollments(
        from_program_uuid=c.CYBERSECURITY,
        to_program_uuid=c.OTHER,
        to_curriculum_uuid=None,
        student_keys=["GT-1001"],
        course_keys=None,
        source_status="canceled",
        dry_run=False,
        actor=admin,
    )
    assert [outcome.status for outcome in report.outcomes] == ["transferred"]
    capsys.readouterr()
    call_command("setup_demo")
    out = capsys.readouterr().out
    # The transfer is left as it is, and the closing lines say so.
    assert f"GT-1001 (learner1): canceled in program {c.CYBERSECURITY}" in out
    assert f"through program {c.OTHER}" in out
    assert f"GT-1002 (learner2): enrolled in program {c.CYBERSECURITY}; active in" in out
    assert f"GT-2001 (no account yet): enrolled in program {c.CYBERSECURITY}; active in" in out
    moved = ProgramCourseEnrollment.objects.get(program_enrollment__external_user_key="GT-1001", status="active")
    assert moved.program_enrollment.program_uuid == c.OTHER
