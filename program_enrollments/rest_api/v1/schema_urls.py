"""The endpoints described by the OpenAPI schema, rooted where the host mounts them."""

from django.urls import include, path

urlpatterns = [path("api/program_enrollments/v1/", include("program_enrollments.rest_api.v1.urls"))]
