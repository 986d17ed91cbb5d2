"""URLs the host mounts under ``api/program_enrollments/``."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

app_name = "program_enrollments_api"

urlpatterns = [
    path("v1/", include("program_enrollments.rest_api.v1.urls")),
    path(
        "v1/schema/", SpectacularAPIView.as_view(urlconf="program_enrollments.rest_api.v1.schema_urls"), name="schema"
    ),
    path("v1/docs/", SpectacularRedocView.as_view(url_name="program_enrollments_api:schema"), name="docs"),
]
