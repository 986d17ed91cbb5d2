"""Stand-in of the platform's ``lms/djangoapps/bulk_email`` package (its Python API only)."""
