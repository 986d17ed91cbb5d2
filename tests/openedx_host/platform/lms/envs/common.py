"""Stand-in of ``lms/envs/common.py``: the LMS's apps, middleware and plugin registration.

``INSTALLED_APPS`` is a trimmed version of the platform's list (Django's apps, the third-party apps the
platform installs from PyPI, the stand-in platform apps). The built-in ``program_enrollments`` app is
not listed: as on the platform it arrives through its ``lms.djangoapp`` entry point, and so does any
pip-installed plugin app. The last lines are the platform's plugin registration, verbatim in effect:
``INSTALLED_APPS.extend(get_plugin_apps(ProjectType.LMS))`` then
``add_plugins(__name__, ProjectType.LMS, SettingsType.COMMON)``.

Before discovery, the harness knob ``OPENEDX_HOST_WITHOUT_PLUGINS`` is applied (see
``openedx_harness.plugins``).
"""

from edx_django_utils.plugins import add_plugins, get_plugin_apps

from openedx.core.djangoapps.plugins.constants import ProjectType, SettingsType
from openedx.envs.common import *  # noqa: F403
from openedx_harness.plugins import apply_plugin_exclusions

ROOT_URLCONF = "lms.urls"
SERVICE_VARIANT = "lms"

INSTALLED_APPS = [
    # Standard ones that are always installed...
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.messages",
    "django.contrib.sessions",
    "django.contrib.sites",
    "django.contrib.staticfiles",
    "simple_history",
    # Common Initialization
    "openedx.core.djangoapps.plugins",
    # Feature toggles
    "waffle",
    # Configuration models
    "config_models",
    # Course data
    "openedx.core.djangoapps.content.course_overviews.apps.CourseOverviewsConfig",
    "common.djangoapps.course_modes.apps.CourseModesConfig",
    # Student and its course enrollments and roles
    "common.djangoapps.student.apps.StudentConfig",
    # Grades
    "lms.djangoapps.grades.apps.GradesConfig",
    # The catalog cache of programs
    "openedx.core.djangoapps.catalog",
    # REST framework and OAuth2 (django-oauth-toolkit)
    "rest_framework",
    "oauth2_provider",
    # Third-party auth
    "social_django",
    "common.djangoapps.third_party_auth.apps.ThirdPartyAuthConfig",
    # Organizations (edx-organizations)
    "organizations",
    # Celery task bookkeeping (edx-celeryutils)
    "celery_utils",
]

MIDDLEWARE = [
    "crum.CurrentRequestUserMiddleware",
    # Resets the request cache.
    "edx_django_utils.cache.middleware.RequestCacheMiddleware",
    "django.middleware.common.CommonMiddleware",
    "edx_rest_framework_extensions.auth.jwt.middleware.JwtAuthCookieMiddleware",
    # The platform uses its SafeSessionMiddleware and CacheBackedAuthenticationMiddleware here.
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "waffle.middleware.WaffleMiddleware",
    # Enables force_django_cache_miss functionality for TieredCache.
    "edx_django_utils.cache.middleware.TieredCacheMiddleware",
    # Adds monitoring attributes to requests.
    "edx_rest_framework_extensions.middleware.RequestCustomAttributesMiddleware",
    # Makes JWT-authenticated views refuse restricted applications unless they say otherwise.
    "edx_rest_framework_extensions.auth.jwt.middleware.EnsureJWTAuthSettingsMiddleware",
    # Stores the requesting user in django-simple-history tables.
    "simple_history.middleware.HistoryRequestMiddleware",
]

######################## Plugin Django Apps and Settings ########################

OPENEDX_HOST_EXCLUDED_PLUGINS = sorted(apply_plugin_exclusions())

INSTALLED_APPS.extend(get_plugin_apps(ProjectType.LMS))
add_plugins(__name__, ProjectType.LMS, SettingsType.COMMON)
