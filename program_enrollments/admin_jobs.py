"""The admin's pages of background jobs: their status, progress and per-learner results file.

Read-only: jobs are submitted by the REST API and by the admin's transfer action (for
selections larger than the synchronous limit), and run by the host's workers. Staff who may
view program enrollments may view jobs (jobs are enrollment data); nobody edits or deletes
one here (the ``delete_finished_jobs`` task applies the retention period).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import Http404, HttpResponseRedirect, StreamingHttpResponse
from django.urls import path, reverse
from django.utils.html import format_html

from program_enrollments.api import jobs
from program_enrollments.models import Job


def _may_view_enrollments(request) -> bool:
    return request.user.has_perm("program_enrollments.view_programenrollment") or request.user.has_perm(
        "program_enrollments.view_job"
    )


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "program_uuid", "status", "progress", "requested_by", "created", "finished")
    list_filter = ("status", "kind")
    search_fields = ("=id", "=program_uuid")
    list_select_related = ("requested_by",)
    # The learners' list is the submission's input, possibly large: never loaded here.
    fields = (
        "id",
        "kind",
        "program_uuid",
        "parameters",
        "status",
        "progress",
        "succeeded",
        "failed",
        "counts",
        "results",
        "error",
        "attempts",
        "requested_by",
        "idempotency_key",
        "created",
        "started",
        "finished",
    )
    readonly_fields = fields
    raw_id_fields = ("requested_by",)

    def get_queryset(self, request):
        return super().get_queryset(request).defer("learners")

    def has_view_permission(self, request, obj=None):
        return _may_view_enrollments(request)

    def has_module_permission(self, request):
        return _may_view_enrollments(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="processed")
    def progress(self, job: Job) -> str:
        return f"{job.processed} of {job.total}" if job.total is not None else f"{job.processed} (counting)"

    @admin.display(description="results by status")
    def counts(self, job: Job) -> str:
        return ", ".join(f"{count} {status}" for status, count in jobs.job_status_counts(job).items()) or "-"

    @admin.display(description="results file")
    def results(self, job: Job) -> str:
        url = reverse("admin:program_enrollments_job_results", args=[job.pk])
        return format_html('<a href="{}" id="job-results">Download the per-learner results (CSV)</a>', url)

    def get_urls(self):
        return [
            path(
                "<uuid:job_id>/results/",
                self.admin_site.admin_view(self.results_view),
                name="program_enrollments_job_results",
            ),
            *super().get_urls(),
        ]

    def results_view(self, request, job_id):
        if not self.has_view_permission(request):
            raise Http404
        job = jobs.get_job(job_id)
        if job is None:
            raise Http404
        response = StreamingHttpResponse(jobs.iter_job_results_csv(job), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="job-{job.pk}-results.csv"'
        return response


def submit_transfer(request, **arguments):
    """Submit the admin's transfer as a job; redirect to the job's page, with a message saying so.

    Raises:
        ProgramEnrollmentsError: the transfer is refused as submitted (the form shows why).
    """
    submission = jobs.submit_transfer_job(
        **arguments,
        requested_by=request.user,
        reason=f"Transferred in the admin by {request.user.get_username()}",
    )
    job = submission.job
    count = len(arguments.get("student_keys") or ())
    messages.info(
        request,
        f"The transfer of {count} learners runs as a background job ({job.status}); this page shows its "
        "progress and, when it has run, each learner's result."
        + ("" if submission.created else " The same transfer was already submitted: this is its job."),
    )
    return HttpResponseRedirect(reverse("admin:program_enrollments_job_change", args=[job.pk]))
