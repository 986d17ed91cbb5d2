"""Compatibility package standing in for the Open edX built-in ``program_enrollments`` app.

program-enrollments' takeover (``python -m program_enrollments.openedx.takeover``, ADR 0005)
installs these files at ``lms/djangoapps/program_enrollments/`` in the platform tree, in place of
the built-in app, which it deletes. The ``program_enrollments`` app of the program-enrollments
package owns the ``program_enrollments_*`` tables; the modules here only re-export its
compatibility layer (``program_enrollments.openedx.compat``) so that the platform's own imports of
``lms.djangoapps.program_enrollments.{api,models,constants,exceptions}`` keep working.

Nothing here defines a model: importing a module that defines models for an app that is not
installed raises ``RuntimeError``.
"""
