from django.contrib import admin

from program_enrollments.standalone.oauth.models import ApplicationAccess


@admin.register(ApplicationAccess)
class ApplicationAccessAdmin(admin.ModelAdmin):
    list_display = ("application", "is_restricted", "scopes", "organizations")
    list_filter = ("is_restricted",)
    search_fields = ("application__name", "application__client_id", "organizations")
    raw_id_fields = ("application",)
