"""``lms.djangoapps.program_enrollments.models``: the built-in names, served by program-enrollments."""

from program_enrollments.openedx.compat import models as _compat
from program_enrollments.openedx.compat.models import *  # noqa: F403

__all__ = list(getattr(_compat, "__all__", [name for name in vars(_compat) if not name.startswith("_")]))
