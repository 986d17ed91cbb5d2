"""Read-only admin views of program enrollments (changes go through the Python API)."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from program_enrollments.models import OrganizationGrant, ProgramCourseEnrollment, ProgramEnrollment


class _ReadOnlyAdmin(SimpleHistoryAdmin):
    """Look, search and read history; writing here would bypass the API's rules and history."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ProgramEnrollment)
class ProgramEnrollmentAdmin(_ReadOnlyAdmin):
    list_display = ("id", "external_user_key", "user", "program_uuid", "curriculum_uuid", "status", "modified")
    list_filter = ("status", "program_uuid")
    search_fields = ("external_user_key", "user__username", "user__email", "program_uuid")
    raw_id_fields = ("user",)
    list_select_related = ("user",)
    history_list_display = ("status", "curriculum_uuid", "user")


@admin.register(ProgramCourseEnrollment)
class ProgramCourseEnrollmentAdmin(_ReadOnlyAdmin):
    list_display = ("id", "program_enrollment", "course_key", "status", "course_enrollment", "modified")
    list_filter = ("status", "course_key", "program_enrollment__program_uuid")
    search_fields = (
        "course_key",
        "program_enrollment__external_user_key",
        "program_enrollment__user__username",
        "program_enrollment__user__email",
    )
    raw_id_fields = ("program_enrollment", "course_enrollment")
    list_select_related = ("program_enrollment", "course_enrollment")
    history_list_display = ("status", "course_enrollment")


@admin.register(OrganizationGrant)
class OrganizationGrantAdmin(SimpleHistoryAdmin):
    """Who may read or write which organization's programs through the REST API."""

    list_display = ("user", "organization_key", "access", "modified")
    list_filter = ("access", "organization_key")
    search_fields = ("user__username", "user__email", "organization_key")
    raw_id_fields = ("user",)
