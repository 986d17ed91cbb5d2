"""Stand-in of ``lms/djangoapps/course_api/api.py``: ``get_course_run_url`` and ``get_due_dates``.

``get_course_run_url`` builds the course home URL as the platform does
(``openedx.features.course_experience.course_home_url``: the learning micro-frontend's
``/course/<key>/home`` under ``LEARNING_MICROFRONTEND_URL``), made absolute with the request.
``get_due_dates`` reads edx-when's dates and the modulestore's block names on the platform; the harness
has neither, so no course has due dates (an empty list, what the platform returns for such a course).
"""

from django.conf import settings
from opaque_keys.edx.keys import CourseKey


def get_due_dates(request, course_key, user):
    """The user's subsection due dates in the course as ``{'name', 'url', 'date'}`` dicts; none here."""
    return []


def get_course_run_url(request, course_id):
    """The absolute URL of the course run's home page."""
    course_key = CourseKey.from_string(str(course_id))
    base = getattr(settings, "LEARNING_MICROFRONTEND_URL", "") or ""
    return request.build_absolute_uri(f"{base.rstrip('/')}/course/{course_key}/home")
