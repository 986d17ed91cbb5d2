"""Stand-in of the platform's ``lms/djangoapps/grades`` app: persisted course grades and their factory."""
