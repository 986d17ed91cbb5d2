"""Stand-in of ``PersistentCourseGrade`` in ``lms/djangoapps/grades/models.py``.

The platform computes grades from the learner's answers and stores the course grade in this table
(``grades_persistentcoursegrade``); the harness has no courseware, so tests write the rows they need.
``passed_timestamp`` is set the first time a grade passes and kept afterwards, as on the platform.
"""

from django.db import models
from django.utils import timezone
from model_utils.models import TimeStampedModel
from opaque_keys.edx.django.models import CourseKeyField


class PersistentCourseGrade(TimeStampedModel):
    """A learner's course grade in one course run."""

    id = models.BigAutoField(primary_key=True)
    user_id = models.IntegerField(blank=False, db_index=True)
    course_id = CourseKeyField(blank=False, max_length=255)
    course_edited_timestamp = models.DateTimeField("Last content edit timestamp", blank=True, null=True)
    course_version = models.CharField("Course content version identifier", blank=True, max_length=255)
    grading_policy_hash = models.CharField("Hash of grading policy", blank=False, max_length=255)
    percent_grade = models.FloatField(blank=False)
    letter_grade = models.CharField("Letter grade for course", blank=False, max_length=255)
    passed_timestamp = models.DateTimeField("Date learner earned a passing grade", blank=True, null=True)

    # course_id -> {user_id: grade}, filled by prefetch() and read by read().
    _prefetched = {}

    class Meta:
        app_label = "grades"
        unique_together = [("course_id", "user_id")]
        indexes = [
            models.Index(fields=["passed_timestamp", "course_id"], name="course_id_passed_timestamp"),
            models.Index(fields=["modified", "course_id"], name="modified_course_id"),
        ]

    def __str__(self):
        return f"PersistentCourseGrade user {self.user_id} course {self.course_id}: {self.percent_grade}"

    @classmethod
    def prefetch(cls, course_id, users):
        """Read the grades of ``users`` in the course in one query, for ``read`` to use."""
        grades = cls.objects.filter(user_id__in=[user.id for user in users], course_id=course_id)
        cls._prefetched[str(course_id)] = {grade.user_id: grade for grade in grades}

    @classmethod
    def clear_prefetched_data(cls, course_key):
        """Forget what ``prefetch`` read for the course."""
        cls._prefetched.pop(str(course_key), None)

    @classmethod
    def read(cls, user_id, course_id):
        """The grade of the learner in the course; raises ``PersistentCourseGrade.DoesNotExist``."""
        prefetched = cls._prefetched.get(str(course_id))
        if prefetched is not None:
            try:
                return prefetched[user_id]
            except KeyError:
                raise cls.DoesNotExist(f"No grade for user {user_id} in {course_id}") from None
        return cls.objects.get(user_id=user_id, course_id=course_id)

    @classmethod
    def update_or_create(cls, user_id, course_id, **kwargs):
        """Store the learner's grade; ``passed=True`` sets ``passed_timestamp`` unless it is set already."""
        passed = kwargs.pop("passed", False)
        kwargs.setdefault("grading_policy_hash", "")
        grade, _ = cls.objects.update_or_create(user_id=user_id, course_id=course_id, defaults=kwargs)
        if passed and not grade.passed_timestamp:
            grade.passed_timestamp = timezone.now()
            grade.save()
        cls.clear_prefetched_data(course_id)
        return grade
