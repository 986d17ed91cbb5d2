"""Cursor pagination ordered by id, sizes from the settings (read at request time)."""

from rest_framework.pagination import CursorPagination

from program_enrollments import conf


class EnrollmentCursorPagination(CursorPagination):
    ordering = "id"
    page_size_query_param = "page_size"

    def get_page_size(self, request):
        self.page_size = conf.get("PAGE_SIZE")
        self.max_page_size = conf.get("MAX_PAGE_SIZE")
        return super().get_page_size(request)
