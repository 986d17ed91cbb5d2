"""The standalone host's Celery app, configured from the Django settings' ``CELERY_*`` names.

Without ``CELERY_BROKER_URL`` in the environment there is no broker: tasks run
eagerly, in the calling process (``make run`` and ``make test`` need nothing more).
With it, ``celery -A program_enrollments.standalone worker --beat`` runs them.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "program_enrollments.standalone.settings")

app = Celery("program_enrollments_standalone")
app.config_from_object("django.conf:settings", namespace="CELERY")
