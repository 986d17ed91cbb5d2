"""Student keys compare as people read them: Unicode compatibility caseless matching (NFKC + case folding)."""

import unicodedata

import pytest

from program_enrollments import api, identity
from program_enrollments.exceptions import InvalidRequest
from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment
from tests.api.helpers import PUT, enroll, enroll_course

pytestmark = pytest.mark.django_db

NFC = unicodedata.normalize("NFC", "José-01")
NFD = unicodedata.normalize("NFD", "José-01")


@pytest.mark.parametrize(
    "one, other",
    [
        (NFC, NFD),  # Unicode normalization
        ("ＡＢＣ-01", "abc-01"),  # fullwidth letters
        ("Straße-7", "STRASSE-7"),  # full case folding
        ("ǅ-9", "dž-9"),  # titlecase digraph
        ("ﬁle-1", "FILE-1"),  # compatibility ligature
    ],
)
def test_keys_people_read_as_one_are_one_learner(catalog, one, other):
    assert NFC != NFD
    assert identity.normalize_student_key(one) == identity.normalize_student_key(other)
    enroll(catalog.CYBERSECURITY, [one])
    assert enroll(catalog.CYBERSECURITY, [other], status="pending") == {other: "pending"}
    assert ProgramEnrollment.objects.count() == 1
    assert ProgramEnrollment.objects.get().external_user_key == one  # the key as first written is kept


def test_one_request_with_both_forms_is_duplicated(catalog):
    assert enroll(catalog.CYBERSECURITY, [NFC, NFD]) == {NFC: "duplicated", NFD: "duplicated"}
    assert not ProgramEnrollment.objects.exists()


def test_nfc_and_nfd_forms_cannot_both_be_active_in_one_course(catalog):
    enroll(catalog.CYBERSECURITY, [NFC])
    enroll(catalog.OTHER, [NFD])
    assert enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, [NFC]) == {NFC: "active"}
    assert enroll_course(catalog.OTHER, catalog.SHARED_COURSE, [NFD]) == {NFD: "conflicted"}
    assert ProgramCourseEnrollment.objects.filter(status="active").count() == 1


@pytest.mark.parametrize(
    "key, code_point",
    [
        ("ab\u200bc", "U+200B ZERO WIDTH SPACE"),
        ("\ufeffabc", "U+FEFF ZERO WIDTH NO-BREAK SPACE"),
        ("ab\u00adc", "U+00AD SOFT HYPHEN"),
        ("ab\u200dc", "U+200D ZERO WIDTH JOINER"),
        ("abc\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("a\x07bc", "U+0007"),
        ("a\x00bc", "U+0000"),
        ("ab\u2028c", "U+2028 LINE SEPARATOR"),
        ("ab\ufe0fc", "U+FE0F VARIATION SELECTOR-16"),
        ("ab\u3164c", "U+3164 HANGUL FILLER"),
        ("ab\ue000c", "U+E000"),
    ],
)
def test_invisible_and_control_characters_are_refused_naming_the_item(catalog, key, code_point):
    requests = [
        {"student_key": "fine", "status": "enrolled", "curriculum_uuid": catalog.CYBERSECURITY_CURRICULUM},
        {"student_key": key, "status": "enrolled", "curriculum_uuid": catalog.CYBERSECURITY_CURRICULUM},
    ]
    with pytest.raises(InvalidRequest) as error:
        api.write_program_enrollments(program_uuid=catalog.CYBERSECURITY, requests=requests, **PUT)
    assert str(error.value).startswith("item 1: student_key must not contain")
    assert code_point in str(error.value)
    assert not ProgramEnrollment.objects.exists()


def test_visible_non_ascii_keys_are_accepted(catalog):
    keys = ["José-02", "Łukasz", "学生-3", "مريم-4", "a b"]
    assert enroll(catalog.CYBERSECURITY, keys) == dict.fromkeys(keys, "enrolled")


def test_a_key_whose_folded_form_is_too_long_is_refused_on_every_database(catalog):
    key = "ß" * 128  # 128 characters, 256 once folded ('ss' each)
    with pytest.raises(InvalidRequest, match="item 0: student_key is longer than 255 characters once case-folded"):
        enroll(catalog.CYBERSECURITY, [key])
    assert enroll(catalog.CYBERSECURITY, ["ß" * 127]) == {"ß" * 127: "enrolled"}
    assert ProgramEnrollment.objects.get().external_user_key_normalized == "ss" * 127


def test_waiting_identity_is_the_same_for_every_form(catalog):
    refs = {identity.learner_ref(user_id=None, organization_key="GTx", student_key=key) for key in (NFC, NFD)}
    assert len(refs) == 1
