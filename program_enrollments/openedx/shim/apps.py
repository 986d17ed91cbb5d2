"""The compatibility package's AppConfig: importable, never a plugin, never a clash.

The built-in app's AppConfig had this class name and ``name``, with label ``program_enrollments``
and a ``plugin_app`` that mounted its REST API in the LMS. This one keeps the class name and
``name`` (so a left-over ``lms.djangoapp`` entry point or a CMS ``INSTALLED_APPS`` line still
resolves) but:

- declares no ``plugin_app``: edx-django-utils' ``get_plugin_apps`` skips AppConfigs without one,
  so even if the platform's entry point survived, nothing of the built-in app is installed,
  configured or mounted through the plugin framework;
- has its own label, ``program_enrollments_shim``, so that if something installs it anyway (a CMS
  whose settings still list ``lms.djangoapps.program_enrollments``), it cannot clash with the
  ``program_enrollments`` label of program-enrollments' app, and it brings no models.
"""

from django.apps import AppConfig


class ProgramEnrollmentsConfig(AppConfig):
    name = "lms.djangoapps.program_enrollments"
    label = "program_enrollments_shim"
    verbose_name = "Program enrollments (compatibility package of program-enrollments)"
