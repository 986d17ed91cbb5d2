"""``POST integration-reset``: wipe one organization's program enrollments (partners' integration sandboxes).

The endpoint of Open edX's built-in app, at the same path (no trailing slash),
behind the same flag (``ENABLE_ENROLLMENT_RESET``), with the same body and
answers. What it deletes is the Python API's (``reset_program_enrollment_data``).
"""

from __future__ import annotations

from uuid import UUID

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, inline_serializer
from edx_rest_framework_extensions.permissions import JwtRestrictedApplication, NotJwtRestrictedApplication
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from program_enrollments import api, conf
from program_enrollments.api.access import may_write_some_organization
from program_enrollments.data import ProgramData
from program_enrollments.rest_api.v1 import schema as described
from program_enrollments.rest_api.v1.authentication import ConfiguredAuthenticationClasses
from program_enrollments.rest_api.v1.parsers import DepthLimitedJSONParser
from program_enrollments.rest_api.v1.permissions import (
    CONTENT_ORG_FILTER,
    WRITE_SCOPE,
    IsActiveUser,
    current_claims,
    may_act_on,
)
from program_enrollments.rest_api.v1.schema import extend_schema
from program_enrollments.rest_api.v1.views import _APIView

# The answers of the built-in view, word for word (JSON strings).
SUCCESS = "success"
NOT_ENABLED = "reset not enabled on this environment"
MISSING_ORGANIZATION = "missing required body content 'organization'"


class MayWriteSomeOrganization(BasePermission):
    """The caller may write some organization's programs: everyone else is refused before the flag is read.

    As the built-in view, whose permission classes refuse non-staff callers before it looks
    at its flag. Which organization is decided in the view (``may_act_on``).
    """

    def has_permission(self, request, view):
        claims = current_claims(request) or {}
        if claims.get("is_restricted"):
            return WRITE_SCOPE in set(claims.get("scopes") or ()) and any(
                str(value).startswith(CONTENT_ORG_FILTER) for value in claims.get("filters") or ()
            )
        return may_write_some_organization(request.user)


class EnrollmentDataResetView(_APIView):
    """Delete every program enrollment of an organization's programs (sandboxes of test partners only)."""

    authentication_classes = ConfiguredAuthenticationClasses()
    # Names NotJwtRestrictedApplication, so an LMS's EnsureJWTAuthSettingsMiddleware keeps it (see permissions).
    permission_classes = (
        IsAuthenticated
        & IsActiveUser
        & (NotJwtRestrictedApplication | JwtRestrictedApplication)
        & MayWriteSomeOrganization,
    )
    parser_classes = (DepthLimitedJSONParser,)
    schema = AutoSchema()

    @extend_schema(
        summary="Reset an organization's enrollment data (integration sandboxes)",
        request=inline_serializer(
            "IntegrationReset", fields={"organization": serializers.CharField(help_text="Short key, e.g. GTx.")}
        ),
        responses={
            200: OpenApiResponse(
                OpenApiTypes.STR,
                description='"success": the enrollment data was deleted.',
                examples=[OpenApiExample("Done", value="success", response_only=True)],
            ),
            400: OpenApiResponse(
                described.ResetRefusalSerializer,
                description="organization missing or not a string (a JSON string), or a body that is not JSON.",
            ),
            **described.WRITE_COMMON_RESPONSES,
            403: OpenApiResponse(
                described.DetailErrorSerializer, description="Not allowed to write this organization's programs."
            ),
            501: OpenApiResponse(OpenApiTypes.STR, description="ENABLE_ENROLLMENT_RESET is off on this LMS."),
        },
        description=(
            "Only where ENABLE_ENROLLMENT_RESET is on (a sandbox). Deletes the program enrollments, program "
            "course enrollments and pending course roles of every program of the organization that has "
            "enrollments, and takes back the course access they gave (course enrollments are deactivated or "
            "restored, never deleted; user accounts are left alone). History is kept. Needs write access to "
            "the organization's programs."
        ),
        examples=[OpenApiExample("Reset GTx", value={"organization": "GTx"})],
    )
    def post(self, request):
        if not conf.enrollment_reset_enabled():
            return Response(NOT_ENABLED, status=status.HTTP_501_NOT_IMPLEMENTED)
        body = request.data
        organization = body.get("organization") if isinstance(body, dict) else None
        if not isinstance(organization, str) or not organization.strip():
            return Response(MISSING_ORGANIZATION, status=status.HTTP_400_BAD_REQUEST)
        organization = organization.strip()
        # Judged as for any program of the organization (only its organization counts).
        if not may_act_on(request, ProgramData(uuid=UUID(int=0), organization_key=organization), write=True):
            raise PermissionDenied()
        programs = api.programs_of_organization(organization)
        if programs:
            api.reset_program_enrollment_data(program_uuids=programs, actor=request.user)
        return Response(SUCCESS)
