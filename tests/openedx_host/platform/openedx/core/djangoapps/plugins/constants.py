"""Mirrors ``openedx/core/djangoapps/plugins/constants.py``: the project and settings types of plugin apps."""

from edx_django_utils.plugins import PluginContexts, PluginSettings, PluginSignals, PluginURLs  # noqa: F401


class ProjectType:
    """The Django projects of the platform; the values are the entry point groups of their plugin apps."""

    LMS = "lms.djangoapp"
    CMS = "cms.djangoapp"


class SettingsType:
    """The settings files a plugin app can extend (``settings_config``)."""

    PRODUCTION = "production"
    COMMON = "common"
    DEVSTACK = "devstack"
    TEST = "test"


plugins_locale_root = "conf/plugins-locale/plugins"
