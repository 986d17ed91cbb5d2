"""``lms.djangoapps.program_enrollments.api``: the built-in Python API, served by program-enrollments.

The functions keep the built-in names and signatures; platform code such as the gradebook, the
support tools, the teams CSV export and the learner dashboard calls them through this module.
"""

from program_enrollments.openedx.compat import api as _compat
from program_enrollments.openedx.compat.api import *  # noqa: F403

__all__ = list(getattr(_compat, "__all__", [name for name in vars(_compat) if not name.startswith("_")]))
