"""Mirrors constants of ``openedx/core/djangoapps/user_api/accounts/__init__.py``."""

USERNAME_MIN_LENGTH = 2
USERNAME_MAX_LENGTH = 30
EMAIL_MAX_LENGTH = 254
BIO_MAX_LENGTH = 300
