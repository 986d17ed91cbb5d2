"""Mirrors ``openedx/core/lib/user_util.py``: retired (hashed) replacements of usernames, emails and external keys.

A retired value is ``<format>.format(sha1(salt + value.lower()))``. ``salt_list`` is every salt ever
used, oldest first (``settings.RETIRED_USER_SALTS``): the ``get_retired_*`` helpers use the current
(last) salt, the ``get_all_retired_*`` generators yield one value per salt. A ``salt_list`` that is not
a list or tuple raises ``ValueError``.
"""

import hashlib

RETIRED_USERNAME_DEFAULT_FMT = "retired_username_{}"
RETIRED_EMAIL_DEFAULT_FMT = "retired_email_{}@retired.edx.org"
RETIRED_EXTERNAL_KEY_DEFAULT_FMT = "retired_external_key_{}"
SALT_LIST_EXCEPTION = ValueError("Salt must be a list -or- tuple of all historical salts.")


def _compute_retired_hash(value_to_retire, salt):
    return hashlib.sha1(salt.encode() + value_to_retire.encode("utf-8")).hexdigest()


def _check_salts(salt_list):
    if not isinstance(salt_list, (list, tuple)):
        raise SALT_LIST_EXCEPTION


def _all_retired(value, salt_list, fmt):
    _check_salts(salt_list)
    for salt in salt_list:
        yield fmt.format(_compute_retired_hash(value.lower(), salt))


def _retired(value, salt_list, fmt):
    _check_salts(salt_list)
    return fmt.format(_compute_retired_hash(value.lower(), salt_list[-1]))


def get_all_retired_usernames(username, salt_list, retired_username_fmt=RETIRED_USERNAME_DEFAULT_FMT):
    """Every retired form of ``username``, one per salt, oldest salt first."""
    return _all_retired(username, salt_list, retired_username_fmt)


def get_all_retired_emails(email, salt_list, retired_email_fmt=RETIRED_EMAIL_DEFAULT_FMT):
    """Every retired form of ``email``, one per salt, oldest salt first."""
    return _all_retired(email, salt_list, retired_email_fmt)


def get_all_retired_external_keys(external_key, salt_list, retired_external_key_fmt=RETIRED_EXTERNAL_KEY_DEFAULT_FMT):
    """Every retired form of ``external_key``, one per salt, oldest salt first."""
    return _all_retired(external_key, salt_list, retired_external_key_fmt)


def get_retired_username(username, salt_list, retired_username_fmt=RETIRED_USERNAME_DEFAULT_FMT):
    """The retired form of ``username`` under the current salt."""
    return _retired(username, salt_list, retired_username_fmt)


def get_retired_email(email, salt_list, retired_email_fmt=RETIRED_EMAIL_DEFAULT_FMT):
    """The retired form of ``email`` under the current salt."""
    return _retired(email, salt_list, retired_email_fmt)


def get_retired_external_key(external_key, salt_list, retired_external_key_fmt=RETIRED_EXTERNAL_KEY_DEFAULT_FMT):
    """The retired form of ``external_key`` under the current salt: ``retired_external_key_<sha1>``."""
    return _retired(external_key, salt_list, retired_external_key_fmt)
