"""Stand-in of the platform's ``lms/djangoapps/course_api`` package (its Python API only)."""
