"""Cursor pagination ordered by id, sizes from the settings (read at request time)."""

from contextlib import contextmanager, nullcontext

from django.db import connections
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination

from program_enrollments import conf
from program_enrollments.models import PCE_PAGE_INDEX, PE_PAGE_INDEX, ProgramCourseEnrollment, ProgramEnrollment

# The index a page of each model reads: (the page's filter, id), so that a page starts from
# the cursor's position in it (docs/scale.rst).
PAGE_INDEXES = {ProgramEnrollment: PE_PAGE_INDEX, ProgramCourseEnrollment: PCE_PAGE_INDEX}


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

    def paginate_queryset(self, queryset, request, view=None):
        with _page_index(queryset):
            return super().paginate_queryset(queryset, request, view)


def _page_index(queryset):
    """On MySQL/MariaDB, name the page's index in its query (``FORCE INDEX``); elsewhere nothing.

    MariaDB (10.11) plans ``WHERE program_uuid = … AND id > cursor ORDER BY id LIMIT n`` as a
    ``ref`` access on the program alone when it reconsiders the access for ``ORDER BY … LIMIT``:
    it then walks the index from the program's first row to the cursor, so that a page 90% of
    the way through a program of a million learners took several times the first page.
    With the index named, it reads the range from the cursor (docs/benchmarks.rst).
    """
    connection = connections[queryset.db]
    index = PAGE_INDEXES.get(queryset.model)
    if connection.vendor != "mysql" or index is None:
        return nullcontext()
    return _forcing_index(connection, queryset.model._meta.db_table, index)


@contextmanager
def _forcing_index(connection, table, index):
    quoted = connection.ops.quote_name(table)
    source = f"FROM {quoted}"
    hinted = f"FROM {quoted} FORCE INDEX ({connection.ops.quote_name(index)})"

    def hint(execute, sql, params, many, context):
        # The page's query only: the one SELECT of the paginator, from the model's table, with a LIMIT.
        if sql.startswith("SELECT") and " LIMIT " in sql and f"{source} " in f"{sql} ":
            sql = sql.replace(source, hinted, 1)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(hint):
        yield
