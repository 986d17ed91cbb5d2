"""Stand-in of ``lms/envs/test.py``: the harness LMS's settings module (``DJANGO_SETTINGS_MODULE=lms.envs.test``).

Everything of ``lms/envs/common.py``, then the plugin apps' ``test`` settings, as the platform's
``lms/envs/test.py`` ends with ``add_plugins(__name__, ProjectType.LMS, SettingsType.TEST)``.
"""

from edx_django_utils.plugins import add_plugins

from lms.envs.common import *  # noqa: F403
from openedx.core.djangoapps.plugins.constants import ProjectType, SettingsType

add_plugins(__name__, ProjectType.LMS, SettingsType.TEST)
