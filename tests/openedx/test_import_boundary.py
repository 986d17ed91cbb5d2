"""Installed in an LMS, the package loads nothing of the standalone host."""

import sys

import pytest


@pytest.fixture
def our_app():
    from django.apps import apps

    if apps.get_app_config("program_enrollments").name != "program_enrollments":
        pytest.skip("needs the LMS with the package installed (the taken-over run of make test-openedx)")


@pytest.mark.django_db
def test_no_standalone_module_is_loaded_by_the_lms(our_app, client):
    from django.core import checks
    from django.urls import reverse

    checks.run_checks()
    response = client.get(reverse("programs_api:v1:program_enrollments", args=["509c2e6c-f4e2-5b32-bc77-5137159b0719"]))
    assert response.status_code == 401
    loaded = sorted(name for name in sys.modules if name.startswith("program_enrollments.standalone"))
    assert loaded == []
    assert "program_enrollments.openedx.backends" in sys.modules
