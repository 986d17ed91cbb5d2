"""Stand-in of ``cms/envs/test.py``: the harness CMS's settings module (``DJANGO_SETTINGS_MODULE=cms.envs.test``)."""

from edx_django_utils.plugins import add_plugins

from cms.envs.common import *  # noqa: F403
from openedx.core.djangoapps.plugins.constants import ProjectType, SettingsType

add_plugins(__name__, ProjectType.CMS, SettingsType.TEST)
