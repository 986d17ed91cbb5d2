"""``lms.djangoapps.program_enrollments.constants``: the built-in names, served by program-enrollments."""

from program_enrollments.openedx.compat import constants as _compat
from program_enrollments.openedx.compat.constants import *  # noqa: F403

__all__ = list(getattr(_compat, "__all__", [name for name in vars(_compat) if not name.startswith("_")]))
