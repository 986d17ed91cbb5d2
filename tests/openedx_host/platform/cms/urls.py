"""Stand-in of ``cms/urls.py``: the admin, then every CMS plugin app's URLs."""

from django.contrib import admin
from django.urls import path
from edx_django_utils.plugins import get_plugin_url_patterns

from openedx.core.djangoapps.plugins.constants import ProjectType

urlpatterns = [
    path("admin/", admin.site.urls),
]

urlpatterns.extend(get_plugin_url_patterns(ProjectType.CMS))
