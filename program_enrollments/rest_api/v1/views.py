"""HTTP endpoints of API v1: status codes, error bodies and paging. Every decision is the Python API's."""

from __future__ import annotations

import logging
from functools import cached_property

from django.core.exceptions import RequestDataTooBig
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connection, connections, transaction
from django.template.response import SimpleTemplateResponse
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey
from rest_framework import status
from rest_framework.exceptions import ParseError, PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response
from rest_framework.views import APIView

from program_enrollments import api, conf
from program_enrollments.backends import catalog_backend
from program_enrollments.constants import (
    ProgramCourseEnrollmentStatus,
    ProgramEnrollmentStatus,
    TransferStatus,
)
from program_enrollments.exceptions import (
    CourseDoesNotExist,
    CourseNotInProgram,
    InvalidRequest,
    OrganizationNotReadable,
    ProgramDoesNotExist,
)
from program_enrollments.rest_api.v1 import schema as described
from program_enrollments.rest_api.v1 import serializers as shapes
from program_enrollments.rest_api.v1.authentication import ConfiguredAuthenticationClasses
from program_enrollments.rest_api.v1.pagination import EnrollmentCursorPagination
from program_enrollments.rest_api.v1.parsers import DepthLimitedJSONParser
from program_enrollments.rest_api.v1.permissions import (
    PROGRAM_ACCESS,
    USER_OR_RESTRICTED_APPLICATION,
    may_act_on,
    readable_organizations_for,
)
from program_enrollments.rest_api.v1.schema import extend_schema  # also registers the authentication schemes
from program_enrollments.routers import replica_reads

log = logging.getLogger(__name__)

ERROR = described.ErrorSerializer


def _error(http_status: int, message: str, code: str | None = None, *, headers=None, **extra) -> Response:
    body = {"developer_message": message}
    if code:
        body["error_code"] = code
    body.update(extra)
    return Response(body, status=http_status, headers=headers)


# Seconds a client should wait before retrying while the database is unreachable.
DATABASE_RETRY_AFTER = 5


def _database_unavailable() -> Response:
    return _error(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        "The database is unavailable (restarting or unreachable); nothing was changed by this request "
        "unless its learners are reported. Retry shortly.",
        "database_unavailable",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER)},
    )


def _drop_lost_connection() -> None:
    """Forget this thread's lost database connection, so that its next query connects afresh.

    Django drops a broken connection at the end of a request only when the error went through
    its own wrapper, and a failure while leaving a transaction (the server gone as autocommit is
    restored) can leave the connection marked as inside a broken transaction for good: every
    later request of the thread (a kept-alive HTTP connection) would fail. Outside a transaction
    of the caller (a read's request transaction under ``ATOMIC_REQUESTS``, or a test's, left to
    its owner), the marks are cleared and the connection closed; the next query reconnects with
    the settings' autocommit.
    """
    if connection.atomic_blocks:
        return
    connection.in_atomic_block = False
    connection.needs_rollback = False
    connection.closed_in_transaction = False
    try:
        connection.close()
    except Exception:  # noqa: BLE001 - the connection is already gone
        log.debug("Closing the lost database connection failed.", exc_info=True)
        connection.connection = None


def _database_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is, or was raised while handling, a lost database connection.

    Authentication classes turn a failed user lookup into ``AuthenticationFailed``
    (edx-drf-extensions: "User retrieval failed"); the database error is its cause.
    """
    # The driver's own classes too: an error raised outside Django's wrapper (closing a
    # cursor, say) reaches the caller unwrapped.
    driver = connection.Database
    lost = (OperationalError, InterfaceError, driver.OperationalError, driver.InterfaceError)
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, lost):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def _summary_code(succeeded: int, total: int) -> int:
    """200 when every learner succeeded, 207 when some did, 422 when none did."""
    if succeeded == total:
        return status.HTTP_200_OK
    if succeeded:
        return status.HTTP_207_MULTI_STATUS
    return status.HTTP_422_UNPROCESSABLE_ENTITY


def _outcome_response(results: dict[str, str], successes) -> Response:
    return Response(
        results, status=_summary_code(sum(1 for value in results.values() if value in successes), len(results))
    )


def _describe(errors) -> str:
    """One line naming each offending item and field of a list serializer's errors."""
    parts = []
    indexed = errors.items() if isinstance(errors, dict) else enumerate(errors)
    for index, item in indexed:
        if not isinstance(item, dict):
            parts.append(f"{index}: {item}")
            continue
        for field, messages in item.items():
            text = " ".join(str(message) for message in messages) if isinstance(messages, list) else str(messages)
            parts.append(f"item {index}: {field}: {text}")
    return "; ".join(parts)


def validated_items(body: list, item_serializer, **serializer_kwargs):
    """The validated items of a write's body (a list), or None and an error Response (400).

    One pass over the items; the item serializer itself only for a body with a malformed item,
    so that its errors name the items and fields (``serializers.validate_items``).
    """
    not_objects = [index for index, item in enumerate(body) if not isinstance(item, dict)]
    if not_objects:
        return None, _error(
            status.HTTP_400_BAD_REQUEST,
            "Every item must be a JSON object; not objects: " + ", ".join(f"item {i}" for i in not_objects) + ".",
        )
    items, errors = shapes.validate_items(body, item_serializer, **serializer_kwargs)
    if items is None:
        return None, _error(status.HTTP_400_BAD_REQUEST, f"Invalid request body: {_describe(errors)}", errors=errors)
    return items, None


def _page_rows(row, page) -> list[dict]:
    """A page's rows, made by the serializer ``row`` one instance at a time (as ``many=True`` does).

    A DRF serializer and its fields refer to each other; given the page, a list serializer and its
    child would keep its instances in that cycle, for the garbage collector's next full pass to
    find. Made this way, nothing keeps them once the rows are made.
    """
    return [row.to_representation(instance) for instance in page]


class _APIView(APIView):
    """The v1 views' base: a lost database is answered with a JSON 503."""

    def handle_exception(self, exc):
        # A lost database (a restart, a dropped connection) is the service's trouble, not the
        # caller's: a JSON 503 to retry, never an HTML 500, nor a 401 because authentication
        # could not read the token's user.
        if _database_failure(exc):
            log.warning("Database unavailable during %s %s: %r", self.request.method, self.request.path, exc)
            _drop_lost_connection()
            return _database_unavailable()
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(response, SimpleTemplateResponse):
            response.add_post_render_callback(self._release_response)
        return response

    def _release_response(self, response):
        # Rendering links the response to itself (its renderer context names it, and the view),
        # and DRF keeps it on the view too (``self.response``). Once the body is rendered neither
        # link is needed: without them the response is in no reference cycle, so its data (a page
        # of 1000 enrollments and the instances it was read from) is freed as soon as the server
        # is done with it, not left to the collector's next full pass (docs/scale.rst).
        response.renderer_context = None
        self.__dict__.pop("response", None)


def _atomic_requests() -> bool:
    """Whether the host runs each request in a transaction of ``default`` (the Open edX LMS does)."""
    return bool(connections[DEFAULT_DB_ALIAS].settings_dict.get("ATOMIC_REQUESTS"))


class _ProgramView(_APIView):
    """Common ground: authentication, the program of the URL, and reading a write request's body.

    **Transactions.** A write (POST, PUT, PATCH) never runs inside a transaction of the request,
    whatever the host's ``ATOMIC_REQUESTS`` (the Open edX LMS sets it): the Python API commits a
    write chunk by chunk, and decides a chunk again when the database refuses it (a deadlock, a
    lock wait timeout, a concurrent insert). Inside a request's transaction each chunk would only
    be a savepoint, and a deadlock on MariaDB/MySQL rolls back the whole transaction, savepoints
    and all: no chunk could be retried, and its learners would be answered ``internal-error``. So
    ``dispatch`` is exempt from ``ATOMIC_REQUESTS`` on ``default`` (the database the API writes),
    and a write's authentication, permission checks and program lookup run in autocommit, as in
    the standalone host; a job's submission commits in its own transaction the same way.

    A read (GET, HEAD, OPTIONS) keeps the host's behaviour: under ``ATOMIC_REQUESTS`` it runs in
    one transaction opened here, as Django would have opened it. A page's queries (rows, course
    staff roles, grades) then read one snapshot on MariaDB/MySQL, and DRF's exception handler,
    which marks the open transaction for rollback on an error answer, marks that one.

    DRF's exception handler assumes that an open transaction of a database with
    ``ATOMIC_REQUESTS`` is the request's, and marks it for rollback. A write has none: in a
    server nothing is open around it and the handler marks nothing; around a test client's
    request the open transaction is the test case's, and the mark (which would break every later
    query of the test) is undone. The caller's transaction then ends as it would have without the
    error answer; the errors DRF answers (401, 403, 404 ...) come before the write changes anything.
    """

    authentication_classes = ConfiguredAuthenticationClasses()
    # Names NotJwtRestrictedApplication, so an LMS's EnsureJWTAuthSettingsMiddleware keeps it (see permissions).
    permission_classes = (PROGRAM_ACCESS,)
    # DRF's default parsers, with JSON nested too deep refused as a 400 instead of a RecursionError.
    parser_classes = (DepthLimitedJSONParser, FormParser, MultiPartParser)
    schema = AutoSchema()
    pagination_class = EnrollmentCursorPagination

    @transaction.non_atomic_requests
    def dispatch(self, request, *args, **kwargs):
        if request.method in SAFE_METHODS and _atomic_requests():
            with transaction.atomic(using=DEFAULT_DB_ALIAS):
                return super().dispatch(request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    def get_program(self):
        return self._program

    @cached_property
    def _program(self):
        try:
            return catalog_backend().get_program(self.kwargs["program_uuid"])
        except ValueError:  # not a UUID: no such program
            return None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if self._program is None:
            raise _NotFound(f"Program {self.kwargs['program_uuid']} does not exist.", "program_does_not_exist")

    def handle_exception(self, exc):
        if isinstance(exc, _NotFound):
            return _error(status.HTTP_404_NOT_FOUND, exc.message, exc.code)
        if isinstance(exc, (ProgramDoesNotExist, CourseDoesNotExist, CourseNotInProgram)):
            return _error(status.HTTP_404_NOT_FOUND, str(exc), exc.code)
        if isinstance(exc, InvalidRequest):
            return _error(status.HTTP_400_BAD_REQUEST, str(exc), exc.code)
        if isinstance(exc, RequestDataTooBig):
            return _error(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "The request body is too large.")
        if isinstance(exc, ParseError):
            return _error(status.HTTP_400_BAD_REQUEST, f"Malformed JSON: {exc.detail}")
        if self.request.method in SAFE_METHODS or not connection.in_atomic_block:
            return super().handle_exception(exc)
        # A write inside a transaction it did not open (see the class's docstring): DRF's handler
        # would mark that transaction for rollback as if it were the request's.
        marked = transaction.get_rollback(using=DEFAULT_DB_ALIAS)
        try:
            return super().handle_exception(exc)
        finally:
            if connection.in_atomic_block:
                transaction.set_rollback(marked, using=DEFAULT_DB_ALIAS)

    def read_items(self, request, item_serializer, **serializer_kwargs):
        """Return the validated items of a write's body, or an error Response (413, then 400)."""
        try:
            body = request.data
        except RequestDataTooBig:
            return None, _error(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "The request body is too large.")
        if not isinstance(body, list):
            return None, _error(status.HTTP_400_BAD_REQUEST, "The request body must be a JSON list of objects.")
        limit = conf.get("MAX_BATCH_SIZE")
        if len(body) > limit:
            return None, _error(
                status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
                f"{len(body)} enrollments were sent; at most {limit} are accepted per request. Send larger "
                "uploads to the same path followed by jobs/ to run them as a background job.",
            )
        return validated_items(body, item_serializer, **serializer_kwargs)


class _NotFound(Exception):
    def __init__(self, message, code):
        super().__init__(message)
        self.message, self.code = message, code


def _write_responses(status_map) -> dict:
    """The answers of a bulk write whose per-learner statuses are ``status_map``'s."""
    return {
        **described.WRITE_COMMON_RESPONSES,
        200: OpenApiResponse(status_map, description="Every learner succeeded: each key maps to its new status."),
        204: OpenApiResponse(description="The list was empty."),
        207: OpenApiResponse(status_map, description="Some learners succeeded; the others map to why not."),
        400: OpenApiResponse(ERROR, description="Malformed body, naming the offending items and fields."),
        403: OpenApiResponse(described.DetailErrorSerializer, description="Not allowed to write this program."),
        # The app's body; DRF's for a ?format= it does not serve.
        404: OpenApiResponse(
            described.ANY_ERROR, description="Unknown program, unknown course, or course not in the program."
        ),
        413: OpenApiResponse(ERROR, description="More learners than the batch limit, or a body too large."),
        422: OpenApiResponse(status_map, description="No learner succeeded; each key maps to why not."),
    }


PROGRAM_WRITE_RESPONSES = _write_responses(described.ProgramEnrollmentStatusMapSerializer)
COURSE_WRITE_RESPONSES = _write_responses(described.CourseEnrollmentStatusMapSerializer)


def _read_responses(rows) -> dict:
    """The answers of a paged list of a program (or of one of its course runs)."""
    return {
        **described.COMMON_RESPONSES,
        200: rows,
        # Unknown program or course run (the app's body), or a cursor that is not one (DRF's).
        404: OpenApiResponse(described.ANY_ERROR, description="Unknown program or course run, or an invalid cursor."),
    }


PROGRAM_ITEMS_EXAMPLE = OpenApiExample(
    "Two learners",
    value=[
        {"student_key": "NC-0001", "status": "enrolled", "curriculum_uuid": "c9ac1b2e-0dc4-4b0c-a6e4-7a3ad8d4c7d1"},
        {"student_key": "NC-0002", "status": "pending", "curriculum_uuid": "c9ac1b2e-0dc4-4b0c-a6e4-7a3ad8d4c7d1"},
    ],
    request_only=True,
)
COURSE_ITEMS_EXAMPLE = OpenApiExample(
    "Two learners",
    value=[{"student_key": "NC-0001", "status": "active"}, {"student_key": "NC-0002", "status": "inactive"}],
    request_only=True,
)

PROGRAM_STATUSES_DOC = (
    "Per-learner statuses: the new status (enrolled, pending, suspended, canceled, ended) on success; "
    "duplicated, invalid-status, conflict (POST, already in the program), not-in-program (PATCH), internal-error."
)
COURSE_STATUSES_DOC = (
    "Per-learner statuses: active or inactive on success; duplicated, invalid-status, not-in-program, "
    "conflict (POST, already enrolled in this course by this program), not-found (PATCH), illegal-operation "
    "(activation while the program enrollment is not enrolled or pending), conflicted (active in this course "
    "through another program), internal-error."
)


class ProgramEnrollmentsView(_ProgramView):
    """The learners of a program: list them, or enroll and update many at once."""

    @extend_schema(
        summary="List a program's enrollments",
        responses=_read_responses(shapes.ProgramEnrollmentRowSerializer(many=True)),
        parameters=[OpenApiParameter("page_size", OpenApiTypes.INT, description="Results per page (max: setting).")],
    )
    @replica_reads()
    def get(self, request, program_uuid):
        queryset = (
            api.fetch_program_enrollments(program_uuids=[self._program.uuid])
            .select_related("user")
            .only(*shapes.ProgramEnrollmentRowSerializer.READS)
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(_page_rows(shapes.ProgramEnrollmentRowSerializer(), page))

    @extend_schema(
        summary="Enroll learners (create only)",
        request=shapes.ProgramEnrollmentItemSerializer(many=True),
        responses=PROGRAM_WRITE_RESPONSES,
        description=PROGRAM_STATUSES_DOC,
        examples=[PROGRAM_ITEMS_EXAMPLE],
    )
    def post(self, request, program_uuid):
        return self._write(request, create=True, update=False)

    @extend_schema(
        summary="Update learners (update only)",
        request=shapes.ProgramEnrollmentItemSerializer(many=True),
        responses=PROGRAM_WRITE_RESPONSES,
        description=PROGRAM_STATUSES_DOC,
        examples=[PROGRAM_ITEMS_EXAMPLE],
    )
    def patch(self, request, program_uuid):
        return self._write(request, create=False, update=True)

    @extend_schema(
        summary="Enroll or update learners",
        request=shapes.ProgramEnrollmentItemSerializer(many=True),
        responses=PROGRAM_WRITE_RESPONSES,
        description=PROGRAM_STATUSES_DOC,
        examples=[PROGRAM_ITEMS_EXAMPLE],
    )
    def put(self, request, program_uuid):
        return self._write(request, create=True, update=True)

    def _write(self, request, *, create, update):
        items, error = self.read_items(request, shapes.ProgramEnrollmentItemSerializer, curriculum_required=create)
        if error:
            return error
        if not items:
            return Response(status=status.HTTP_204_NO_CONTENT)
        results = api.write_program_enrollments(
            program_uuid=self._program,  # the program read for this request: no second catalog lookup
            requests=[{**item, "curriculum_uuid": item.get("curriculum_uuid") if create else None} for item in items],
            create=create,
            update=update,
            actor=request.user,
        )
        return _outcome_response(results, ProgramEnrollmentStatus.values)


class _ProgramCourseView(_ProgramView):
    """A view of one course run of the program: 404 unless it exists and is in the program."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        try:
            self.course_key = CourseKey.from_string(self.kwargs["course_key"])
        except InvalidKeyError as error:
            raise _NotFound(f"Course {self.kwargs['course_key']} does not exist.", "course_does_not_exist") from error
        api.check_course_in_program(self._program, self.course_key)


class ProgramCourseEnrollmentsView(_ProgramCourseView):
    """The learners of a program in one of its course runs: list them, or enroll and update many at once."""

    @extend_schema(
        summary="List a program's enrollments in a course",
        responses=_read_responses(shapes.CourseEnrollmentRowSerializer(many=True)),
        parameters=[OpenApiParameter("page_size", OpenApiTypes.INT, description="Results per page (max: setting).")],
    )
    @replica_reads()
    def get(self, request, program_uuid, course_key):
        queryset = api.fetch_program_course_enrollments(
            program_uuids=[self._program.uuid], course_keys=[self.course_key]
        ).only(*shapes.CourseEnrollmentRowSerializer.READS)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self)
        roles = api.fetch_course_staff_roles(page)
        return paginator.get_paginated_response(
            _page_rows(shapes.CourseEnrollmentRowSerializer(context={"course_staff": roles}), page)
        )

    @extend_schema(
        summary="Enroll learners in the course (create only)",
        request=shapes.CourseEnrollmentItemSerializer(many=True),
        responses=COURSE_WRITE_RESPONSES,
        description=COURSE_STATUSES_DOC,
        examples=[COURSE_ITEMS_EXAMPLE],
    )
    def post(self, request, program_uuid, course_key):
        return self._write(request, create=True, update=False)

    @extend_schema(
        summary="Update learners in the course (update only)",
        request=shapes.CourseEnrollmentItemSerializer(many=True),
        responses=COURSE_WRITE_RESPONSES,
        description=COURSE_STATUSES_DOC,
        examples=[COURSE_ITEMS_EXAMPLE],
    )
    def patch(self, request, program_uuid, course_key):
        return self._write(request, create=False, update=True)

    @extend_schema(
        summary="Enroll or update learners in the course",
        request=shapes.CourseEnrollmentItemSerializer(many=True),
        responses=COURSE_WRITE_RESPONSES,
        description=COURSE_STATUSES_DOC,
        examples=[COURSE_ITEMS_EXAMPLE],
    )
    def put(self, request, program_uuid, course_key):
        return self._write(request, create=True, update=True)

    def _write(self, request, *, create, update):
        items, error = self.read_items(request, shapes.CourseEnrollmentItemSerializer)
        if error:
            return error
        if not items:
            return Response(status=status.HTTP_204_NO_CONTENT)
        results = api.write_program_course_enrollments(
            program_uuid=self._program,  # the program read for this request: no second catalog lookup
            course_key=self.course_key,
            requests=items,
            create=create,
            update=update,
            actor=request.user,
        )
        return _outcome_response(results, ProgramCourseEnrollmentStatus.values)


TRANSFER_SUCCESSES = {TransferStatus.TRANSFERRED, TransferStatus.WOULD_TRANSFER, TransferStatus.ALREADY_TRANSFERRED}


class ProgramCourseGradesView(_ProgramCourseView):
    """The grades of a program's learners in one of its course runs (what registrar's grade reports read)."""

    @extend_schema(
        summary="List the grades of a program's learners in a course",
        description=(
            "The learners with an LMS account, a page at a time (cursor paging, ``page_size``). Each row is "
            "``student_key`` with ``passed``, ``percent`` and ``letter_grade``, or ``student_key`` with "
            "``error`` when the LMS could not compute that learner's grade. 200: every grade was read; "
            "207: some rows are errors; 422: every row is an error; 204 (no body): no learner to grade."
        ),
        responses={
            **_read_responses(described.ProgramCourseGradePageSerializer),
            204: OpenApiResponse(description="No learner of the program in the course run has an account."),
            207: OpenApiResponse(described.ProgramCourseGradePageSerializer, description="Some rows are errors."),
            422: OpenApiResponse(described.ProgramCourseGradePageSerializer, description="Every row is an error."),
        },
        parameters=[OpenApiParameter("page_size", OpenApiTypes.INT, description="Results per page (max: setting).")],
    )
    @replica_reads()
    def get(self, request, program_uuid, course_key):
        paginator = self.pagination_class()
        results = list(
            api.iter_program_course_grades(
                program_uuid=self._program.uuid,
                course_key=self.course_key,
                paginate_queryset_fn=lambda queryset: paginator.paginate_queryset(queryset, request, view=self),
                program=self._program,
            )
        )
        if not results:
            return Response(status=status.HTTP_204_NO_CONTENT)
        response = paginator.get_paginated_response([shapes.grade_row(result) for result in results])
        response.status_code = _summary_code(sum(1 for result in results if not result.is_error), len(results))
        return response


class ProgramTransfersView(_ProgramView):
    """Move learners' course enrollments from this program to another, one step per learner."""

    @extend_schema(
        summary="Transfer learners to another program",
        request=shapes.TransferSerializer,
        responses={
            **_write_responses(described.TransferStatusMapSerializer),
            204: OpenApiResponse(description="student_keys was an empty list."),
            413: OpenApiResponse(
                ERROR,
                description="student_keys or course_keys longer than the batch limit, a transfer of every learner "
                "of a program with more learners than the limit, or a body too large.",
            ),
        },
        description=(
            "Per-learner statuses: transferred, would-transfer (dry run), already-transferred (a re-run) on "
            "success; nothing-to-transfer, not-in-program, course-not-in-target, conflicted, illegal-operation, "
            "duplicated, internal-error otherwise. Needs write access to both programs. student_keys and "
            "course_keys hold at most MAX_BATCH_SIZE entries, and a transfer without student_keys is refused (413) "
            "when the program has more learners than that: larger transfers run as background jobs "
            "(transfers/jobs/) or with the transfer_program_enrollments management command."
        ),
        examples=[
            OpenApiExample(
                "Move two learners",
                value={
                    "to_program_uuid": "38bf8bae-2aba-5ad8-9e83-12beb8b72442",
                    "student_keys": ["GT-1001", "GT-1002"],
                    "source_status": "canceled",
                },
            )
        ],
    )
    def post(self, request, program_uuid):
        if not isinstance(request.data, dict):
            return _error(status.HTTP_400_BAD_REQUEST, "The request body must be a JSON object.")
        limit = conf.get("MAX_BATCH_SIZE")
        # As for writes, the lists' lengths are checked before any of their items is looked at.
        for field, noun in (("student_keys", "learners"), ("course_keys", "course runs")):
            sent = request.data.get(field)
            if isinstance(sent, list) and len(sent) > limit:
                return _error(
                    status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
                    f"{len(sent)} {noun} were sent in {field}; at most {limit} are accepted per request.",
                )
        serializer = shapes.TransferSerializer(data=request.data)
        if not serializer.is_valid():
            fields = "; ".join(f"{name}: {' '.join(map(str, msgs))}" for name, msgs in serializer.errors.items())
            return _error(status.HTTP_400_BAD_REQUEST, f"Invalid request body: {fields}", errors=serializer.errors)
        data = serializer.validated_data
        keys = data.get("student_keys")
        if keys == []:
            return Response(status=status.HTTP_204_NO_CONTENT)
        if keys is None:
            # Every learner of the program: one request must not move a whole large program.
            count = api.fetch_program_enrollments(program_uuids=[self._program.uuid]).count()
            if count > limit:
                return _error(
                    status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
                    f"The program has {count} learners; a transfer of every learner moves at most {limit} per "
                    "request. Send the same body to the transfers/jobs/ endpoint to run it as a background job, "
                    "send student_keys in batches, or run the transfer_program_enrollments management command.",
                )
        target = catalog_backend().get_program(data["to_program_uuid"])
        if target is None:
            if not may_act_on(request, None, write=True):
                raise PermissionDenied()
            return _error(
                status.HTTP_404_NOT_FOUND,
                f"Program {data['to_program_uuid']} does not exist.",
                "program_does_not_exist",
            )
        if not may_act_on(request, target, write=True):
            raise PermissionDenied()
        report = api.transfer_program_enrollments(
            from_program_uuid=self._program.uuid,
            to_program_uuid=target.uuid,
            to_curriculum_uuid=data.get("to_curriculum_uuid"),
            student_keys=keys,
            course_keys=data.get("course_keys"),
            source_status=data.get("source_status"),
            dry_run=data.get("dry_run", False),
            actor=request.user,
        )
        results = {outcome.student_key: outcome.status for outcome in report.outcomes}
        if not results:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return _outcome_response(results, TRANSFER_SUCCESSES)


class LearnerView(_APIView):
    """Every program and course enrollment of one learner, and which program holds each course's active slot."""

    authentication_classes = ConfiguredAuthenticationClasses()
    permission_classes = (USER_OR_RESTRICTED_APPLICATION,)
    schema = AutoSchema()

    @extend_schema(
        summary="One learner's enrollments across programs",
        parameters=[
            OpenApiParameter("username", OpenApiTypes.STR, description="The learner's LMS username."),
            OpenApiParameter("organization", OpenApiTypes.STR, description="With student_key: the partner."),
            OpenApiParameter("student_key", OpenApiTypes.STR, description="With organization: the partner's key."),
        ],
        responses={
            **described.COMMON_RESPONSES,
            200: described.LearnerViewSerializer,
            400: OpenApiResponse(ERROR, description="Neither username nor organization and student_key, or both."),
        },
        description="Only programs of organizations the caller may read are shown; a student key of an "
        "organization the caller may not read is 403, whether or not the learner exists there.",
    )
    @replica_reads()
    def get(self, request):
        username = request.query_params.get("username")
        organization = request.query_params.get("organization")
        student_key = request.query_params.get("student_key")
        if bool(username) == bool(organization and student_key):
            return _error(status.HTTP_400_BAD_REQUEST, "Give either username, or organization and student_key.")
        try:
            view = api.fetch_learner_view(
                username=username,
                organization_key=organization,
                student_key=student_key,
                readable_organizations=readable_organizations_for(request),
            )
        except InvalidRequest as error:
            return _error(status.HTTP_400_BAD_REQUEST, str(error), error.code)
        except OrganizationNotReadable as error:
            # Decided before any lookup: the same 403 whether or not the key exists there.
            raise PermissionDenied() from error
        return Response(view)
