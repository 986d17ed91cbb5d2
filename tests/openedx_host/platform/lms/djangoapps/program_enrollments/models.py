"""
Models of the built-in app at migration 0012.

Mirrors ``lms/djangoapps/program_enrollments/models.py``: the same fields, ``unique_together``,
``on_delete``, related names and ``historical_records`` managers, so that the migrations in
``migrations/`` describe exactly these models and the history tables simple-history writes.
``CourseAccessRoleAssignment`` declares no ``app_label``, as on the platform.

Differences kept on purpose: no ``retire_user`` classmethod (the harness tests retirement through our
app after the takeover) and shorter ``__repr__``.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from model_utils.models import TimeStampedModel
from opaque_keys.edx.django.models import CourseKeyField
from simple_history.models import HistoricalRecords

from .constants import ProgramCourseEnrollmentRoles, ProgramCourseEnrollmentStatuses, ProgramEnrollmentStatuses


class ProgramEnrollment(TimeStampedModel):
    """
    A learner's enrollment in one curriculum of a program, as registrar writes it.

    Waiting while ``user`` is null (only ``external_user_key`` is known), realized once linked.
    """

    STATUS_CHOICES = ProgramEnrollmentStatuses.__MODEL_CHOICES__

    class Meta:
        app_label = "program_enrollments"
        # NULLs never collide, so neither key stops a second waiting row for the same user, nor a
        # second keyless row for the same key; the platform enforces "user or key" only in clean().
        unique_together = (
            ("user", "program_uuid", "curriculum_uuid"),
            ("external_user_key", "program_uuid", "curriculum_uuid"),
        )

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)
    external_user_key = models.CharField(db_index=True, max_length=255, null=True)
    program_uuid = models.UUIDField(db_index=True, null=False)
    curriculum_uuid = models.UUIDField(db_index=True, null=False)
    status = models.CharField(max_length=9, choices=STATUS_CHOICES)
    historical_records = HistoricalRecords()

    def clean(self):
        if not (self.user or self.external_user_key):
            raise ValidationError("One of user or external_user_key must not be null.")

    def __str__(self):
        return f"[ProgramEnrollment id={self.id}]"


class ProgramCourseEnrollment(TimeStampedModel):
    """A learner's enrollment in one course run through a program enrollment."""

    STATUS_CHOICES = ProgramCourseEnrollmentStatuses.__MODEL_CHOICES__

    class Meta:
        app_label = "program_enrollments"
        unique_together = (("program_enrollment", "course_key"),)

    program_enrollment = models.ForeignKey(
        ProgramEnrollment,
        on_delete=models.CASCADE,
        related_name="program_course_enrollments",
    )
    # A plain FK since 0009, so several PCEs (through several programs) may share one course enrollment.
    # No related_name: CourseEnrollment's reverse names stay programcourseenrollment(_set).
    course_enrollment = models.ForeignKey(
        "student.CourseEnrollment",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
    )
    course_key = CourseKeyField(max_length=255)
    status = models.CharField(max_length=9, choices=STATUS_CHOICES)
    historical_records = HistoricalRecords()

    @property
    def is_active(self):
        return self.status == ProgramCourseEnrollmentStatuses.ACTIVE

    def __str__(self):
        return f"[ProgramCourseEnrollment id={self.id}]"


class CourseAccessRoleAssignment(TimeStampedModel):
    """A course role to grant to the learner of a waiting program-course enrollment once linked."""

    class Meta:
        unique_together = ("role", "enrollment")

    role = models.CharField(max_length=64, choices=ProgramCourseEnrollmentRoles.__MODEL_CHOICES__)
    enrollment = models.ForeignKey(ProgramCourseEnrollment, on_delete=models.CASCADE)

    def __str__(self):
        return f"[CourseAccessRoleAssignment id={self.id}]"
