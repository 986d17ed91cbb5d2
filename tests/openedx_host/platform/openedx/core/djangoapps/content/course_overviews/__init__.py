"""Stand-in of the platform's ``openedx/core/djangoapps/content/course_overviews`` app."""
