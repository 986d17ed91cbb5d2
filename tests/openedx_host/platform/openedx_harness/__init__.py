"""What the harness adds to the stand-in platform tree; none of this exists in the Open edX platform.

- ``plugins``: the ``OPENEDX_HOST_WITHOUT_PLUGINS`` knob (leave named entry points out of plugin discovery);
- ``catalog``: fill the LMS's program cache from a course-discovery-shaped JSON document;
- ``databases``: ``DATABASES`` from ``DATABASE_URL``;
- ``sqlite3``: the SQLite engine the harness uses (the platform runs on MySQL).
"""
