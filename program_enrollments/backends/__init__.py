"""The host boundary: the app reaches the LMS and the catalog only through these backends.

The classes are named by the ``LMS_BACKEND`` and ``CATALOG_BACKEND`` settings;
``program_enrollments.backends.standalone`` holds the reference implementation
for the standalone host.
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
