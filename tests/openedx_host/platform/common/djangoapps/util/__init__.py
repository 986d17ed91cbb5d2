"""Stand-in of the platform's ``common/djangoapps/util`` package (``query.py`` only)."""
