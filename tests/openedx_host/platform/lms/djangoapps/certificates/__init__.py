"""Stand-in of the platform's ``lms/djangoapps/certificates`` package (its Python API only)."""
