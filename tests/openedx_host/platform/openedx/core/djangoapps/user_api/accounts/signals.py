"""Mirrors ``openedx/core/djangoapps/user_api/accounts/signals.py``: the user-retirement signals.

The LMS's retirement views send each with ``sender=<the view class>`` and ``user=<the user being
retired>``; ``USER_RETIRE_LMS_MISC`` is the one the built-in program_enrollments app listens to (its
receiver replaces the learner's external keys with retired hashes).
"""

from django.dispatch import Signal

USER_RETIRE_MAILINGS = Signal()
USER_RETIRE_LMS_CRITICAL = Signal()
USER_RETIRE_LMS_MISC = Signal()
