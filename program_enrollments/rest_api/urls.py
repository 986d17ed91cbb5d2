"""URLs the host mounts under ``api/program_enrollments/``.

The versioned REST API (``v1/``) is added here.
"""

app_name = "program_enrollments_api"

urlpatterns: list = []
