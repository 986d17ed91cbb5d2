"""HTTP endpoints of background jobs: big writes and transfers accepted with 202, their status and results.

The job endpoints take what the synchronous endpoints take (the same items, the same
transfer body), without the batch limit, plus CSV uploads; they answer
``202 Accepted`` with the job and its URL in ``Location``. ``Idempotency-Key`` makes a
repeated submission return the same job. Authentication and permissions are those of
the synchronous endpoints: a job is read through its program, by callers allowed on it.
Every decision is ``program_enrollments.api.jobs``'s.
"""

from __future__ import annotations

import csv
import io
import json

from django.http import StreamingHttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from program_enrollments.api import jobs
from program_enrollments.backends import catalog_backend
from program_enrollments.exceptions import InvalidRequest
from program_enrollments.models import Job
from program_enrollments.rest_api.v1 import serializers as shapes
from program_enrollments.rest_api.v1.permissions import may_act_on
from program_enrollments.rest_api.v1.schema import extend_schema
from program_enrollments.rest_api.v1.views import ERROR, _error, _ProgramCourseView, _ProgramView, validated_items

IDEMPOTENCY_HEADER = "Idempotency-Key"

# CSV uploads: a file field of this name (multipart), or the body itself (text/csv).
CSV_FILE_FIELD = "file"

JOB = inline_serializer(
    "Job",
    {
        "id": serializers.UUIDField(),
        "kind": serializers.CharField(),
        "program_uuid": serializers.UUIDField(),
        "status": serializers.CharField(help_text="queued, running, succeeded or failed"),
        "total": serializers.IntegerField(allow_null=True),
        "processed": serializers.IntegerField(),
        "succeeded": serializers.IntegerField(),
        "failed": serializers.IntegerField(),
        "counts": serializers.DictField(child=serializers.IntegerField()),
        "error": serializers.CharField(),
        "created": serializers.DateTimeField(),
        "started": serializers.DateTimeField(allow_null=True),
        "finished": serializers.DateTimeField(allow_null=True),
        "url": serializers.URLField(),
        "results_url": serializers.URLField(),
    },
)

SUBMIT_RESPONSES = {
    202: OpenApiResponse(JOB, description="Accepted: the job (a new one, or the one of an identical submission)."),
    400: OpenApiResponse(ERROR, description="Malformed body, naming the offending items and fields."),
    401: OpenApiResponse(description="Not authenticated."),
    403: OpenApiResponse(description="Not allowed to write this program's enrollments."),
    404: OpenApiResponse(ERROR, description="Unknown program, unknown course, or course not in the program."),
    409: OpenApiResponse(ERROR, description="The Idempotency-Key was already used for a different request."),
}

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    description="Any string up to 255 characters: sending it again returns the job it created.",
)


class CSVRenderer(BaseRenderer):
    """Lets a results request that accepts only ``text/csv`` through (the view streams the file itself)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        # Only error bodies come here (the results themselves bypass rendering): as JSON text.
        return json.dumps(data).encode()


class CSVParser(BaseParser):
    """A ``text/csv`` body: a header row, then one learner a row (decoded in the view)."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        return CSVUpload(stream.read() if stream is not None else b"")


class CSVUpload:
    """The raw bytes of a CSV upload, until the view reads them as items."""

    def __init__(self, raw: bytes):
        self.raw = raw


def job_body(request, job: Job) -> dict:
    """The job's status document (``counts``: how many learners got each result status so far)."""
    url = request.build_absolute_uri(
        reverse(
            f"{request.resolver_match.namespace}:program_job",
            kwargs={"program_uuid": str(job.program_uuid), "job_id": str(job.pk)},
        )
    )
    return {
        "id": str(job.pk),
        "kind": job.kind,
        "program_uuid": str(job.program_uuid),
        "status": job.status,
        "total": job.total,
        "processed": job.processed,
        "succeeded": job.succeeded,
        "failed": job.failed,
        "counts": jobs.job_status_counts(job),
        "error": job.error,
        "created": job.created,
        "started": job.started,
        "finished": job.finished,
        "url": url,
        "results_url": url + "results",
    }


def _accepted(request, submission: jobs.JobSubmission) -> Response:
    # Read again: without a broker the job has run by now (its task ran when the submission committed).
    body = job_body(request, jobs.get_job(submission.job.pk) or submission.job)
    return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})


class _JobSubmitView:
    """Mixin of the submitting views: the body's items (JSON list or CSV), the idempotency key, the 202."""

    def idempotency_key(self, request):
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is not None and (not key.strip() or len(key) > 255):
            raise InvalidRequest(f"{IDEMPOTENCY_HEADER} must be a non-blank string of at most 255 characters.")
        return key

    def read_job_items(self, request, item_serializer, csv_fields, **serializer_kwargs):
        """The validated items of the body, or an error Response (400)."""
        body = request.data
        upload = body.get(CSV_FILE_FIELD) if hasattr(body, "getlist") else None
        if isinstance(body, CSVUpload) or upload is not None:
            raw = body.raw if isinstance(body, CSVUpload) else upload.read()
            body, error = _csv_items(raw, csv_fields)
            if error:
                return None, error
        if not isinstance(body, list):
            return None, _error(
                status.HTTP_400_BAD_REQUEST,
                "The request body must be a JSON list of objects, or CSV (text/csv, or a multipart file field "
                f"named {CSV_FILE_FIELD!r}).",
            )
        return validated_items(body, item_serializer, **serializer_kwargs)

    def handle_job_exception(self, exc):
        if isinstance(exc, jobs.IdempotencyKeyReused):
            return _error(status.HTTP_409_CONFLICT, str(exc), exc.code)
        return None


_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _csv_items(raw: bytes, fields):
    """CSV bytes as items (a dict per row, blank cells left out), or an error Response (400)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, _error(status.HTTP_400_BAD_REQUEST, "The CSV file must be UTF-8 text.")
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = reader.fieldnames or []
        rows = list(reader)
    except csv.Error as error:
        return None, _error(status.HTTP_400_BAD_REQUEST, f"Malformed CSV: {error}.")
    header = [name.strip() for name in header]
    unknown = sorted(set(header) - set(fields))
    if "student_key" not in header or "status" not in header or unknown:
        return None, _error(
            status.HTTP_400_BAD_REQUEST,
            f"The CSV header must name student_key and status, and may name {', '.join(fields)}"
            + (f"; unknown columns: {', '.join(unknown)}." if unknown else "."),
        )
    items = []
    problems = []
    for index, row in enumerate(rows):
        if None in row:
            problems.append(f"row {index + 2}: more cells than columns")
            continue
        item = {name.strip(): value for name, value in row.items() if value not in (None, "")}
        if "course_staff" in item:
            flag = _BOOLEANS.get(item["course_staff"].strip().lower())
            if flag is None:
                problems.append(f"row {index + 2}: course_staff must be true or false")
            item["course_staff"] = flag
        items.append(item)
    if problems:
        return None, _error(status.HTTP_400_BAD_REQUEST, "Invalid CSV: " + "; ".join(problems) + ".")
    return items, None


class ProgramEnrollmentsJobView(_JobSubmitView, _ProgramView):
    """Submit a write of any number of program enrollments as a background job."""

    parser_classes = (*_ProgramView.parser_classes, CSVParser)

    def handle_exception(self, exc):
        return self.handle_job_exception(exc) or super().handle_exception(exc)

    def _submit(self, request, *, create, update):
        items, error = self.read_job_items(
            request,
            shapes.ProgramEnrollmentItemSerializer,
            ("student_key", "status", "curriculum_uuid"),
            curriculum_required=create,
        )
        if error:
            return error
        submission = jobs.submit_program_enrollments_job(
            program_uuid=self._program.uuid,
            requests=[{**item, "curriculum_uuid": item.get("curriculum_uuid") if create else None} for item in items],
            create=create,
            update=update,
            requested_by=request.user,
            idempotency_key=self.idempotency_key(request),
        )
        return _accepted(request, submission)

    @extend_schema(
        summary="Enroll learners, as a background job (create only)",
        request=shapes.ProgramEnrollmentItemSerializer(many=True),
        responses=SUBMIT_RESPONSES,
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    def post(self, request, program_uuid):
        return self._submit(request, create=True, update=False)

    @extend_schema(
        summary="Update learners, as a background job (update only)",
        request=shapes.ProgramEnrollmentItemSerializer(many=True),
        responses=SUBMIT_RESPONSES,
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    def patch(self, request, program_uuid):
        return self._submit(request, create=False, update=True)

    @extend_schema(
        summary="Enroll or update learners, as a background job",
        request=shapes.ProgramEnrollmentItemSerializer(many=True),
        responses=SUBMIT_RESPONSES,
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    def put(self, request, program_uuid):
        return self._submit(request, create=True, update=True)


class ProgramCourseEnrollmentsJobView(_JobSubmitView, _ProgramCourseView):
    """Submit a write of any number of enrollments in one course run as a background job."""

    parser_classes = (*_ProgramView.parser_classes, CSVParser)

    def handle_exception(self, exc):
        return self.handle_job_exception(exc) or super().handle_exception(exc)

    def _submit(self, request, *, create, update):
        items, error = self.read_job_items(
            request, shapes.CourseEnrollmentItemSerializer, ("student_key", "status", "course_staff")
        )
        if error:
            return error
        submission = jobs.submit_program_course_enrollments_job(
            program_uuid=self._program.uuid,
            course_key=self.course_key,
            requests=items,
            create=create,
            update=update,
            requested_by=request.user,
            idempotency_key=self.idempotency_key(request),
        )
        return _accepted(request, submission)

    @extend_schema(
        summary="Enroll learners in the course, as a background job (create only)",
        request=shapes.CourseEnrollmentItemSerializer(many=True),
        responses=SUBMIT_RESPONSES,
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    def post(self, request, program_uuid, course_key):
        return self._submit(request, create=True, update=False)

    @extend_schema(
        summary="Update learners in the course, as a background job (update only)",
        request=shapes.CourseEnrollmentItemSerializer(many=True),
        responses=SUBMIT_RESPONSES,
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    def patch(self, request, program_uuid, course_key):
        return self._submit(request, create=False, update=True)

    @extend_schema(
        summary="Enroll or update learners in the course, as a background job",
        request=shapes.CourseEnrollmentItemSerializer(many=True),
        responses=SUBMIT_RESPONSES,
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    def put(self, request, program_uuid, course_key):
        return self._submit(request, create=True, update=True)


class ProgramTransferJobView(_JobSubmitView, _ProgramView):
    """Submit a transfer of any number of learners (or of every learner) as a background job."""

    def handle_exception(self, exc):
        return self.handle_job_exception(exc) or super().handle_exception(exc)

    @extend_schema(
        summary="Transfer learners to another program, as a background job",
        request=shapes.TransferSerializer,
        responses=SUBMIT_RESPONSES,
        parameters=[IDEMPOTENCY_PARAMETER],
        description=(
            "The body of the transfers endpoint, without its limits: student_keys of any length, or none for "
            "every learner of the program. Needs write access to both programs."
        ),
    )
    def post(self, request, program_uuid):
        if not isinstance(request.data, dict):
            return _error(status.HTTP_400_BAD_REQUEST, "The request body must be a JSON object.")
        serializer = shapes.TransferSerializer(data=request.data)
        if not serializer.is_valid():
            fields = "; ".join(f"{name}: {' '.join(map(str, msgs))}" for name, msgs in serializer.errors.items())
            return _error(status.HTTP_400_BAD_REQUEST, f"Invalid request body: {fields}", errors=serializer.errors)
        data = serializer.validated_data
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
        submission = jobs.submit_transfer_job(
            from_program_uuid=self._program.uuid,
            to_program_uuid=target.uuid,
            to_curriculum_uuid=data.get("to_curriculum_uuid"),
            student_keys=data.get("student_keys"),
            course_keys=data.get("course_keys"),
            source_status=data.get("source_status"),
            dry_run=data.get("dry_run", False),
            requested_by=request.user,
            idempotency_key=self.idempotency_key(request),
        )
        return _accepted(request, submission)


class _ProgramJobView(_ProgramView):
    """A job of the program of the URL (404 for another program's job: callers see their programs' jobs only)."""

    def get_job(self) -> Job | None:
        job = jobs.get_job(self.kwargs["job_id"])
        if job is None or job.program_uuid != self._program.uuid:
            return None
        return job


def _no_job(job_id) -> Response:
    return _error(status.HTTP_404_NOT_FOUND, f"Job {job_id} does not exist.", "job_does_not_exist")


class ProgramJobView(_ProgramJobView):
    """A background job's status and progress."""

    @extend_schema(
        summary="A background job's status",
        responses={200: JOB, 404: OpenApiResponse(ERROR, description="No such job of this program.")},
    )
    def get(self, request, program_uuid, job_id):
        job = self.get_job()
        if job is None:
            return _no_job(job_id)
        # A job that lost its worker, or was never sent to one, goes on when its status is read.
        if jobs.resume_stalled_job(job):
            job = self.get_job() or job
        return Response(job_body(request, job))


class ProgramJobResultsView(_ProgramJobView):
    """A background job's per-learner results, as a CSV file (the learners processed so far)."""

    renderer_classes = (JSONRenderer, CSVRenderer)

    @extend_schema(
        summary="A background job's per-learner results (CSV)",
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="student_key,status,detail; one row per learner, in the job's order."
            ),
            404: OpenApiResponse(ERROR, description="No such job of this program."),
        },
    )
    def get(self, request, program_uuid, job_id):
        job = self.get_job()
        if job is None:
            return _no_job(job_id)
        response = StreamingHttpResponse(jobs.iter_job_results_csv(job), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="job-{job.pk}-results.csv"'
        return response
