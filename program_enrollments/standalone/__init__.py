"""The standalone host: a small LMS stand-in (users, course enrollments, SSO identities, catalog).

It is the embedded default for running and testing the app; inside an Open edX
LMS none of it is installed.
"""

from program_enrollments.standalone.celery import app as celery_app

__all__ = ["celery_app"]
