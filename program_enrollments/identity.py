"""Learner identity for the one-active rule (SPEC section 3).

A learner is the LMS user when the program enrollment is linked, otherwise the
pair (authoring organization, case-folded student key). The identity is stored
as a short ASCII reference so that it fits, with a course key, in a unique
index on every supported database (MariaDB caps index keys at 3072 bytes).
"""

from __future__ import annotations

import hashlib
import unicodedata

# "key:" + 64 hex digits; "user:" + a database id fits easily.
LEARNER_REF_MAX_LENGTH = 72

# Programs missing from the catalog share this organization, so the rule can
# only over-block for them, never let two programs activate one learner.
UNKNOWN_ORGANIZATION = ""


def normalize_student_key(student_key: str | None) -> str | None:
    """Return the form under which student keys are compared: Unicode compatibility caseless matching.

    Two keys that people read as the same key compare equal: whatever their case,
    Unicode normalization (NFC or NFD), or width (fullwidth letters). This is the
    "compatibility caseless match" of the Unicode standard (section 3.13, D146):
    NFKC(casefold(NFKC(casefold(NFD(key))))). Invisible characters are refused on
    the way in (``invisible_character``), so they never reach the comparison.
    """
    if student_key is None:
        return None
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFD", student_key).casefold())
    return unicodedata.normalize("NFKC", folded.casefold())


# Default-ignorable code points (Unicode's DerivedCoreProperties) that are not in a
# category refused below: they render as nothing, yet make two keys differ.
_IGNORABLE_RANGES = (
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x115F, 0x1160),  # Hangul choseong and jungseong fillers
    (0x17B4, 0x17B5),  # Khmer inherent vowels
    (0x180B, 0x180F),  # Mongolian free variation selectors
    (0x3164, 0x3164),  # Hangul filler
    (0xFE00, 0xFE0F),  # variation selectors
    (0xFFA0, 0xFFA0),  # halfwidth Hangul filler
    (0xE0100, 0xE01EF),  # variation selectors supplement
)
# Control, format (zero-width characters, bidirectional marks, soft hyphen), surrogate,
# private-use, unassigned, and line and paragraph separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def invisible_character(student_key: str) -> tuple[int, str] | None:
    """Return the position and code point of the first character a student key must not hold, or None.

    Refused: control and format characters (zero-width spaces and joiners, the
    byte order mark, bidirectional marks, the soft hyphen), line and paragraph
    separators, surrogates, private-use and unassigned code points, and the
    other default-ignorable characters (variation selectors, fillers).
    """
    for position, character in enumerate(student_key):
        code = ord(character)
        if unicodedata.category(character) in _REFUSED_CATEGORIES or any(
            low <= code <= high for low, high in _IGNORABLE_RANGES
        ):
            name = unicodedata.name(character, "")
            return position, f"U+{code:04X}{' ' + name if name else ''}"
    return None


def student_key_problem(student_key: str, max_length: int) -> str | None:
    """Why ``student_key`` cannot be stored, as a sentence, or None when it can.

    ``max_length`` bounds the key as given and as compared: the stored folded copy
    has the same width, and folding can lengthen a key ('ß' becomes 'ss').
    """
    if not student_key.strip():
        return "student_key must not be blank."
    invisible = invisible_character(student_key)
    if invisible is not None:
        position, code_point = invisible
        return (
            f"student_key must not contain control, format or other invisible characters "
            f"({code_point} at position {position})."
        )
    if len(student_key) > max_length:
        return f"student_key is longer than {max_length} characters."
    if len(normalize_student_key(student_key)) > max_length:
        return f"student_key is longer than {max_length} characters once case-folded (NFKC)."
    return None


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
    return key_ref(organization_key, normalize_student_key(student_key))


def key_ref(organization_key: str | None, folded_key: str) -> str:
    """Return the identity of a waiting learner from an already folded student key."""
    organization = (organization_key or UNKNOWN_ORGANIZATION).casefold()
    digest = hashlib.sha256(f"{organization}\n{folded_key}".encode()).hexdigest()
    return f"{KEY_REF_PREFIX}{digest}"
