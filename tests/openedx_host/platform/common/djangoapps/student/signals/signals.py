"""Mirrors ``common/djangoapps/student/signals/signals.py``: plain Django signals of enrollment changes.

The keyword arguments each signal is sent with are those of the platform:

- ``ENROLLMENT_TRACK_UPDATED``: ``user``, ``course_key``, ``mode``, ``countdown`` (a mode change);
- ``UNENROLL_DONE``: ``course_enrollment``, ``skip_refund`` (an enrollment deactivated);
- ``ENROLL_STATUS_CHANGE``: ``event``, ``user``, ``course_id``, ``mode``, ``cost``, ``currency``
  (``event`` is an ``EnrollStatusChange`` value such as ``'enroll'`` or ``'unenroll'``);
- ``REFUND_ORDER``: ``course_enrollment``.

The platform also emits openedx-events (``COURSE_ENROLLMENT_CHANGED`` ...) and course access role events;
the harness has no event bus and leaves them out.
"""

from django.dispatch import Signal

ENROLLMENT_TRACK_UPDATED = Signal()
UNENROLL_DONE = Signal()
ENROLL_STATUS_CHANGE = Signal()
REFUND_ORDER = Signal()
USER_EMAIL_CHANGED = Signal()
