"""What the standalone host's debug page and error e-mails may show."""

import re

from django.views.debug import SafeExceptionReporterFilter

# user:password@ in a URL (postgres://user:password@host/db), in any setting or request variable.
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):[^@/\s]*@", re.IGNORECASE)


class ExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's filter, also hiding DATABASE_URL, DATABASE_REPLICA_URL and any password written into a URL.

    Under runserver the request's META holds the server's environment, DATABASE_URL included,
    which Django's name pattern (API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE) lets through.
    """

    hidden_settings = re.compile(
        SafeExceptionReporterFilter.hidden_settings.pattern + "|DATABASE_URL|DATABASE_REPLICA_URL|DSN", re.I
    )

    def cleanse_setting(self, key, value):
        value = super().cleanse_setting(key, value)
        if isinstance(value, str):
            return _URL_PASSWORD.sub(rf"\g<scheme>\g<user>:{self.cleansed_substitute}@", value)
        return value
