"""URLs the host mounts under ``api/program_enrollments/``, in the namespace ``programs_api``.

The names follow the Open edX built-in app (``programs_api:v1:program_enrollments``, ...).
edx-django-utils includes this module with the application namespace ``program_enrollments``
(the AppConfig's name); nothing here reverses through a fixed namespace.
"""

from django.urls import include, path

from program_enrollments.rest_api.v1.schema import SchemaDocsView, SchemaView

app_name = "program_enrollments"

urlpatterns = [
    path("v1/", include("program_enrollments.rest_api.v1.urls")),
    path("v1/schema/", SchemaView.as_view(urlconf="program_enrollments.rest_api.v1.schema_urls"), name="schema"),
    path("v1/docs/", SchemaDocsView.as_view(), name="docs"),
]
