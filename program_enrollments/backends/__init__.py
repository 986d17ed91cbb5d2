"""The host boundary: the app reaches the LMS and the catalog only through these backends.

The classes are named by the ``LMS_BACKEND`` and ``CATALOG_BACKEND`` settings,
which each host sets to its own backends (docs/host_integration.rst). Nothing in
the core imports or names a host module: the hosts import the core.
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
