"""Stand-in of ``lms/urls.py``: the admin, then every LMS plugin app's URLs, as the platform mounts them.

The platform's ``lms/urls.py`` ends with ``urlpatterns.extend(get_plugin_url_patterns(ProjectType.LMS))``:
each plugin app's ``url_config`` is mounted under its regex and namespace (the built-in
program_enrollments app: ``api/program_enrollments/``, namespace ``programs_api``).
"""

from django.contrib import admin
from django.urls import path
from edx_django_utils.plugins import get_plugin_url_patterns

from openedx.core.djangoapps.plugins.constants import ProjectType

urlpatterns = [
    path("admin/", admin.site.urls),
]

urlpatterns.extend(get_plugin_url_patterns(ProjectType.LMS))
