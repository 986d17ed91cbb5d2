"""The interfaces of Open edX's built-in ``lms.djangoapps.program_enrollments`` app, served by this app.

The takeover replaces the built-in package with shims that re-export these
modules (``api``, ``models``, ``constants``, ``exceptions``), so platform code that
imports the built-in app keeps working: the same names, signatures and results,
over this app's models and Python API. Modules are imported by the shims, not
here, so that importing this package loads nothing of the platform.
"""
