"""The learner pages' endpoints (the Master's learner portal): the Open edX built-in app's paths and answers.

* ``programs/enrollments/`` and ``programs/readonly_access/``: the programs whose pages the
  caller may open (``?type=``, default ``masters``);
* ``users/{username}/programs/{program_uuid}/courses``: a cursor page of the caller's course
  runs in the program, with their progress (page size 10, at most 25);
* ``programs/{program_uuid}/overview/``: the same, unpaged, as ``{"course_runs": [...]}``.

As in the built-in app: a signed-in user (session, JWT or the LMS's bearer token) reads their
own pages only, and only while ``enrolled`` in the program; errors carry a
``developer_message``. Restricted JWT applications are refused (the LMS's middleware refused
them the built-in views). Every rule is the Python API's (``program_enrollments.api.learner``).
"""

from __future__ import annotations

from functools import cached_property

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from edx_rest_framework_extensions.permissions import NotJwtRestrictedApplication
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound, PermissionDenied
from rest_framework.pagination import Cursor
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from program_enrollments import api
from program_enrollments.backends import catalog_backend
from program_enrollments.data import LearnerCourseRun
from program_enrollments.rest_api.v1 import learner_serializers as shapes
from program_enrollments.rest_api.v1 import schema as described
from program_enrollments.rest_api.v1.authentication import ConfiguredAuthenticationClasses
from program_enrollments.rest_api.v1.pagination import EnrollmentCursorPagination
from program_enrollments.rest_api.v1.permissions import IsActiveUser
from program_enrollments.rest_api.v1.schema import extend_schema
from program_enrollments.rest_api.v1.views import ERROR, _APIView
from program_enrollments.routers import replica_reads

# Signed-in, active users acting for themselves. Naming NotJwtRestrictedApplication keeps an
# LMS's EnsureJWTAuthSettingsMiddleware from changing the classes (it would add the same refusal).
LEARNER_ACCESS = IsAuthenticated & IsActiveUser & NotJwtRestrictedApplication

NOT_AUTHENTICATED = OpenApiResponse(
    ERROR, description="Not authenticated: no credentials, or an expired or invalid token."
)
NOT_ALLOWED = OpenApiResponse(
    ERROR,
    description="Not the caller's own page, the caller is not enrolled in the program, "
    "or a restricted JWT application.",
)
NO_PROGRAM = OpenApiResponse(ERROR, description="No program with this UUID (error_code program_does_not_exist).")
# Answers of every learner endpoint, whatever the request.
LEARNER_COMMON = {503: described.COMMON_RESPONSES[503]}
PROGRAM_UUID = OpenApiParameter("program_uuid", OpenApiTypes.STR, OpenApiParameter.PATH, description="The program.")


class LearnerCourseRunPagination(EnrollmentCursorPagination):
    """The built-in app's paging of a learner's course runs: cursor on the course enrollment id, 10 a page, 25 at most.

    The learner's runs of one program are a short list (at most the program's course runs),
    read in one query; a page is cut from it as DRF's cursor pagination cuts a queryset,
    with the same ``cursor`` parameter.
    """

    page_size = 10
    max_page_size = 25

    def get_page_size(self, request):
        return super(EnrollmentCursorPagination, self).get_page_size(request)

    def paginate_list(self, items: list[tuple[int, str]], request) -> list[tuple[int, str]]:
        """The page of ``items`` (``(id, ...)`` tuples in id order) that the request's cursor points at."""
        self.request = request
        self.base_url = request.build_absolute_uri()
        self.page_size = self.get_page_size(request)
        self.cursor = self.decode_cursor(request)
        position = int(self.cursor.position) if self.cursor and self.cursor.position is not None else None
        backwards = bool(self.cursor and self.cursor.reverse)
        if backwards:
            before = [item for item in items if item[0] < position]
            self.page = before[-self.page_size :]
            self.has_previous = len(before) > self.page_size
            self.has_next = True
        else:
            after = [item for item in items if position is None or item[0] > position]
            self.page = after[: self.page_size]
            self.has_next = len(after) > self.page_size
            self.has_previous = position is not None
        self._position = position
        return self.page

    def get_next_link(self):
        if not self.has_next:
            return None
        position = self.page[-1][0] if self.page else self._position
        return self.encode_cursor(Cursor(offset=0, reverse=False, position=position))

    def get_previous_link(self):
        if not self.has_previous:
            return None
        position = self.page[0][0] if self.page else self._position
        return self.encode_cursor(Cursor(offset=0, reverse=True, position=position))


class _LearnerView(_APIView):
    """Authentication, the learner access rule, and errors as ``{"developer_message": ...}``."""

    authentication_classes = ConfiguredAuthenticationClasses()
    permission_classes = (LEARNER_ACCESS,)
    schema = AutoSchema()

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        # The built-in app's error body (its views' DeveloperErrorViewMixin), status and headers kept.
        if isinstance(exc, APIException) and isinstance(response.data, dict) and "detail" in response.data:
            body = {"developer_message": str(response.data["detail"])}
            if getattr(exc, "error_code", None):
                body["error_code"] = exc.error_code
            response.data = body
        return response


class _ProgramNotFound(NotFound):
    error_code = "program_does_not_exist"
    default_detail = "no program exists with given key"


class _LearnerProgramView(_LearnerView):
    """A page of one program: 404 for an unknown program, then 403 unless the caller is ``enrolled`` in it."""

    @cached_property
    def program(self):
        try:
            return catalog_backend().get_program(self.kwargs["program_uuid"])
        except ValueError:  # not a UUID: no such program
            return None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if self.program is None:
            raise _ProgramNotFound()
        if not api.is_enrolled_in_program(request.user, self.program.uuid):
            raise PermissionDenied()

    def overviews(self, runs: list[LearnerCourseRun]) -> list[dict]:
        """The runs as the built-in app returns them; optional keys only when the LMS has a value."""
        request = self.request
        items = []
        for run in runs:
            overview = run.overview
            item = {
                "course_run_id": overview.course_key,
                "display_name": overview.display_name,
                "course_run_status": run.status,
                "course_run_url": request.build_absolute_uri(overview.course_run_url),
                "start_date": overview.start,
                "end_date": overview.end,
                "due_dates": [
                    {"name": due.name, "url": request.build_absolute_uri(due.url), "date": due.date}
                    for due in overview.due_dates
                ],
            }
            if overview.emails_enabled is not None:
                item["emails_enabled"] = overview.emails_enabled
            if overview.certificate_download_url:
                item["certificate_download_url"] = request.build_absolute_uri(overview.certificate_download_url)
            if run.micromasters_title:
                item["micromasters_title"] = run.micromasters_title
            if overview.resume_url:
                item["resume_course_run_url"] = request.build_absolute_uri(overview.resume_url)
            items.append(item)
        return shapes.CourseRunOverviewSerializer(items, many=True).data


READABLE_PROGRAMS_SCHEMA = {
    "summary": "Programs the caller may open in the learner portal",
    "parameters": [
        OpenApiParameter(
            "type",
            OpenApiTypes.STR,
            description="Program type, compared ignoring case (default masters). "
            "It filters the programs the caller administers, not those they are a learner of.",
        )
    ],
    "responses": {
        **LEARNER_COMMON,
        200: shapes.ReadableProgramSerializer(many=True),
        401: NOT_AUTHENTICATED,
        403: NOT_ALLOWED,
    },
    "description": "Global staff and users who may read every program get every program of the type. "
    "Others get the programs of the type they administer (an organization grant, or the course staff "
    "or instructor role in one of the program's course runs), then the programs they are enrolled or "
    "pending in, whatever their type. Served at programs/enrollments/ and programs/readonly_access/.",
}


class ReadOnlyAccessView(_LearnerView):
    """The programs whose learner pages the caller may open (``programs/readonly_access/``)."""

    @extend_schema(operation_id="programs_readonly_access_list", **READABLE_PROGRAMS_SCHEMA)
    @replica_reads()
    def get(self, request):
        programs = api.fetch_readable_programs(request.user, program_type=request.query_params.get("type"))
        return Response(shapes.ReadableProgramSerializer(programs, many=True).data, status=status.HTTP_200_OK)


class LearnerProgramEnrollmentsView(ReadOnlyAccessView):
    """The same list at the built-in app's other path (``programs/enrollments/``)."""

    @extend_schema(operation_id="learner_program_enrollments_list", **READABLE_PROGRAMS_SCHEMA)
    @replica_reads()
    def get(self, request):
        return super().get(request)


class UserProgramCourseRunsView(_LearnerProgramView):
    """A cursor page of the caller's course runs in a program, with their progress."""

    pagination_class = LearnerCourseRunPagination

    @extend_schema(
        summary="The caller's course runs in a program",
        parameters=[
            OpenApiParameter(
                "username", OpenApiTypes.STR, OpenApiParameter.PATH, description="The caller's own username."
            ),
            PROGRAM_UUID,
            OpenApiParameter("page_size", OpenApiTypes.INT, description="Runs per page: 10 by default, 25 at most."),
            OpenApiParameter("cursor", OpenApiTypes.STR, description="The page, from a next or previous link."),
        ],
        responses={
            **LEARNER_COMMON,
            200: shapes.CourseRunOverviewPageSerializer,
            401: NOT_AUTHENTICATED,
            403: NOT_ALLOWED,
            404: NO_PROGRAM,
        },
        description="The caller's active course enrollments in a paid mode (verified, masters, executive "
        "education, paid bootcamp) in the program's course runs, taken through the program or not, in "
        "enrollment order; course_run_status is in_progress, upcoming or completed.",
    )
    @replica_reads()
    def get(self, request, username, program_uuid):
        if request.user.username != username:
            raise PermissionDenied()
        paginator = self.pagination_class()
        enrollments = api.fetch_learner_course_run_enrollments(request.user, self.program)
        page = paginator.paginate_list(enrollments, request)
        runs = api.fetch_learner_course_runs(request.user, self.program, page)
        return paginator.get_paginated_response(self.overviews(runs))


class ProgramCourseRunsOverviewView(_LearnerProgramView):
    """Every course run of the caller in a program, unpaged (the built-in app's older endpoint)."""

    @extend_schema(
        summary="All the caller's course runs in a program",
        parameters=[PROGRAM_UUID],
        responses={
            **LEARNER_COMMON,
            200: shapes.CourseRunOverviewListSerializer,
            401: NOT_AUTHENTICATED,
            403: NOT_ALLOWED,
            404: NO_PROGRAM,
        },
        description="As users/{username}/programs/{program_uuid}/courses, for the caller, in one list.",
    )
    @replica_reads()
    def get(self, request, program_uuid):
        enrollments = api.fetch_learner_course_run_enrollments(request.user, self.program)
        runs = api.fetch_learner_course_runs(request.user, self.program, enrollments)
        return Response({"course_runs": self.overviews(runs)})
