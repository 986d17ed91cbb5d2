"""
Minimal stand-in of ``lms/djangoapps/program_enrollments/rest_api/v1/urls.py``.

Only the read side of ``program_enrollments`` (``programs/<uuid>/enrollments/``) is served, under the
platform's route and URL name; the platform's other v1 routes (course enrollments, grades, overview,
read-only access, learner lists, integration reset) are not reproduced.
"""

from django.urls import re_path

from .constants import PROGRAM_UUID_PATTERN
from .views import ProgramEnrollmentsView

app_name = "v1"

urlpatterns = [
    re_path(
        rf"^programs/{PROGRAM_UUID_PATTERN}/enrollments/$",
        ProgramEnrollmentsView.as_view(),
        name="program_enrollments",
    ),
]
