"""URLs of API v1 (trailing slashes are part of the contract)."""

from django.urls import path, re_path

from program_enrollments.rest_api.v1 import job_views, learner_views, reset, views

app_name = "v1"

urlpatterns = [
    # The learner pages' endpoints, with the built-in app's names and patterns (the last two
    # match as prefixes, without ``$``, as there).
    path(
        "programs/enrollments/",
        learner_views.LearnerProgramEnrollmentsView.as_view(),
        name="learner_program_enrollments",
    ),
    path(
        "programs/readonly_access/",
        learner_views.ReadOnlyAccessView.as_view(),
        name="user_program_readonly_access",
    ),
    re_path(
        r"^programs/(?P<program_uuid>[A-Fa-f0-9-]+)/overview/",
        learner_views.ProgramCourseRunsOverviewView.as_view(),
        name="program_course_enrollments_overview",
    ),
    re_path(
        r"^users/(?P<username>[\w.@+-]+)/programs/(?P<program_uuid>[A-Fa-f0-9-]+)/courses",
        learner_views.UserProgramCourseRunsView.as_view(),
        name="user_program_course_enrollments",
    ),
    path(
        "programs/<str:program_uuid>/enrollments/", views.ProgramEnrollmentsView.as_view(), name="program_enrollments"
    ),
    re_path(
        r"^programs/(?P<program_uuid>[^/]+)/courses/(?P<course_key>[^/]+)/enrollments/$",
        views.ProgramCourseEnrollmentsView.as_view(),
        name="program_course_enrollments",
    ),
    re_path(
        r"^programs/(?P<program_uuid>[^/]+)/courses/(?P<course_key>[^/]+)/grades/$",
        views.ProgramCourseGradesView.as_view(),
        name="program_course_grades",
    ),
    path("programs/<str:program_uuid>/transfers/", views.ProgramTransfersView.as_view(), name="program_transfers"),
    # Background jobs: big writes and transfers (202 with the job's URL), their status and results.
    path(
        "programs/<str:program_uuid>/enrollments/jobs/",
        job_views.ProgramEnrollmentsJobView.as_view(),
        name="program_enrollments_job",
    ),
    re_path(
        r"^programs/(?P<program_uuid>[^/]+)/courses/(?P<course_key>[^/]+)/enrollments/jobs/$",
        job_views.ProgramCourseEnrollmentsJobView.as_view(),
        name="program_course_enrollments_job",
    ),
    path(
        "programs/<str:program_uuid>/transfers/jobs/",
        job_views.ProgramTransferJobView.as_view(),
        name="program_transfers_job",
    ),
    path("programs/<str:program_uuid>/jobs/<str:job_id>/", job_views.ProgramJobView.as_view(), name="program_job"),
    path(
        "programs/<str:program_uuid>/jobs/<str:job_id>/results",
        job_views.ProgramJobResultsView.as_view(),
        name="program_job_results",
    ),
    path("learners/", views.LearnerView.as_view(), name="learner"),
    # The built-in app's path and name: no trailing slash.
    path("integration-reset", reset.EnrollmentDataResetView.as_view(), name="reset_enrollment_data"),
]
