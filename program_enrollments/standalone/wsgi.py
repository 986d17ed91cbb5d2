import os

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "program_enrollments.standalone.settings")
application = get_wsgi_application()

# WSGI servers (gunicorn, uWSGI) run no system checks: refuse here what runserver and manage.py
# refuse, so that a production host never starts with a development secret.
if not settings.DEBUG:
    from program_enrollments.standalone.checks import development_secret_errors

    if errors := development_secret_errors():
        raise ImproperlyConfigured("\n".join(f"{error.id}: {error.msg} {error.hint}" for error in errors))
