from django.contrib import admin

from program_enrollments.standalone.lms.models import CourseAccessRole, CourseEnrollment, CourseGrade, SSOIdentity


@admin.register(CourseEnrollment)
class CourseEnrollmentAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "course_id", "mode", "is_active", "modified")
    list_filter = ("mode", "is_active")
    search_fields = ("user__username", "user__email", "course_id")
    raw_id_fields = ("user",)


@admin.register(SSOIdentity)
class SSOIdentityAdmin(admin.ModelAdmin):
    list_display = ("organization_key", "student_key", "user", "created")
    search_fields = ("student_key", "user__username", "user__email")
    list_filter = ("organization_key",)
    raw_id_fields = ("user",)


@admin.register(CourseAccessRole)
class CourseAccessRoleAdmin(admin.ModelAdmin):
    list_display = ("user", "course_id", "role", "org")
    list_filter = ("role",)
    search_fields = ("user__username", "user__email", "course_id")
    raw_id_fields = ("user",)


@admin.register(CourseGrade)
class CourseGradeAdmin(admin.ModelAdmin):
    list_display = ("user", "course_id", "percent", "letter_grade", "passed", "modified")
    list_filter = ("passed",)
    search_fields = ("user__username", "user__email", "course_id")
    raw_id_fields = ("user",)
