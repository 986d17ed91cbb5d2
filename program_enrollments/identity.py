"""Learner identity for the one-active rule (SPEC section 3).

A learner is the LMS user when the program enrollment is linked, otherwise the
pair (authoring organization, case-folded student key). The identity is stored
as a short ASCII reference so that it fits, with a course key, in a unique
index on every supported database (MariaDB caps index keys at 3072 bytes).
"""

from __future__ import annotations

import hashlib

# "key:" + 64 hex digits; "user:" + a database id fits easily.
LEARNER_REF_MAX_LENGTH = 72

# Programs missing from the catalog share this organization, so the rule can
# only over-block for them, never let two programs activate one learner.
UNKNOWN_ORGANIZATION = ""


def normalize_student_key(student_key: str | None) -> str | None:
    """Return the form under which student keys are compared (case-insensitive)."""
    if student_key is None:
        return None
    return student_key.casefold()


USER_REF_PREFIX = "user:"
KEY_REF_PREFIX = "key:"


def user_ref(user_id: int) -> str:
    """Return the identity of a linked learner."""
    return f"{USER_REF_PREFIX}{user_id}"


def learner_ref(*, user_id: int | None, organization_key: str | None, student_key: str | None) -> str:
    """Return the identity of a learner for the one-active rule."""
    if user_id is not None:
        return user_ref(user_id)
    if student_key is None:
        raise ValueError("A program enrollment needs a user or a student key.")
    organization = (organization_key or UNKNOWN_ORGANIZATION).casefold()
    digest = hashlib.sha256(f"{organization}\n{normalize_student_key(student_key)}".encode()).hexdigest()
    return f"{KEY_REF_PREFIX}{digest}"
