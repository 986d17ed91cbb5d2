"""Stand-in of ``openedx/core/djangoapps/content/course_overviews/models.py``: ``CourseOverview``.

The platform caches a course run's modulestore data in this table and fills a missing row from the
modulestore on first read. The harness has no modulestore: the table is the whole truth, so a course
exists exactly when it has a row. The columns are a subset of the platform's (same names and types).
"""

from django.db import models
from django.utils import timezone
from model_utils.models import TimeStampedModel
from opaque_keys.edx.django.models import CourseKeyField


class CourseOverview(TimeStampedModel):
    """One course run, keyed by its course key (table ``course_overviews_courseoverview``)."""

    # The platform bumps this when the model's fields change; rows of older versions are reloaded.
    VERSION = 19

    version = models.IntegerField(default=VERSION)
    id = CourseKeyField(db_index=True, primary_key=True, max_length=255)
    _location = models.CharField(max_length=255, blank=True, default="")
    org = models.TextField(max_length=255, default="outdated_entry")
    display_name = models.TextField(null=True)
    display_number_with_default = models.TextField(default="")
    display_org_with_default = models.TextField(default="")
    start = models.DateTimeField(null=True)
    end = models.DateTimeField(null=True)
    enrollment_start = models.DateTimeField(null=True)
    enrollment_end = models.DateTimeField(null=True)
    self_paced = models.BooleanField(default=False)
    invitation_only = models.BooleanField(default=False)
    max_student_enrollments_allowed = models.IntegerField(null=True)
    catalog_visibility = models.TextField(null=True)
    short_description = models.TextField(null=True)

    class Meta:
        app_label = "course_overviews"

    def __str__(self):
        return str(self.id)

    @classmethod
    def get_from_id(cls, course_id):
        """The overview of ``course_id``; raises ``CourseOverview.DoesNotExist`` without one."""
        return cls.objects.get(id=course_id)

    @classmethod
    def get_from_ids(cls, course_ids):
        """``{course_id: overview or None}`` for every id in ``course_ids``."""
        found = {overview.id: overview for overview in cls.objects.filter(id__in=course_ids)}
        return {course_id: found.get(course_id) for course_id in course_ids}

    @classmethod
    def course_exists(cls, course_id):
        """Whether the course run exists (the platform also asks the modulestore)."""
        return cls.objects.filter(id=course_id).exists()

    @classmethod
    def get_all_course_keys(cls):
        """The keys of every course run."""
        return cls.objects.values_list("id", flat=True)

    @property
    def location(self):
        return self._location

    @property
    def display_name_with_default(self):
        """The display name, or the run's URL name with spaces for underscores (the platform's default)."""
        if self.display_name is not None:
            return self.display_name
        return getattr(self.id, "run", str(self.id)).replace("_", " ")

    @property
    def pacing(self):
        return "self" if self.self_paced else "instructor"

    def has_started(self):
        return self.start is not None and self.start <= timezone.now()

    def has_ended(self):
        return self.end is not None and self.end < timezone.now()
