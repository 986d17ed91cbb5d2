"""The harness knob ``OPENEDX_HOST_WITHOUT_PLUGINS``: leave named entry points out of plugin discovery.

``OPENEDX_HOST_WITHOUT_PLUGINS`` is a comma-separated list of entry point names (for example
``program_enrollments_plugin``). Entry points of those names, in the groups ``lms.djangoapp`` and
``cms.djangoapp``, are hidden from stevedore, and so from everything edx-django-utils derives from it
(``get_plugin_apps``, ``add_plugins``, ``get_plugin_url_patterns``, ``connect_plugin_receivers``),
exactly as if the distribution declaring them were not installed: their modules are not even imported.
It does not hide them from ``importlib.metadata`` itself.

Typical values:

- ``program_enrollments_plugin``: the LMS before our package is installed (the built-in app holds the
  label ``program_enrollments``);
- ``program_enrollments``: the platform's built-in entry point removed (what the takeover does to the
  platform's metadata), our package's app registered through its own entry point.

The platform has no such knob; settings call ``apply_plugin_exclusions()`` before any discovery.
"""

import importlib.metadata
import os

from edx_django_utils.plugins.plugin_manager import PluginManager
from stevedore.extension import ExtensionManager

ENVIRONMENT_VARIABLE = "OPENEDX_HOST_WITHOUT_PLUGINS"
PLUGIN_GROUPS = ("lms.djangoapp", "cms.djangoapp")


def excluded_plugin_names(environ=None):
    """The entry point names the knob leaves out (an empty set when it is unset)."""
    value = (os.environ if environ is None else environ).get(ENVIRONMENT_VARIABLE, "")
    return {name.strip() for name in value.split(",") if name.strip()}


def apply_plugin_exclusions(environ=None):
    """Hide the knob's entry point names from stevedore's plugin groups; returns the hidden names.

    stevedore's ``ExtensionManager`` keeps a class-level cache of each group's entry points and only reads
    the installed metadata for groups missing from it, so this fills the cache for the plugin groups with
    the installed entry points minus the excluded names. Without exclusions nothing is touched.
    """
    excluded = excluded_plugin_names(environ)
    if not excluded:
        return excluded
    for group in PLUGIN_GROUPS:
        seen = set()
        kept = []
        for entry_point in importlib.metadata.entry_points(group=group):
            identity = (entry_point.name, entry_point.value)
            if entry_point.name in excluded or identity in seen:
                continue
            seen.add(identity)
            kept.append(importlib.metadata.EntryPoint(entry_point.name, entry_point.value, group))
        ExtensionManager.ENTRY_POINT_CACHE[group] = kept
    # Discovery results are memoized per group; forget any computed before the exclusions.
    PluginManager.__dict__["get_available_plugins"].__func__.cache_clear()
    return excluded
