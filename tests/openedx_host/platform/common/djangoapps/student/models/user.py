"""Stand-in of the ``CourseAccessRole`` part of ``common/djangoapps/student/models/user.py``.

Same table (``student_courseaccessrole``), columns and unique key as the platform's model, and its
manager that turns ``None`` filter values on opaque-key fields into their empty value.
"""

from django.conf import settings
from django.db import models
from opaque_keys.edx.django.models import CourseKeyField


class NoneToEmptyQuerySet(models.QuerySet):
    """Filters on an opaque-key field with ``None`` match the field's empty value, as on the platform."""

    def _filter_or_exclude(self, negate, args, kwargs):
        for field in self.model._meta.concrete_fields:
            if hasattr(field, "Empty"):
                for lookup in (field.name, f"{field.name}__exact"):
                    if lookup in kwargs and kwargs[lookup] is None:
                        kwargs[lookup] = field.Empty
        return super()._filter_or_exclude(negate, args, kwargs)


class NoneToEmptyManager(models.Manager.from_queryset(NoneToEmptyQuerySet)):
    """The manager of ``CourseAccessRole``."""


class CourseAccessRole(models.Model):
    """A user's role in a course (``course_id`` set), or in every course of an org (``course_id`` empty)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    # A blank org is for global roles such as course creator.
    org = models.CharField(max_length=64, db_index=True, blank=True)
    # A blank course_id is an org-wide role.
    course_id = CourseKeyField(max_length=255, db_index=True, blank=True)
    role = models.CharField(max_length=64, db_index=True)

    objects = NoneToEmptyManager()

    class Meta:
        app_label = "student"
        unique_together = ("user", "org", "course_id", "role")

    def __str__(self):
        return f"[CourseAccessRole] {self.user.username}: {self.role} org={self.org} course={self.course_id}"
