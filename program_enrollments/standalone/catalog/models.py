"""The program catalog of the standalone host (the shape of course-discovery's programs)."""

from django.db import models
from opaque_keys.edx.django.models import CourseKeyField


class Organization(models.Model):
    """An authoring organization, keyed by its short key such as ``GTx``."""

    key = models.CharField(max_length=255, unique=True)
    name = models.CharField(max_length=255, blank=True)

    def __str__(self):
        return self.key


class CourseRun(models.Model):
    """A course run the host LMS offers."""

    key = CourseKeyField(max_length=255, unique=True)
    title = models.CharField(max_length=255, blank=True)
    # The schedule the learner's program pages show (Open edX's CourseOverview start, end, self_paced).
    start = models.DateTimeField(null=True, blank=True)
    end = models.DateTimeField(null=True, blank=True)
    self_paced = models.BooleanField(default=False)

    def __str__(self):
        return str(self.key)


class Program(models.Model):
    """A degree or credential owned by one authoring organization."""

    uuid = models.UUIDField(unique=True)
    title = models.CharField(max_length=255)
    type = models.CharField(max_length=64, blank=True)
    marketing_slug = models.CharField(max_length=255, blank=True)
    authoring_organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="programs")

    def __str__(self):
        return f"{self.title} ({self.uuid})"


class Curriculum(models.Model):
    """A version of a program's course list."""

    uuid = models.UUIDField(unique=True)
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="curricula")
    name = models.CharField(max_length=255, blank=True)
    is_active = models.BooleanField(default=True)
    course_runs = models.ManyToManyField(CourseRun, blank=True, related_name="curricula")

    class Meta:
        verbose_name_plural = "curricula"

    def __str__(self):
        return f"{self.name or self.uuid} of {self.program.title}"
