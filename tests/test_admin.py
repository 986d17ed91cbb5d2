"""The admin shows enrollments to staff and offers no way around the Python API."""

import pytest

from tests.api.helpers import enroll, enroll_course
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_enrollment_lists_search_by_student_key(catalog, staff_client):
    enroll(catalog.CYBERSECURITY, ["Findable-1", "other"])
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["Findable-1"])
    page = staff_client.get("/admin/program_enrollments/programenrollment/", {"q": "findable"})
    assert page.status_code == 200
    assert "Findable-1" in page.text and ">other<" not in page.text
    page = staff_client.get("/admin/program_enrollments/programcourseenrollment/", {"q": "Findable-1"})
    assert page.status_code == 200 and catalog.SHARED_COURSE in page.text


def test_admin_cannot_add_change_or_delete(catalog, staff_client):
    enroll(catalog.CYBERSECURITY, ["a"])
    from program_enrollments.models import ProgramEnrollment

    enrollment = ProgramEnrollment.objects.get()
    assert staff_client.get("/admin/program_enrollments/programenrollment/add/").status_code == 403
    detail = staff_client.get(f"/admin/program_enrollments/programenrollment/{enrollment.pk}/change/")
    assert detail.status_code == 200 and 'name="_save"' not in detail.text
    history = staff_client.get(f"/admin/program_enrollments/programenrollment/{enrollment.pk}/history/")
    assert history.status_code == 200 and "enrolled" in history.text
    assert staff_client.post(f"/admin/program_enrollments/programenrollment/{enrollment.pk}/delete/").status_code == 403


def test_demo_admin_can_log_in(client, django_user_model):
    from django.core.management import call_command

    call_command("setup_demo")
    response = client.post("/admin/login/?next=/admin/", {"username": "admin", "password": "admin"})
    assert response.status_code == 302 and response.url == "/admin/"
    assert "Program enrollments" in client.get("/admin/").text
