"""The standalone host's Celery app, configured from the Django settings' ``CELERY_*`` names.

Without ``CELERY_BROKER_URL`` in the environment there is no broker: tasks run
eagerly, in the calling process (``make run`` and ``make test`` need nothing more).
With it, ``celery -A program_enrollments.standalone worker --beat`` runs them: the
background jobs (``program_enrollments.tasks.run_job``) and the periodic tasks of
``CELERY_BEAT_SCHEDULE``. The settings' ``CELERY_TASK_DEFAULT_QUEUE`` names the queue, and
``CELERY_VISIBILITY_TIMEOUT`` the time after which Redis delivers again a message whose
worker was lost (docs/operator_guide.rst).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "program_enrollments.standalone.settings")

app = Celery("program_enrollments_standalone")
app.config_from_object("django.conf:settings", namespace="CELERY")
