"""Program enrollments: degree programs, their course runs, and one active program per run."""

__version__ = "0.1.0"
