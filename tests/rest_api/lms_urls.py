"""The host's URLs (its ``ROOT_URLCONF``: the standalone host's or the LMS's), plus what the LMS-middleware
tests need next to them.

* ``control/``: a JWT view that does not name ``NotJwtRestrictedApplication`` (as most LMS views),
  to show that the middleware is active in the stack.
* ``elsewhere/``: the app mounted a second time under another instance namespace, as a host with
  its own namespace would, to show that nothing in the app reverses through a fixed namespace.
"""

from importlib import import_module

from django.conf import settings
from django.urls import include, path
from edx_rest_framework_extensions.auth.jwt.authentication import JwtAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView


class ControlView(APIView):
    authentication_classes = (JwtAuthentication,)
    permission_classes = (IsAuthenticated,)

    def get(self, request):
        return Response({"username": request.user.username})


urlpatterns = [
    *import_module(settings.ROOT_URLCONF).urlpatterns,
    path("control/", ControlView.as_view()),
    path("elsewhere/", include(("program_enrollments.rest_api.urls", "program_enrollments"), namespace="elsewhere")),
]
