"""Cursor pagination ordered by id, sizes from the settings (read at request time)."""

from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination

from program_enrollments import conf


class EnrollmentCursorPagination(CursorPagination):
    ordering = "id"
    page_size_query_param = "page_size"

    def get_page_size(self, request):
        self.page_size = conf.get("PAGE_SIZE")
        self.max_page_size = conf.get("MAX_PAGE_SIZE")
        return super().get_page_size(request)

    def decode_cursor(self, request):
        # DRF checks a cursor's offset and direction but not its position, which
        # reaches the database as an id: a non-number would fail there.
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            try:
                int(cursor.position)
            except (TypeError, ValueError) as error:
                raise NotFound(self.invalid_cursor_message) from error
        return cursor
