"""
Minimal stand-in of ``lms/djangoapps/program_enrollments/rest_api/urls.py``.

The LMS mounts this module through the AppConfig's ``plugin_app`` under ``api/program_enrollments/``
with namespace ``programs_api``; version 1 lives under ``v1/`` (namespace ``v1``), so names reverse as
``programs_api:v1:<name>``, as on the platform.
"""

from django.urls import include, path

from .v1 import urls as v1_urls

app_name = "lms.djangoapps.program_enrollments"

urlpatterns = [
    path("v1/", include(v1_urls)),
]
