"""The host boundary: the app reaches the LMS and the catalog only through these backends.

The classes are named by the ``LMS_BACKEND`` and ``CATALOG_BACKEND`` settings,
which each host sets: ``program_enrollments.standalone.backends`` is the
reference implementation (the standalone host), ``program_enrollments.openedx.backends``
talks to an Open edX LMS. Nothing here imports a host.
"""

from program_enrollments import conf
from program_enrollments.backends.base import CatalogBackend, LMSBackend

__all__ = ["CatalogBackend", "LMSBackend", "catalog_backend", "lms_backend"]


def lms_backend() -> LMSBackend:
    """Return the configured host LMS backend."""
    return conf.backend_class("LMS_BACKEND")()


def catalog_backend() -> CatalogBackend:
    """Return the configured program catalog backend."""
    return conf.backend_class("CATALOG_BACKEND")()
