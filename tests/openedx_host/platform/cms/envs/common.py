"""Stand-in of ``cms/envs/common.py``: the CMS's apps, middleware and plugin registration.

Like the platform's, the CMS lists the built-in ``'lms.djangoapps.program_enrollments'`` in
``INSTALLED_APPS`` itself (under "For Programs API", before the plugin apps), then adds the
``cms.djangoapp`` plugin apps and their ``common`` settings. The rest of the list mirrors the harness
LMS's (the platform's CMS list is longer and different; these are the apps the stand-ins need).
"""

from edx_django_utils.plugins import add_plugins, get_plugin_apps

from openedx.core.djangoapps.plugins.constants import ProjectType, SettingsType
from openedx.envs.common import *  # noqa: F403
from openedx_harness.plugins import apply_plugin_exclusions

ROOT_URLCONF = "cms.urls"
SERVICE_VARIANT = "cms"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.messages",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "simple_history",
    "openedx.core.djangoapps.plugins",
    "waffle",
    "config_models",
    "openedx.core.djangoapps.content.course_overviews.apps.CourseOverviewsConfig",
    "common.djangoapps.course_modes.apps.CourseModesConfig",
    "common.djangoapps.student.apps.StudentConfig",
    "lms.djangoapps.grades.apps.GradesConfig",
    "openedx.core.djangoapps.catalog",
    "rest_framework",
    "oauth2_provider",
    "social_django",
    "common.djangoapps.third_party_auth.apps.ThirdPartyAuthConfig",
    "organizations",
    "celery_utils",
    # For Programs API
    "lms.djangoapps.program_enrollments",
]

MIDDLEWARE = [
    "crum.CurrentRequestUserMiddleware",
    "edx_django_utils.cache.middleware.RequestCacheMiddleware",
    "django.middleware.common.CommonMiddleware",
    "edx_rest_framework_extensions.auth.jwt.middleware.JwtAuthCookieMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "waffle.middleware.WaffleMiddleware",
    "edx_django_utils.cache.middleware.TieredCacheMiddleware",
    "edx_rest_framework_extensions.middleware.RequestCustomAttributesMiddleware",
    "edx_rest_framework_extensions.auth.jwt.middleware.EnsureJWTAuthSettingsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

######################## Plugin Django Apps and Settings ########################

OPENEDX_HOST_EXCLUDED_PLUGINS = sorted(apply_plugin_exclusions())

INSTALLED_APPS.extend(get_plugin_apps(ProjectType.CMS))
add_plugins(__name__, ProjectType.CMS, SettingsType.COMMON)
