"""Stand-in of the platform's ``openedx/core/djangoapps/catalog`` app: the LMS's cache of the program catalog."""
