"""Minimal stand-in of the built-in app's REST API (``lms/djangoapps/program_enrollments/rest_api/``)."""
