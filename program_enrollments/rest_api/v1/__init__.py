"""Version 1 of the REST API, compatible with the Open edX program enrollments API."""
