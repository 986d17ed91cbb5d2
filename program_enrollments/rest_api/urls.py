"""URLs the host mounts under ``api/program_enrollments/``, in the namespace ``programs_api``.

The names follow the Open edX built-in app (``programs_api:v1:program_enrollments``, ...).
edx-django-utils includes this module with the application namespace ``program_enrollments``
(the AppConfig's name); nothing here reverses through a fixed namespace.

Every API path answers the same with or without its trailing slash: the v1 paths are
resolved as written, then with the trailing slash added (or removed). A path under the API
that names no endpoint is answered with a JSON 404. So a host's ``APPEND_SLASH``
(``CommonMiddleware``) never redirects an API request, which would drop a write's body.
"""

from django.http import JsonResponse
from django.urls import URLResolver, include, path, re_path, reverse
from django.urls.exceptions import Resolver404
from django.urls.resolvers import RoutePattern
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from program_enrollments.rest_api.v1.schema import SchemaDocsView, SchemaView

app_name = "program_enrollments"


class SlashOptionalResolver(URLResolver):
    """A resolver whose paths match with or without their trailing slash (reversing gives the documented form)."""

    def resolve(self, path):
        try:
            return super().resolve(path)
        except Resolver404 as not_found:
            path = str(path)
            other = path[:-1] if path.endswith("/") else f"{path}/"
            try:
                return super().resolve(other)
            except Resolver404:
                raise not_found from None


def slash_optional(route: str, urlconf: str) -> SlashOptionalResolver:
    """``path(route, include(urlconf))`` whose paths match with or without their trailing slash."""
    urlconf_module, urls_app_name, namespace = include(urlconf)
    return SlashOptionalResolver(
        RoutePattern(route, is_endpoint=False), urlconf_module, app_name=urls_app_name, namespace=namespace
    )


class EndpointNotFoundView(View):
    """A JSON 404 for a path under the API that names no endpoint, pointing at the published schema.

    Any method, no authentication, no CSRF check: the answer is the same for everyone and
    changes nothing.
    """

    authentication_classes = ()
    permission_classes = ()

    def dispatch(self, request, *args, **kwargs):
        namespace = request.resolver_match.namespace if request.resolver_match else ""
        prefix = f"{namespace}:" if namespace else ""
        return JsonResponse(
            {
                "developer_message": f"No endpoint at {request.path}. The endpoints, their paths and methods are "
                f"described by the OpenAPI schema at {reverse(prefix + 'schema')} "
                f"(documentation page: {reverse(prefix + 'docs')}).",
                "error_code": "endpoint_not_found",
            },
            status=404,
        )


SCHEMA = SchemaView.as_view(urlconf="program_enrollments.rest_api.v1.schema_urls")

urlpatterns = [
    slash_optional("v1/", "program_enrollments.rest_api.v1.urls"),
    path("v1/schema/", SCHEMA, name="schema"),
    path("v1/schema", SCHEMA),
    path("v1/docs/", SchemaDocsView.as_view(), name="docs"),
    path("v1/docs", SchemaDocsView.as_view()),
    # Last: every other path under the API.
    re_path(r"^", csrf_exempt(EndpointNotFoundView.as_view())),
]
