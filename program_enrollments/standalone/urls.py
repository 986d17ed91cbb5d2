"""URLs of the standalone host: the admin, and the app where an Open edX LMS would mount it."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from program_enrollments.standalone.oauth.views import AccessTokenView

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("oauth2/access_token", AccessTokenView.as_view(), name="access_token"),
    path("oauth2/access_token/", AccessTokenView.as_view()),
    # As edx-django-utils' get_plugin_url_patterns mounts the app in an Open edX LMS.
    path(
        "api/program_enrollments/",
        include(("program_enrollments.rest_api.urls", "program_enrollments"), namespace="programs_api"),
    ),
]
