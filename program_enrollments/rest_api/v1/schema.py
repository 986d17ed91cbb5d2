"""The OpenAPI schema: the shapes of the answers, how it describes the authentication classes, and its views.

Every answer of every endpoint is described here or next to its view: the per-learner status
maps of the writes (``{"<student key>": "<status>"}``, described as maps whose values are the
endpoint's statuses), the two error bodies (the app's ``developer_message`` and DRF's
``detail``), and the refusals every endpoint may give (401, 403, 415, 503: ``describe_refusals``).
``tests/rest_api/test_schema_responses.py`` validates real answers against the published schema.
"""

from drf_spectacular import utils
from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from program_enrollments.constants import (
    ProgramCourseEnrollmentStatus,
    ProgramEnrollmentStatus,
    TransferStatus,
    WriteStatus,
)
from program_enrollments.rest_api.v1.serializers import (
    ProgramCourseGradeErrorSerializer,
    ProgramCourseGradeSerializer,
)


def extend_schema(*args, **kwargs):
    """drf-spectacular's ``extend_schema``, on drf-spectacular's schema class whatever the host's default.

    On a view method, drf-spectacular builds on the method's own schema class, else on
    ``REST_FRAMEWORK['DEFAULT_SCHEMA_CLASS']``, read when the views module is imported. An
    Open edX LMS leaves that setting at DRF's own ``AutoSchema``, which cannot serve the
    schema; the method is given drf-spectacular's first.
    """
    decorate = utils.extend_schema(*args, **kwargs)

    def decorator(function):
        if "schema" not in getattr(function, "kwargs", {}):
            function.kwargs = {**getattr(function, "kwargs", {}), "schema": AutoSchema}
        return decorate(function)

    return decorator


class JwtAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "edx_rest_framework_extensions.auth.jwt.authentication.JwtAuthentication"
    match_subclasses = True
    name = "jwt"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A JWT from the LMS's /oauth2/access_token (token_type=jwt), sent as `JWT <token>`.",
        }


class OpenEdxBearerAuthenticationScheme(OpenApiAuthenticationExtension):
    """The Open edX LMS's OAuth2 access tokens (``openedx.core.lib.api.authentication``), present only there."""

    target_class = "openedx.core.lib.api.authentication.BearerAuthentication"
    match_subclasses = True
    optional = True
    name = "bearer"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "An OAuth2 access token of the LMS."}


class SessionAllowInactiveUserScheme(OpenApiAuthenticationExtension):
    """edx-drf-extensions' session authentication (the LMS's), described as drf-spectacular describes sessions."""

    target_class = "edx_rest_framework_extensions.auth.session.authentication.SessionAuthenticationAllowInactiveUser"
    match_subclasses = True
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        from django.conf import settings

        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}


# Refusals every authenticated operation may answer, described where an operation leaves them out
# (or names them without a body): the body is DRF's ``{"detail": ...}``, or the app's 503.
_REFUSALS = {
    "401": ("DetailError", "Not authenticated: no credentials, or an expired or invalid token."),
    "403": ("DetailError", "Authenticated, but not allowed to do this."),
    "503": ("Error", "The database is unavailable (error_code database_unavailable); retry after Retry-After."),
}
# And for an operation that reads a body.
_BODY_REFUSALS = {"415": ("DetailError", "A body in a media type the endpoint does not read.")}


def describe_refusals(result, generator, request, public):
    """drf-spectacular postprocessing hook: every secured operation documents 401, 403, 503 (and 415) with a body."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation or not operation.get("security"):
                continue
            refusals = {**_REFUSALS, **(_BODY_REFUSALS if "requestBody" in operation else {})}
            for code, (component, description) in refusals.items():
                if component not in schemas:
                    continue
                response = operation["responses"].setdefault(code, {"description": description})
                response.setdefault(
                    "content", {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}}
                )
    return result


class SchemaView(SpectacularAPIView):
    """The OpenAPI document: public, like the contract it describes.

    It authenticates nobody, so no host middleware (such as edx-drf-extensions'
    ``EnsureJWTAuthSettingsMiddleware``) changes drf-spectacular's own view classes through it.
    Its hooks (drf-spectacular's enum hook, then ``describe_refusals``) are its own, whatever
    the host's ``SPECTACULAR_SETTINGS``.
    """

    authentication_classes = ()
    permission_classes = (AllowAny,)
    custom_settings = {
        "POSTPROCESSING_HOOKS": [
            "drf_spectacular.hooks.postprocess_schema_enums",
            "program_enrollments.rest_api.v1.schema.describe_refusals",
        ]
    }


class SchemaDocsView(SpectacularRedocView):
    """The documentation page; it loads the schema from the ``schema`` URL next to its own.

    The URL name is resolved in the namespace the page was reached through, since each host
    mounts the API under its own namespace (``programs_api`` in an Open edX LMS).
    """

    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        namespace = request.resolver_match.namespace if request.resolver_match else ""
        self.url_name = f"{namespace}:schema" if namespace else "schema"
        return super().get(request, *args, **kwargs)


def _values(holder) -> list[str]:
    return [value for name, value in vars(holder).items() if name.isupper() and isinstance(value, str)]


WRITE_FAILURES = _values(WriteStatus)


class StatusMapSerializer(serializers.Serializer):
    """A JSON object mapping each student key of a request to the learner's status (no fixed property names).

    Subclasses name their endpoint's statuses; ``StatusMapExtension`` describes them as an
    object whose ``additionalProperties`` are strings of that enum.
    """

    statuses: tuple[str, ...] = ()
    example: dict[str, str] = {}


class ProgramEnrollmentStatusMapSerializer(StatusMapSerializer):
    """Each student key of a program enrollment write, mapped to the learner's new status or why it did not change."""

    statuses = (*ProgramEnrollmentStatus.values, *WRITE_FAILURES)
    example = {"NC-0001": "enrolled", "NC-0002": "duplicated"}


class CourseEnrollmentStatusMapSerializer(StatusMapSerializer):
    """Each student key of a course enrollment write, mapped to the learner's new status or why it did not change."""

    statuses = (*ProgramCourseEnrollmentStatus.values, *WRITE_FAILURES)
    example = {"NC-0001": "active", "NC-0002": "conflicted"}


class TransferStatusMapSerializer(StatusMapSerializer):
    """Each student key of a transfer, mapped to what happened to the learner."""

    statuses = tuple(_values(TransferStatus))
    example = {"NC-0001": "transferred", "NC-0002": "not-in-program"}


class StatusMapExtension(OpenApiSerializerExtension):
    """Describes a ``StatusMapSerializer`` as a map: ``additionalProperties`` with the status enum."""

    target_class = StatusMapSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        serializer = self.target if isinstance(self.target, type) else type(self.target)
        return {
            "type": "object",
            "description": (serializer.__doc__ or "").strip(),
            "additionalProperties": {"type": "string", "enum": list(dict.fromkeys(serializer.statuses))},
            "example": serializer.example,
        }


class ErrorSerializer(serializers.Serializer):
    """The app's error body: what went wrong, in words for the developer, and a stable code when there is one."""

    developer_message = serializers.CharField()
    error_code = serializers.CharField(required=False, help_text="A stable code, e.g. program_does_not_exist.")
    errors = serializers.JSONField(required=False, help_text="The offending items and fields of a malformed body.")


class DetailErrorSerializer(serializers.Serializer):
    """The error body of Django REST framework's own refusals (authentication, permission, media type, method)."""

    detail = serializers.CharField()


# Any error body: the app's, or Django REST framework's.
ANY_ERROR = utils.PolymorphicProxySerializer(
    component_name="AnyError",
    serializers=[ErrorSerializer, DetailErrorSerializer],
    resource_type_field_name=None,
)

# The refusals every endpoint of the partners' API may answer, before its own rules apply.
COMMON_RESPONSES = {
    401: OpenApiResponse(
        DetailErrorSerializer,
        description="Not authenticated: no credentials, or a token that is expired, badly signed or of an "
        "unknown kind. Send `Authorization: JWT <token>` (in an Open edX LMS, also the LMS's `Bearer` tokens).",
    ),
    403: OpenApiResponse(DetailErrorSerializer, description="Authenticated, but not allowed to do this."),
    503: OpenApiResponse(
        ErrorSerializer,
        description="The database is unavailable (error_code database_unavailable); retry after the "
        "Retry-After header's seconds.",
    ),
}

# The same for write endpoints, which also read a body.
WRITE_COMMON_RESPONSES = {
    **COMMON_RESPONSES,
    415: OpenApiResponse(DetailErrorSerializer, description="A body in a media type the endpoint does not read."),
}


class LearnerCourseSerializer(serializers.Serializer):
    """One of the learner's course runs in a program."""

    course_key = serializers.CharField()
    status = serializers.ChoiceField(choices=ProgramCourseEnrollmentStatus.choices)
    holds_active_slot = serializers.BooleanField(help_text="Whether this program holds the learner's active slot.")


class LearnerProgramSerializer(serializers.Serializer):
    """One of the learner's programs (of an organization the caller may read)."""

    program_uuid = serializers.UUIDField()
    program_title = serializers.CharField(allow_blank=True, help_text="Empty when the catalog no longer has it.")
    organization_key = serializers.CharField(allow_blank=True)
    curriculum_uuid = serializers.UUIDField()
    student_key = serializers.CharField(allow_blank=True, help_text="Empty for a learner enrolled by account only.")
    status = serializers.ChoiceField(choices=ProgramEnrollmentStatus.choices)
    courses = LearnerCourseSerializer(many=True)


class LearnerViewSerializer(serializers.Serializer):
    """Every program and course enrollment of one learner, and which program holds each active slot."""

    username = serializers.CharField(allow_blank=True, help_text="Empty when the learner has no account.")
    programs = LearnerProgramSerializer(many=True)
    active_slots = serializers.DictField(
        child=serializers.UUIDField(), help_text="Each course key with an active enrollment, mapped to its program."
    )


class ProgramCourseGradePageSerializer(serializers.Serializer):
    """A cursor page of grade rows; each row is a grade, or why the LMS could not compute it."""

    next = serializers.URLField(allow_null=True, help_text="The next page; null on the last one.")
    previous = serializers.URLField(allow_null=True, help_text="The previous page; null on the first one.")
    results = utils.PolymorphicProxySerializer(
        component_name="ProgramCourseGradeRow",
        serializers=[ProgramCourseGradeSerializer, ProgramCourseGradeErrorSerializer],
        resource_type_field_name=None,
        many=True,
    )


class ResetRefusalSerializer(serializers.Serializer):
    """``integration-reset``'s 400: the built-in app's JSON string, or DRF's error for a body that is not JSON."""


class ResetRefusalExtension(OpenApiSerializerExtension):
    target_class = ResetRefusalSerializer

    def map_serializer(self, auto_schema, direction):
        detail = auto_schema.resolve_serializer(DetailErrorSerializer, direction)
        return {
            "description": ResetRefusalSerializer.__doc__.strip(),
            "oneOf": [{"type": "string", "example": "missing required body content 'organization'"}, detail.ref],
        }
