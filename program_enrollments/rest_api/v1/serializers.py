"""Shapes of request items and response rows. Validation of shape only: rules live in the Python API."""

import uuid

from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers

from program_enrollments.constants import STUDENT_KEY_MAX_LENGTH
from program_enrollments.identity import student_key_problem


class StrictCharField(serializers.CharField):
    """A string, and only a string (DRF's CharField would turn 5 into "5")."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """true or false, and only those (DRF's BooleanField would accept "yes" and 1)."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StudentKeyField(StrictCharField):
    """A student key the app can store and compare (see ``identity.student_key_problem``)."""

    def __init__(self, **kwargs):
        super().__init__(max_length=STUDENT_KEY_MAX_LENGTH, allow_blank=False, trim_whitespace=False, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        problem = student_key_problem(value, STUDENT_KEY_MAX_LENGTH)
        if problem is not None:
            raise serializers.ValidationError(problem.removeprefix("student_key "))
        return value


def _student_key():
    return StudentKeyField()


class ProgramEnrollmentItemSerializer(serializers.Serializer):
    """One learner of a program enrollment write. ``curriculum_uuid`` is required for POST and PUT."""

    student_key = _student_key()
    status = StrictCharField(max_length=32, help_text="enrolled, pending, suspended, canceled or ended")
    curriculum_uuid = serializers.UUIDField(required=False, help_text="Required for POST and PUT; ignored on PATCH.")

    def __init__(self, *args, curriculum_required=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["curriculum_uuid"].required = curriculum_required


class CourseEnrollmentItemSerializer(serializers.Serializer):
    """One learner of a program course enrollment write."""

    student_key = _student_key()
    status = StrictCharField(max_length=32, help_text="active or inactive")
    course_staff = StrictBooleanField(required=False, help_text="Grant the learner the course staff role.")


def validate_items(body: list[dict], item_serializer, **serializer_kwargs) -> tuple[list | None, object]:
    """The validated items of a write's body (a list of JSON objects), or None and the errors by item.

    One pass over the body for the usual request (every item well formed): each value is
    checked as the item serializer's field would check it and taken as that field would
    return it. An item the pass cannot vouch for sends the whole body through the item
    serializer (``many=True``), whose errors name the offending items and fields; so the
    answer, valid data or errors, is the serializer's in every case.
    """
    fast = _ONE_PASS.get(item_serializer)
    if fast is not None:
        items = fast(body, **serializer_kwargs)
        if items is not None:
            return items, None
    serializer = item_serializer(data=body, many=True, **serializer_kwargs)
    if serializer.is_valid():
        return serializer.validated_data, None
    return None, serializer.errors


_MISSING = object()
_STATUS_MAX_LENGTH = 32


def _student_key_as_field_takes_it(value):
    """``value`` as ``StudentKeyField`` returns it, or ``_MISSING`` when the field might refuse it."""
    if type(value) is not str or not value:
        return _MISSING
    if value.isascii() and value.isprintable() and len(value) <= STUDENT_KEY_MAX_LENGTH and not value.isspace():
        return value
    return value if student_key_problem(value, STUDENT_KEY_MAX_LENGTH) is None else _MISSING


def _status_as_field_takes_it(value):
    """``value`` as the ``status`` field returns it (trimmed), or ``_MISSING`` when it might refuse it."""
    if type(value) is not str:
        return _MISSING
    value = value.strip()
    if value and len(value) <= _STATUS_MAX_LENGTH and value.isprintable():
        return value
    return _MISSING


def _program_items_in_one_pass(body, curriculum_required=True):
    items = []
    for data in body:
        key = _student_key_as_field_takes_it(data.get("student_key"))
        status = _status_as_field_takes_it(data.get("status"))
        if key is _MISSING or status is _MISSING:
            return None
        item = {"student_key": key, "status": status}
        curriculum = data.get("curriculum_uuid", _MISSING)
        if curriculum is _MISSING:
            if curriculum_required:
                return None
        elif type(curriculum) is str:
            try:
                item["curriculum_uuid"] = uuid.UUID(hex=curriculum)
            except ValueError:
                return None
        else:
            return None
        items.append(item)
    return items


def _course_items_in_one_pass(body):
    items = []
    for data in body:
        key = _student_key_as_field_takes_it(data.get("student_key"))
        status = _status_as_field_takes_it(data.get("status"))
        if key is _MISSING or status is _MISSING:
            return None
        item = {"student_key": key, "status": status}
        course_staff = data.get("course_staff", _MISSING)
        if course_staff is not _MISSING:
            if type(course_staff) is not bool:
                return None
            item["course_staff"] = course_staff
        items.append(item)
    return items


# The one-pass validation of each item serializer's items (``validate_items``).
_ONE_PASS = {
    ProgramEnrollmentItemSerializer: _program_items_in_one_pass,
    CourseEnrollmentItemSerializer: _course_items_in_one_pass,
}


class TransferSerializer(serializers.Serializer):
    """A transfer of learners from the program in the URL to another program."""

    to_program_uuid = serializers.UUIDField()
    to_curriculum_uuid = serializers.UUIDField(required=False, allow_null=True)
    student_keys = serializers.ListField(
        child=_student_key(),
        allow_empty=True,
        required=False,
        allow_null=True,
        help_text="Learners to move; omit (or null) for every learner of the program.",
    )
    course_keys = serializers.ListField(
        child=StrictCharField(max_length=255),
        required=False,
        allow_null=True,
        allow_empty=False,
        help_text="Courses to move; omit for every active course.",
    )
    source_status = StrictCharField(
        required=False, allow_null=True, help_text="New status of the source program enrollment, e.g. canceled."
    )
    dry_run = StrictBooleanField(required=False, default=False)


class ProgramEnrollmentRowSerializer(serializers.Serializer):
    # The columns a page reads for its rows (``QuerySet.only``): the user's password, the
    # timestamps and the identity columns are not parsed a thousand times a page.
    READS = ("external_user_key", "status", "curriculum_uuid", "user", "user__username", "user__email")

    student_key = serializers.CharField(source="external_user_key", allow_null=True)
    status = serializers.CharField()
    account_exists = serializers.SerializerMethodField()
    curriculum_uuid = serializers.UUIDField()
    username = serializers.SerializerMethodField()
    email = serializers.SerializerMethodField()

    def get_account_exists(self, enrollment) -> bool:
        return enrollment.user_id is not None

    def get_username(self, enrollment) -> str:
        return enrollment.user.username if enrollment.user_id else ""

    def get_email(self, enrollment) -> str:
        return enrollment.user.email if enrollment.user_id else ""


class CourseEnrollmentRowSerializer(serializers.Serializer):
    # The columns a page reads for its rows and their course staff roles (``QuerySet.only``).
    READS = (
        "status",
        "course_key",
        "course_staff",
        "program_enrollment",
        "program_enrollment__external_user_key",
        "program_enrollment__curriculum_uuid",
        "program_enrollment__user",
    )

    student_key = serializers.CharField(source="program_enrollment.external_user_key", allow_null=True)
    status = serializers.CharField()
    account_exists = serializers.SerializerMethodField()
    curriculum_uuid = serializers.UUIDField(source="program_enrollment.curriculum_uuid")
    course_staff = serializers.SerializerMethodField(
        help_text="Whether the learner has the course staff role (realized) or was granted it (waiting)."
    )

    def get_account_exists(self, row) -> bool:
        return row.program_enrollment.user_id is not None

    def get_course_staff(self, row) -> bool:
        # The role the LMS holds, read for the whole page by the view (api.fetch_course_staff_roles).
        return self.context["course_staff"][row.id]


class ProgramCourseGradeSerializer(serializers.Serializer):
    """A learner's grade in the course run."""

    student_key = serializers.CharField(allow_null=True)
    passed = serializers.BooleanField()
    percent = serializers.FloatField(help_text="The overall grade, from 0.0 to 1.0.")
    letter_grade = serializers.CharField(allow_null=True, help_text="As the grading policy names it; null when none.")


class ProgramCourseGradeErrorSerializer(serializers.Serializer):
    """A learner whose grade the LMS could not compute."""

    student_key = serializers.CharField(allow_null=True)
    error = serializers.CharField()


# A page of grade rows: each is a grade or an error.
PROGRAM_COURSE_GRADE_ROWS = PolymorphicProxySerializer(
    component_name="ProgramCourseGradeRow",
    serializers=[ProgramCourseGradeSerializer, ProgramCourseGradeErrorSerializer],
    resource_type_field_name=None,
    many=True,
)


def grade_row(result) -> dict:
    """The response row of one ``ProgramCourseGrade``, in the built-in app's shape."""
    if result.is_error:
        return {"student_key": result.student_key, "error": result.error}
    return {
        "student_key": result.student_key,
        "passed": result.grade.passed,
        "percent": result.grade.percent,
        "letter_grade": result.grade.letter_grade,
    }
