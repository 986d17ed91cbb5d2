"""Benchmarks of program-enrollments on the configured database: ``python -m benchmarks`` (docs/benchmarks.rst)."""
