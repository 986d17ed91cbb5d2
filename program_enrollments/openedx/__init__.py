"""The Open edX host: backends, signal receivers, plugin settings and the compatibility layer.

Everything here talks to an Open edX LMS. Platform modules (``common.djangoapps.*``,
``openedx.core.*``, ``organizations``, ``social_django``) are imported inside the
functions that use them, never when a module of this package is imported, so that
the core can name these classes in settings and the system checks
(``program_enrollments.openedx.checks``) can report a platform part that is missing
instead of the LMS failing to start.
"""
