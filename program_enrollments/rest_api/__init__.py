"""HTTP interface of the app (mounted by the host under ``api/program_enrollments/``)."""
