"""Mirrors ``openedx/core/djangoapps/plugins/apps.py``: connects the plugin apps' signal receivers at start-up."""

from django.apps import AppConfig
from django.conf import settings
from edx_django_utils.plugins import connect_plugin_receivers

from openedx.core.djangoapps.plugins.constants import ProjectType


class PluginsConfig(AppConfig):
    """Connects every plugin app's ``signals_config`` receivers (LMS or CMS, by ``ROOT_URLCONF``)."""

    name = "openedx.core.djangoapps.plugins"

    def ready(self):
        project_type = ProjectType.LMS if settings.ROOT_URLCONF == "lms.urls" else ProjectType.CMS
        connect_plugin_receivers(project_type)
