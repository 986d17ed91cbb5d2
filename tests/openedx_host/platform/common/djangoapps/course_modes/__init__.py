"""Stand-in of the platform's ``common/djangoapps/course_modes`` app."""
