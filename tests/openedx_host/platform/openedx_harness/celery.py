"""The Celery app of the harness LMS and CMS (the platform's are ``lms/celery.py`` and ``cms/celery.py``).

Configured from the Django settings' ``CELERY_*`` names. The harness settings make tasks run eagerly in
the calling process, so ``shared_task(...).delay()`` needs no broker.
"""

from celery import Celery

APP = Celery("openedx_host")
APP.config_from_object("django.conf:settings", namespace="CELERY")
