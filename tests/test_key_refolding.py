"""Migration 0014 folds stored student keys as the app now compares them (NFKC with case folding)."""

import unicodedata

import pytest

from program_enrollments import identity
from program_enrollments.models import ProgramEnrollment
from tests.test_adoption import LATEST, _migrate

pytestmark = pytest.mark.django_db(transaction=True)

NFC = unicodedata.normalize("NFC", "José-1")
NFD = unicodedata.normalize("NFD", "José-1")


@pytest.fixture(autouse=True)
def _latest_schema_afterwards():
    yield
    _migrate(LATEST)


def _as_before(enrollment, key=None):
    """Give a row the key, folded copy and identity that the earlier comparison (casefold only) wrote."""
    key = key or enrollment.external_user_key
    update = {"external_user_key": key, "external_user_key_normalized": key.casefold()}
    if enrollment.user_id is None:
        update["learner_ref"] = identity.key_ref("GTx", key.casefold())
    ProgramEnrollment.objects.filter(id=enrollment.id).update(**update)


def _enroll(catalog, key, program=None):
    return ProgramEnrollment.objects.create(
        external_user_key=key,
        program_uuid=program or catalog.CYBERSECURITY,
        curriculum_uuid=catalog.CURRICULUM_OF[program or catalog.CYBERSECURITY],
        status="enrolled",
    )


def test_stored_keys_and_waiting_identities_are_refolded(catalog):
    _migrate("0013_create_or_adopt")
    nfd = _enroll(catalog, NFD)
    wide = _enroll(catalog, "ＡＢＣ-2")
    plain = _enroll(catalog, "Plain-3")
    for row in (nfd, wide, plain):
        _as_before(row)
    assert ProgramEnrollment.objects.get(id=nfd.id).external_user_key_normalized == NFD.casefold()

    _migrate(LATEST)

    refolded = {row.id: row for row in ProgramEnrollment.objects.all()}
    assert refolded[nfd.id].external_user_key_normalized == "josé-1" == identity.normalize_student_key(NFC)
    assert refolded[nfd.id].learner_ref == identity.learner_ref(user_id=None, organization_key="GTx", student_key=NFC)
    assert refolded[wide.id].external_user_key_normalized == "abc-2"
    assert refolded[plain.id].external_user_key_normalized == "plain-3"
    assert refolded[nfd.id].external_user_key == NFD  # the key as written is kept


def test_two_stored_keys_that_become_one_stop_the_migration_and_change_nothing(catalog):
    _migrate("0013_create_or_adopt")
    first = _enroll(catalog, NFC)
    second = _enroll(catalog, "placeholder")
    _as_before(first)
    _as_before(second, key=NFD)
    before = list(ProgramEnrollment.objects.order_by("id").values_list("external_user_key_normalized", "learner_ref"))

    with pytest.raises(RuntimeError, match=rf"program enrollments {first.id} .*{second.id} .*are one student key"):
        _migrate(LATEST)

    after = list(ProgramEnrollment.objects.order_by("id").values_list("external_user_key_normalized", "learner_ref"))
    assert after == before
    # Support staff keep one of them (a plain DELETE: the model's course rows have columns this schema lacks).
    ProgramEnrollment.objects.filter(id=second.id)._raw_delete(ProgramEnrollment.objects.db)
    _migrate(LATEST)
    assert ProgramEnrollment.objects.get().external_user_key_normalized == "josé-1"
