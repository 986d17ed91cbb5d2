"""The database itself refuses a second active program course enrollment, whatever the write path."""

import pytest
from django.db import IntegrityError, connection, transaction

from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment
from tests.factories import ProgramCourseEnrollmentFactory, ProgramEnrollmentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def realized_pair(catalog):
    """One user enrolled in two programs that share a course, active in it through the first."""
    user = UserFactory()
    first = ProgramEnrollmentFactory(user=user, program_uuid=catalog.CYBERSECURITY)
    second = ProgramEnrollmentFactory(user=user, program_uuid=catalog.OTHER, curriculum_uuid=catalog.OTHER_CURRICULUM)
    active = ProgramCourseEnrollmentFactory(program_enrollment=first, status="active")
    return first, second, active


@pytest.fixture
def waiting_pair(catalog):
    """One waiting learner (same GTx key, different casing) in two programs, active through the first."""
    first = ProgramEnrollmentFactory(external_user_key="abc-123", program_uuid=catalog.CYBERSECURITY)
    second = ProgramEnrollmentFactory(
        external_user_key="ABC-123", program_uuid=catalog.OTHER, curriculum_uuid=catalog.OTHER_CURRICULUM
    )
    active = ProgramCourseEnrollmentFactory(program_enrollment=first, status="active")
    return first, second, active


PAIRS = ["realized_pair", "waiting_pair"]


def _refused(callable_):
    with pytest.raises(IntegrityError), transaction.atomic():
        callable_()


@pytest.mark.parametrize("pair", PAIRS)
def test_second_active_row_is_refused_on_save(request, pair, catalog):
    _first, second, _ = request.getfixturevalue(pair)
    _refused(
        lambda: ProgramCourseEnrollment(
            program_enrollment=second, course_key=catalog.SHARED_COURSE, status="active"
        ).save()
    )
    assert ProgramCourseEnrollment.objects.filter(status="active").count() == 1


@pytest.mark.parametrize("pair", PAIRS)
def test_second_active_row_is_refused_on_bulk_create(request, pair, catalog):
    _first, second, _ = request.getfixturevalue(pair)
    _refused(
        lambda: ProgramCourseEnrollment.objects.bulk_create(
            [ProgramCourseEnrollment(program_enrollment=second, course_key=catalog.SHARED_COURSE, status="active")]
        )
    )
    assert ProgramCourseEnrollment.objects.count() == 1


@pytest.mark.parametrize("pair", PAIRS)
def test_second_active_row_is_refused_on_queryset_update(request, pair, catalog):
    _first, second, _ = request.getfixturevalue(pair)
    inactive = ProgramCourseEnrollmentFactory(program_enrollment=second, status="inactive")
    _refused(lambda: ProgramCourseEnrollment.objects.filter(pk=inactive.pk).update(status="active"))
    inactive.refresh_from_db()
    assert inactive.status == "inactive"


@pytest.mark.parametrize("pair", PAIRS)
def test_second_active_row_is_refused_on_instance_update(request, pair, catalog):
    _first, second, _ = request.getfixturevalue(pair)
    inactive = ProgramCourseEnrollmentFactory(program_enrollment=second, status="inactive")
    inactive.status = "active"
    _refused(inactive.save)


@pytest.mark.parametrize("pair", PAIRS)
def test_inactive_second_row_beside_an_active_one_is_accepted(request, pair, catalog):
    _first, second, active = request.getfixturevalue(pair)
    ProgramCourseEnrollmentFactory(program_enrollment=second, status="inactive")
    assert ProgramCourseEnrollment.objects.filter(course_key=active.course_key).count() == 2


@pytest.mark.parametrize("pair", PAIRS)
def test_activation_once_the_first_is_inactive_is_accepted(request, pair, catalog):
    _first, second, active = request.getfixturevalue(pair)
    other = ProgramCourseEnrollmentFactory(program_enrollment=second, status="inactive")
    ProgramCourseEnrollment.objects.filter(pk=active.pk).update(status="inactive")
    ProgramCourseEnrollment.objects.filter(pk=other.pk).update(status="active")
    assert list(ProgramCourseEnrollment.objects.filter(status="active").values_list("pk", flat=True)) == [other.pk]


def test_same_key_in_another_organization_is_another_learner(catalog):
    gtx = ProgramEnrollmentFactory(external_user_key="12345", program_uuid=catalog.CYBERSECURITY)
    mitx = ProgramEnrollmentFactory(
        external_user_key="12345", program_uuid=catalog.MIT, curriculum_uuid=catalog.MIT_CURRICULUM
    )
    ProgramCourseEnrollmentFactory(program_enrollment=gtx, status="active")
    ProgramCourseEnrollmentFactory(program_enrollment=mitx, status="active")
    assert ProgramCourseEnrollment.objects.filter(status="active").count() == 2


def test_same_learner_may_be_active_in_different_courses(realized_pair, catalog):
    _first, second, _ = realized_pair
    ProgramCourseEnrollmentFactory(program_enrollment=second, course_key=catalog.SECOND_SHARED_COURSE, status="active")
    assert ProgramCourseEnrollment.objects.filter(status="active").count() == 2


def test_student_keys_are_unique_per_program_ignoring_case(catalog):
    ProgramEnrollmentFactory(external_user_key="Jose-1")
    _refused(lambda: ProgramEnrollmentFactory(external_user_key="JOSE-1"))
    _refused(
        lambda: ProgramEnrollment.objects.bulk_create(
            [
                ProgramEnrollment(
                    external_user_key="jose-1",
                    program_uuid=catalog.CYBERSECURITY,
                    curriculum_uuid=catalog.CYBERSECURITY_CURRICULUM,
                    status="enrolled",
                )
            ]
        )
    )
    assert ProgramEnrollment.objects.count() == 1


def test_keys_that_differ_by_accent_or_trailing_space_are_distinct(catalog):
    ProgramEnrollmentFactory(external_user_key="jose")
    ProgramEnrollmentFactory(external_user_key="josé")
    ProgramEnrollmentFactory(external_user_key="jose ")
    assert ProgramEnrollment.objects.count() == 3


def test_same_key_in_another_program_is_accepted(catalog):
    ProgramEnrollmentFactory(external_user_key="k1", program_uuid=catalog.CYBERSECURITY)
    ProgramEnrollmentFactory(
        external_user_key="K1", program_uuid=catalog.ANALYTICS, curriculum_uuid=catalog.ANALYTICS_CURRICULUM
    )
    assert ProgramEnrollment.objects.count() == 2


def test_a_user_is_enrolled_once_per_program(catalog):
    user = UserFactory()
    ProgramEnrollmentFactory(user=user, external_user_key="a")
    _refused(lambda: ProgramEnrollmentFactory(user=user, external_user_key="b"))


def test_enrollment_needs_a_user_or_a_key(catalog):
    _refused(lambda: ProgramEnrollmentFactory(user=None, external_user_key=None))


def test_statuses_are_checked_by_the_database(realized_pair):
    first, _second, active = realized_pair
    _refused(lambda: ProgramEnrollment.objects.filter(pk=first.pk).update(status="bogus"))
    _refused(lambda: ProgramCourseEnrollment.objects.filter(pk=active.pk).update(status="bogus"))


def test_learner_ref_follows_the_identity(catalog):
    user = UserFactory()
    realized = ProgramEnrollmentFactory(user=user)
    waiting = ProgramEnrollmentFactory(external_user_key="Key-9")
    assert realized.learner_ref == f"user:{user.pk}"
    assert waiting.learner_ref.startswith("key:")
    row = ProgramCourseEnrollmentFactory(program_enrollment=waiting, status="active")
    row.refresh_from_db()
    assert row.learner_ref == waiting.learner_ref == row.active_learner_ref
    ProgramCourseEnrollment.objects.filter(pk=row.pk).update(status="inactive")
    row.refresh_from_db()
    assert row.active_learner_ref is None


def test_program_missing_from_the_catalog_is_identified_conservatively(db):
    """Without the catalog's organization, two programs' waiting learners with one key collide (never slip)."""
    from uuid import uuid4

    one = ProgramEnrollmentFactory(external_user_key="k", program_uuid=uuid4())
    two = ProgramEnrollmentFactory(external_user_key="k", program_uuid=uuid4())
    assert one.learner_ref == two.learner_ref
    ProgramCourseEnrollmentFactory(program_enrollment=one, status="active")
    _refused(lambda: ProgramCourseEnrollmentFactory(program_enrollment=two, status="active"))


@pytest.mark.skipif(connection.vendor != "mysql", reason="MariaDB index types and collations: MySQL/MariaDB only")
def test_mariadb_unique_keys_are_btree_with_exact_collation():
    with connection.cursor() as cursor:
        cursor.execute("SHOW INDEX FROM program_enrollments_programcourseenrollment")
        columns = [col[0] for col in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        one_active = [row for row in rows if row["Key_name"] == "pce_one_active_per_learner_course"]
        assert [row["Column_name"] for row in one_active] == ["active_learner_ref", "course_key"]
        assert {row["Index_type"] for row in one_active} == {"BTREE"}
        cursor.execute(
            "SELECT column_name, collation_name FROM information_schema.columns WHERE table_schema = DATABASE() "
            "AND table_name = 'program_enrollments_programenrollment' AND column_name = 'external_user_key_normalized'"
        )
        assert cursor.fetchall()[0][1] == "utf8mb4_nopad_bin"
        cursor.execute(
            "SELECT collation_name FROM information_schema.columns WHERE table_schema = DATABASE() "
            "AND table_name = 'program_enrollments_programcourseenrollment' AND column_name = 'course_key'"
        )
        assert cursor.fetchall()[0][0] == "utf8mb4_nopad_bin"
        cursor.execute("SHOW INDEX FROM program_enrollments_programenrollment")
        columns = [col[0] for col in cursor.description]
        types = {dict(zip(columns, row, strict=True))["Index_type"] for row in cursor.fetchall()}
        assert types == {"BTREE"}


def test_history_keeps_status_changes(realized_pair):
    _first, _second, active = realized_pair
    active.status = "inactive"
    active._change_reason = "support request"
    active.save()
    history = list(active.history.order_by("history_date").values_list("status", "history_change_reason"))
    assert history == [("active", None), ("inactive", "support request")]


def test_history_names_its_author_without_a_database_constraint(realized_pair):
    """The author's id is kept as written (migration 0021); deleting the user through Django still clears it."""
    _first, _second, active = realized_pair
    author = UserFactory()
    active.status = "inactive"
    active._history_user = author
    active.save()
    for model in (ProgramEnrollment, ProgramCourseEnrollment):
        table = model.history.model._meta.db_table
        with connection.cursor() as cursor:
            constraints = connection.introspection.get_constraints(cursor, table)
        assert [
            info for info in constraints.values() if info["foreign_key"] and "history_user_id" in info["columns"]
        ] == []
        assert any(info["index"] and info["columns"] == ["history_user_id"] for info in constraints.values())
    assert active.history.latest().history_user == author
    author.delete()
    assert active.history.latest().history_user_id is None


@pytest.fixture
def waiting_and_realized(catalog):
    """A user active in the shared course through Other, and a waiting key active through Cybersecurity."""
    user = UserFactory()
    realized = ProgramEnrollmentFactory(user=user, program_uuid=catalog.OTHER, curriculum_uuid=catalog.OTHER_CURRICULUM)
    ProgramCourseEnrollmentFactory(program_enrollment=realized, status="active")
    waiting = ProgramEnrollmentFactory(external_user_key="waiting-1", program_uuid=catalog.CYBERSECURITY)
    ProgramCourseEnrollmentFactory(program_enrollment=waiting, status="active")
    return user, waiting


def test_linking_through_orm_save_is_refused_when_it_would_make_two_active_rows(waiting_and_realized):
    user, waiting = waiting_and_realized
    waiting.user = user
    _refused(waiting.save)
    waiting.refresh_from_db()
    assert waiting.user_id is None
    assert ProgramCourseEnrollment.objects.filter(learner_ref=f"user:{user.pk}", status="active").count() == 1


def test_linking_through_queryset_update_is_refused(waiting_and_realized):
    user, waiting = waiting_and_realized
    _refused(lambda: ProgramEnrollment.objects.filter(pk=waiting.pk).update(user=user))
    _refused(lambda: ProgramEnrollment.objects.filter(pk=waiting.pk).update(user=user, learner_ref=f"user:{user.pk}"))
    assert ProgramEnrollment.objects.get(pk=waiting.pk).user_id is None


def test_linking_through_orm_save_carries_the_identity_to_course_rows(catalog):
    user = UserFactory()
    waiting = ProgramEnrollmentFactory(external_user_key="waiting-2")
    row = ProgramCourseEnrollmentFactory(program_enrollment=waiting, status="active")
    waiting.user = user
    waiting.save()
    row.refresh_from_db()
    assert row.learner_ref == row.active_learner_ref == f"user:{user.pk}"


def test_unlinking_through_queryset_update_is_refused(realized_pair):
    first, _second, _active = realized_pair
    _refused(lambda: ProgramEnrollment.objects.filter(pk=first.pk).update(user=None))


def test_identity_trigger_is_installed():
    """Rebuilding the table (as SQLite migrations do) would drop it silently; this notices."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        elif connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        else:
            cursor.execute("SELECT trigger_name FROM information_schema.triggers WHERE trigger_schema = DATABASE()")
        names = {row[0] for row in cursor.fetchall()}
    assert "pe_learner_ref_to_pce" in names
    assert names & {"pce_course_enrollment_of_learner", "pce_course_enrollment_of_learner_insert"}


# --- one person, one slot: a course enrollment belongs to the program course enrollment's own user ----


@pytest.fixture
def course_enrollments(catalog):
    """Alice, active in the shared course through Cybersecurity; Bob's course enrollment there."""
    from tests.factories import CourseEnrollmentFactory

    alice, bob = UserFactory(), UserFactory()
    alices = CourseEnrollmentFactory(user=alice, course_id=catalog.SHARED_COURSE, mode="masters")
    bobs = CourseEnrollmentFactory(user=bob, course_id=catalog.SHARED_COURSE, mode="masters")
    alices_other_course = CourseEnrollmentFactory(user=alice, course_id=catalog.SECOND_SHARED_COURSE)
    enrollment = ProgramEnrollmentFactory(user=alice, program_uuid=catalog.CYBERSECURITY)
    row = ProgramCourseEnrollmentFactory(
        program_enrollment=enrollment, course_key=catalog.SHARED_COURSE, status="active", course_enrollment=alices
    )
    return {"alice": alice, "alices": alices, "bobs": bobs, "alices_other_course": alices_other_course, "row": row}


def _new_row(program_enrollment, course_key, course_enrollment, status="inactive"):
    return ProgramCourseEnrollment(
        program_enrollment=program_enrollment, course_key=course_key, status=status, course_enrollment=course_enrollment
    )


def test_a_course_enrollment_of_another_user_is_refused(course_enrollments, catalog):
    other = ProgramEnrollmentFactory(
        user=UserFactory(), program_uuid=catalog.OTHER, curriculum_uuid=catalog.OTHER_CURRICULUM
    )
    _refused(lambda: _new_row(other, catalog.SHARED_COURSE, course_enrollments["alices"]).save())
    _refused(
        lambda: ProgramCourseEnrollment.objects.bulk_create(
            [_new_row(other, catalog.SHARED_COURSE, course_enrollments["bobs"])]
        )
    )
    row = course_enrollments["row"]
    _refused(
        lambda: ProgramCourseEnrollment.objects.filter(pk=row.pk).update(course_enrollment=course_enrollments["bobs"])
    )


def test_a_waiting_learner_may_not_hold_a_course_enrollment(course_enrollments, catalog):
    waiting = ProgramEnrollmentFactory(
        external_user_key="w-1", program_uuid=catalog.OTHER, curriculum_uuid=catalog.OTHER_CURRICULUM
    )
    _refused(lambda: _new_row(waiting, catalog.SHARED_COURSE, course_enrollments["alices"]).save())
    row = _new_row(waiting, catalog.SHARED_COURSE, None)
    row.save()
    _refused(
        lambda: ProgramCourseEnrollment.objects.filter(pk=row.pk).update(course_enrollment=course_enrollments["alices"])
    )


def test_a_course_enrollment_in_another_course_run_is_refused(course_enrollments, catalog):
    row = course_enrollments["row"]
    _refused(
        lambda: ProgramCourseEnrollment.objects.filter(pk=row.pk).update(
            course_enrollment=course_enrollments["alices_other_course"]
        )
    )
    _refused(lambda: ProgramCourseEnrollment.objects.filter(pk=row.pk).update(course_key=catalog.SECOND_SHARED_COURSE))


def test_two_active_rows_can_never_share_one_course_enrollment(course_enrollments, catalog):
    """Another program of the same user would need the same learner and course: the one-active index refuses."""
    alice = course_enrollments["alice"]
    second = ProgramEnrollmentFactory(user=alice, program_uuid=catalog.OTHER, curriculum_uuid=catalog.OTHER_CURRICULUM)
    _refused(lambda: _new_row(second, catalog.SHARED_COURSE, course_enrollments["alices"], status="active").save())
    inactive = _new_row(second, catalog.SHARED_COURSE, course_enrollments["alices"])
    inactive.save()  # an inactive row may point at it (a transfer keeps the history)
    _refused(lambda: ProgramCourseEnrollment.objects.filter(pk=inactive.pk).update(status="active"))
    assert (
        ProgramCourseEnrollment.objects.filter(course_enrollment=course_enrollments["alices"], status="active").count()
        == 1
    )


def test_unlinking_or_relinking_a_learner_with_course_enrollments_is_refused(course_enrollments, catalog):
    enrollment = course_enrollments["row"].program_enrollment
    _refused(lambda: ProgramEnrollment.objects.filter(pk=enrollment.pk).update(user=None, learner_ref="key:x"))
    other = UserFactory()
    _refused(
        lambda: ProgramEnrollment.objects.filter(pk=enrollment.pk).update(user=other, learner_ref=f"user:{other.pk}")
    )
    enrollment.refresh_from_db()
    assert enrollment.user == course_enrollments["alice"]


def test_course_keys_read_back_are_parsed_once_per_value_and_equal_to_a_fresh_parse(catalog):
    from opaque_keys.edx.keys import CourseKey

    from tests.api.helpers import enroll, enroll_course

    enroll(catalog.CYBERSECURITY, ["k-1", "k-2"])
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["k-1", "k-2"])
    first, second = (row.course_key for row in ProgramCourseEnrollment.objects.order_by("id"))
    assert first == second == CourseKey.from_string(catalog.SHARED_COURSE)
    assert first is second  # one parse for the page's rows
    assert str(first) == catalog.SHARED_COURSE
