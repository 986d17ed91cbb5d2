"""URLs of API v1 (trailing slashes are part of the contract)."""

from django.urls import path, re_path

from program_enrollments.rest_api.v1 import views

app_name = "v1"

urlpatterns = [
    path(
        "programs/<str:program_uuid>/enrollments/", views.ProgramEnrollmentsView.as_view(), name="program_enrollments"
    ),
    re_path(
        r"^programs/(?P<program_uuid>[^/]+)/courses/(?P<course_key>[^/]+)/enrollments/$",
        views.ProgramCourseEnrollmentsView.as_view(),
        name="program_course_enrollments",
    ),
    path("programs/<str:program_uuid>/transfers/", views.ProgramTransfersView.as_view(), name="program_transfers"),
    path("learners/", views.LearnerView.as_view(), name="learner"),
]
