"""Stand-in of two helpers of ``openedx/core/lib/api/view_utils.py`` that LMS API views build on.

``DeveloperErrorViewMixin`` turns errors into ``{"developer_message": ..., "error_code": ...}``
responses; ``PaginatedAPIView`` is an ``APIView`` with ``GenericAPIView``'s pagination methods.
"""

from django.core.exceptions import NON_FIELD_ERRORS, ObjectDoesNotExist, ValidationError
from django.http import Http404
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import APIView


class DeveloperErrorResponseException(Exception):
    """Carries a ready error ``Response`` out of a view (see ``DeveloperErrorViewMixin.api_error``)."""

    def __init__(self, response):
        super().__init__()
        self.response = response


class DeveloperErrorViewMixin:
    """Error responses in the platform's API convention, with a developer message."""

    @classmethod
    def api_error(cls, status_code, developer_message, error_code=None):
        """An exception to raise that makes the view answer with this error."""
        return DeveloperErrorResponseException(cls._make_error_response(status_code, developer_message, error_code))

    @classmethod
    def _make_error_response(cls, status_code, developer_message, error_code=None):
        data = {"developer_message": developer_message}
        if error_code is not None:
            data["error_code"] = error_code
        return Response(data, status=status_code)

    @classmethod
    def _make_validation_error_response(cls, validation_error):
        if not hasattr(validation_error, "message_dict"):
            return cls._make_error_response(400, validation_error.messages[0])
        body = {}
        messages = dict(validation_error.message_dict)
        general = messages.pop(NON_FIELD_ERRORS, []) + messages.pop("non_field_errors", [])
        if general:
            body["developer_message"] = general[0]
        if messages:
            body["field_errors"] = {field: {"developer_message": errors[0]} for field, errors in messages.items()}
        return Response(body, status=400)

    def handle_exception(self, exc):
        if isinstance(exc, DeveloperErrorResponseException):
            return exc.response
        if isinstance(exc, APIException):
            response = self._make_error_response(exc.status_code, exc.detail)
            if getattr(exc, "wait", None):
                response["Retry-After"] = f"{int(exc.wait)}"
            return response
        if isinstance(exc, (Http404, ObjectDoesNotExist)):
            return self._make_error_response(404, str(exc) or "Not found.")
        if isinstance(exc, ValidationError):
            return self._make_validation_error_response(exc)
        raise exc


class PaginatedAPIView(APIView):
    """An ``APIView`` with the pagination methods of ``GenericAPIView`` (set ``pagination_class``)."""

    pagination_class = None

    @property
    def paginator(self):
        if not hasattr(self, "_paginator"):
            self._paginator = None if self.pagination_class is None else self.pagination_class()
        return self._paginator

    def paginate_queryset(self, queryset):
        """One page of ``queryset``, or ``None`` without pagination."""
        if self.paginator is None:
            return None
        return self.paginator.paginate_queryset(queryset, self.request, view=self)

    def get_paginated_response(self, data, *args, **kwargs):
        """The paginator's response envelope around ``data``."""
        assert self.paginator is not None
        return self.paginator.get_paginated_response(data, *args, **kwargs)
