"""
Minimal stand-in of ``ProgramEnrollmentsView`` in ``lms/djangoapps/program_enrollments/rest_api/v1/views.py``.

GET only. Keeps what a client of the built-in endpoint observes: the authentication classes and the
``JWT_RESTRICTED_APPLICATION_OR_USER_ACCESS`` permission of edx-drf-extensions (so restricted JWTs are
refused, as on the platform), a 404 with error code ``program_does_not_exist`` when the catalog cache
does not know the program, and a cursor page of ``student_key``, ``status``, ``account_exists`` and
``curriculum_uuid`` ordered by id, 100 per page unless ``page_size`` says otherwise. The platform's
``BearerAuthenticationAllowInactiveUser`` (django-oauth-toolkit tokens) is left out.
"""

from edx_rest_framework_extensions import permissions
from edx_rest_framework_extensions.auth.jwt.authentication import JwtAuthentication
from edx_rest_framework_extensions.auth.session.authentication import SessionAuthenticationAllowInactiveUser
from rest_framework import serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from ...models import ProgramEnrollment


class ProgramEnrollmentPagination(CursorPagination):
    """The platform's cursor pagination for program enrollments."""

    ordering = "id"
    page_size = 100
    page_size_query_param = "page_size"


class ProgramEnrollmentSerializer(serializers.Serializer):
    """One program enrollment as the built-in GET lists it."""

    student_key = serializers.CharField(source="external_user_key", allow_null=True)
    status = serializers.CharField()
    account_exists = serializers.SerializerMethodField()
    curriculum_uuid = serializers.UUIDField()

    def get_account_exists(self, enrollment):
        return enrollment.user_id is not None


class ProgramEnrollmentsView(APIView):
    """List the enrollments of one program (``GET programs/<program_uuid>/enrollments/``)."""

    authentication_classes = (JwtAuthentication, SessionAuthenticationAllowInactiveUser)
    permission_classes = (permissions.JWT_RESTRICTED_APPLICATION_OR_USER_ACCESS,)
    pagination_class = ProgramEnrollmentPagination

    def get(self, request, program_uuid=None):
        # The catalog cache is a platform module; imported here so loading the URLconf needs no catalog.
        from openedx.core.djangoapps.catalog.utils import get_programs

        if not get_programs(uuid=program_uuid):
            return Response(
                {"developer_message": "no program exists with given key", "error_code": "program_does_not_exist"},
                status=status.HTTP_404_NOT_FOUND,
            )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(ProgramEnrollment.objects.filter(program_uuid=program_uuid), request, self)
        return paginator.get_paginated_response(ProgramEnrollmentSerializer(page, many=True).data)
