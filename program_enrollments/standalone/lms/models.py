"""The standalone host's own LMS records."""

from django.conf import settings
from django.db import models
from model_utils.models import TimeStampedModel
from opaque_keys.edx.django.models import CourseKeyField

from program_enrollments.identity import normalize_student_key


class CourseEnrollment(TimeStampedModel):
    """A user's enrollment in a course run (the shape of Open edX's ``student.CourseEnrollment``)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    course_id = CourseKeyField(max_length=255, db_index=True)
    mode = models.CharField(max_length=100, default="audit")
    is_active = models.BooleanField(default=True)

    class Meta:
        swappable = "PROGRAM_ENROLLMENTS_COURSE_ENROLLMENT_MODEL"
        constraints = [
            models.UniqueConstraint(fields=["user", "course_id"], name="lms_courseenrollment_unique_user_course")
        ]

    def __str__(self):
        return f"{self.user_id} in {self.course_id} ({self.mode}, {'active' if self.is_active else 'inactive'})"


class SSOIdentity(models.Model):
    """A learner's identity at a partner organization: (organization, student key) -> user.

    The stand-in for Open edX's third-party-auth ``UserSocialAuth`` rows. Creating
    one links the learner's waiting program enrollments.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sso_identities")
    organization_key = models.CharField(max_length=255)
    student_key = models.CharField(max_length=255)
    student_key_normalized = models.CharField(max_length=255, editable=False)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "SSO identity"
        verbose_name_plural = "SSO identities"
        constraints = [
            models.UniqueConstraint(
                fields=["organization_key", "student_key_normalized"], name="lms_ssoidentity_unique_org_key"
            )
        ]

    def __str__(self):
        return f"{self.organization_key}:{self.student_key} -> {self.user_id}"

    def save(self, *args, **kwargs):
        self.student_key_normalized = normalize_student_key(self.student_key)
        super().save(*args, **kwargs)


class CourseAccessRole(models.Model):
    """A user's role in a course run (the shape of Open edX's ``student.CourseAccessRole``).

    The program writes grant and remove the ``staff`` role here, as Open edX's
    ``CourseStaffRole`` does in ``student_courseaccessrole``.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    org = models.CharField(max_length=64, db_index=True, blank=True)
    course_id = CourseKeyField(max_length=255, db_index=True, blank=True)
    role = models.CharField(max_length=64, db_index=True)

    class Meta:
        verbose_name = "course access role"
        constraints = [
            models.UniqueConstraint(fields=["user", "org", "course_id", "role"], name="lms_courseaccessrole_unique")
        ]

    def __str__(self):
        return f"{self.user_id} is {self.role} in {self.course_id}"


class CourseGrade(TimeStampedModel):
    """A learner's grade in a course run (the stand-in for Open edX's ``grades.PersistentCourseGrade``).

    The standalone host computes no grades: they are entered in the admin or loaded from a
    CSV file (``load_course_grades``). A learner without a row has a zero grade, as in Open edX.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    course_id = CourseKeyField(max_length=255, db_index=True)
    percent = models.FloatField(help_text="The overall grade, from 0.0 to 1.0.")
    letter_grade = models.CharField(max_length=255, blank=True, help_text="e.g. Pass, A; blank when none.")
    passed = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "course_id"], name="lms_coursegrade_unique_user_course"),
            models.CheckConstraint(
                condition=models.Q(percent__gte=0.0, percent__lte=1.0), name="lms_coursegrade_percent_range"
            ),
        ]

    def __str__(self):
        return f"{self.user_id} in {self.course_id}: {self.percent:.2f} {self.letter_grade}"
