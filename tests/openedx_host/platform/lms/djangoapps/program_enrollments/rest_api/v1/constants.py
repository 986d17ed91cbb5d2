"""
Mirrors the URL pattern constant of ``lms/djangoapps/program_enrollments/rest_api/v1/constants.py``.
"""

PROGRAM_UUID_PATTERN = r"(?P<program_uuid>[A-Fa-f0-9-]+)"
