from django.contrib import admin

from program_enrollments.standalone.catalog.models import CourseRun, Curriculum, Organization, Program


class CurriculumInline(admin.TabularInline):
    model = Curriculum
    extra = 0
    fields = ("uuid", "name", "is_active", "course_runs")
    autocomplete_fields = ("course_runs",)


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = ("title", "uuid", "type", "authoring_organization")
    list_filter = ("authoring_organization", "type")
    search_fields = ("title", "uuid")
    inlines = [CurriculumInline]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("key", "name")
    search_fields = ("key", "name")


@admin.register(CourseRun)
class CourseRunAdmin(admin.ModelAdmin):
    list_display = ("key", "title", "start", "end", "self_paced")
    search_fields = ("key", "title")
