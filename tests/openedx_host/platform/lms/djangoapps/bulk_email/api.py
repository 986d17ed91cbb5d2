"""Stand-in of ``lms/djangoapps/bulk_email/api.py``: ``get_emails_enabled``.

The platform answers None when the bulk email feature is off for the course, else whether the learner has
not opted out. The harness has no bulk email feature (``BulkEmailFlag`` off, as by default): always None.
"""


def get_emails_enabled(user, course_id):
    """Whether ``user`` receives ``course_id``'s bulk emails; None when the feature is off (always, here)."""
    return None
