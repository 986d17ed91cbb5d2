"""Stand-in of ``lms/djangoapps/certificates/api.py``: ``get_certificates_for_user_by_course_keys``.

The platform reads ``GeneratedCertificate.eligible_certificates`` and formats each row (``is_passing``,
``created``, ``download_url`` among other keys). The harness issues no certificates: the function has the
platform's signature and returns what the platform returns for a learner without one, an empty dict.
Tests that need a certificate patch it.
"""


def get_certificates_for_user_by_course_keys(user, course_keys):
    """``{course_key: certificate info dict}`` for the user's certificates in ``course_keys``; none here."""
    return {}
