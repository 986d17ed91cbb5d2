"""Mirrors ``common/djangoapps/student/signals/__init__.py``: the student app's signals, by their platform names."""

from common.djangoapps.student.signals.signals import (
    ENROLL_STATUS_CHANGE,
    ENROLLMENT_TRACK_UPDATED,
    REFUND_ORDER,
    UNENROLL_DONE,
    USER_EMAIL_CHANGED,
)

__all__ = ["ENROLL_STATUS_CHANGE", "ENROLLMENT_TRACK_UPDATED", "REFUND_ORDER", "UNENROLL_DONE", "USER_EMAIL_CHANGED"]
