"""Stand-in of ``common/djangoapps/student/models/course_enrollment.py``: ``CourseEnrollment``.

Same table (``student_courseenrollment``), columns, unique key, history table and reverse names as the
platform's model, and the platform's class methods and instance methods with their signatures. What
the platform does on top of the database and the signals is left out: openedx-filters
(``CourseEnrollmentStarted``), openedx-events, segment/tracking events (logged instead, see
``emit_event``), enrollment emails, the request cache, ``CourseEnrollmentAllowed`` linking, and the
enrollment-closed and course-full checks of ``enroll(check_access=True)``.
"""

import logging
import uuid

from django.conf import settings
from django.db import models
from opaque_keys.edx.keys import CourseKey
from simple_history.models import HistoricalRecords

from common.djangoapps.course_modes.models import CourseMode
from common.djangoapps.student.signals import ENROLL_STATUS_CHANGE, ENROLLMENT_TRACK_UPDATED, UNENROLL_DONE
from openedx.core.djangoapps.content.course_overviews.models import CourseOverview

log = logging.getLogger(__name__)

EVENT_NAME_ENROLLMENT_ACTIVATED = "edx.course.enrollment.activated"
EVENT_NAME_ENROLLMENT_DEACTIVATED = "edx.course.enrollment.deactivated"
EVENT_NAME_ENROLLMENT_MODE_CHANGED = "edx.course.enrollment.mode_changed"

# The platform waits this many seconds before it recomputes grades after a mode change.
SCORE_RECALCULATION_DELAY_ON_ENROLLMENT_UPDATE = 30


class EnrollStatusChange:
    """The ``event`` values ``ENROLL_STATUS_CHANGE`` is sent with."""

    enroll = "enroll"
    unenroll = "unenroll"
    upgrade_start = "upgrade_start"
    upgrade_complete = "upgrade_complete"
    paid_start = "paid_start"
    paid_complete = "paid_complete"


class CourseEnrollmentException(Exception):
    """Base of the errors ``CourseEnrollment.enroll`` raises."""


class NonExistentCourseError(CourseEnrollmentException):
    """``enroll(check_access=True)`` for a course with no ``CourseOverview``."""


class EnrollmentClosedError(CourseEnrollmentException):
    """Enrollment in the course is closed (never raised by the harness)."""


class CourseFullError(CourseEnrollmentException):
    """The course is full (never raised by the harness)."""


class AlreadyEnrolledError(CourseEnrollmentException):
    """``enroll(check_access=True)`` for a learner already actively enrolled."""


class EnrollmentNotAllowed(CourseEnrollmentException):
    """A filter prevented the enrollment (never raised by the harness)."""


class UnenrollmentNotAllowed(CourseEnrollmentException):
    """A filter prevented the unenrollment (never raised by the harness)."""


def _default_course_mode(course_id):
    """The mode ``enroll`` uses when given none.

    Mirrors ``openedx.core.djangoapps.enrollments.api._default_course_mode``: the configured default mode if
    the course offers it, else audit, else honor, else the configured default anyway.
    """
    available = [mode.slug for mode in CourseMode.modes_for_course(CourseKey.from_string(str(course_id)))]
    for slug in (CourseMode.DEFAULT_MODE_SLUG, CourseMode.AUDIT, CourseMode.HONOR):
        if slug in available:
            return slug
    return CourseMode.DEFAULT_MODE_SLUG


class CourseEnrollmentQuerySet(models.QuerySet):
    """Table-level filters, as the platform's."""

    def active(self):
        return self.filter(is_active=True)


class CourseEnrollmentManager(models.Manager.from_queryset(CourseEnrollmentQuerySet)):
    """Mirrors the platform's ``CourseEnrollmentManager`` (the parts that need no modulestore)."""

    def users_enrolled_in(self, course_id, include_inactive=False, verified_only=False):
        """The users enrolled in ``course_id`` (active ones unless ``include_inactive``)."""
        from django.contrib.auth import get_user_model

        filters = {"courseenrollment__course_id": course_id}
        if not include_inactive:
            filters["courseenrollment__is_active"] = True
        if verified_only:
            filters["courseenrollment__mode"] = CourseMode.VERIFIED
        return get_user_model().objects.filter(**filters)

    def enrollment_counts(self, course_id):
        """``{mode: active enrollments, ..., 'total': n}``."""
        counts = {"total": 0}
        rows = self.filter(course_id=course_id, is_active=True).values("mode").annotate(n=models.Count("id"))
        for row in rows.order_by():
            counts[row["mode"]] = row["n"]
            counts["total"] += row["n"]
        return counts


class CourseEnrollment(models.Model):
    """A learner's enrollment in one course run; inactive rows mean "not enrolled".

    Use the class methods (``enroll``, ``get_enrollment``, ``is_enrolled`` ...) and ``update_enrollment``
    rather than writing rows: they send the signals other LMS code listens to.
    """

    MODEL_TAGS = ["course", "is_active", "mode"]

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    # Stored in the column course_id; no database constraint, since enrollments may precede the overview.
    course = models.ForeignKey(CourseOverview, db_constraint=False, on_delete=models.DO_NOTHING)
    created = models.DateTimeField(auto_now_add=True, null=True, db_index=True)
    is_active = models.BooleanField(default=True)
    mode = models.CharField(default=CourseMode.get_default_mode_slug, max_length=100)

    history = HistoricalRecords(
        history_id_field=models.UUIDField(default=uuid.uuid4),
        table_name="student_courseenrollment_history",
    )

    objects = CourseEnrollmentManager()

    class Meta:
        app_label = "student"
        unique_together = (("user", "course"),)
        indexes = [models.Index(fields=["user", "-created"])]
        ordering = ("user", "course")

    def __str__(self):
        return f"[CourseEnrollment] {self.user}: {self.course_id} ({self.created}); active: ({self.is_active})"

    # --- reading -------------------------------------------------------------------------------------

    @classmethod
    def get_enrollment(cls, user, course_key, select_related=None):
        """The enrollment of ``user`` in ``course_key``, or ``None`` (also for an anonymous user)."""
        assert user
        if user.is_anonymous:
            return None
        query = cls.objects
        if select_related is not None:
            query = query.select_related(*select_related)
        try:
            return query.get(user=user, course_id=course_key)
        except cls.DoesNotExist:
            return None

    @classmethod
    def _get_enrollment_state(cls, user, course_key):
        """``(mode, is_active)`` of the enrollment, ``(None, None)`` without one (the platform caches this)."""
        if user is None or user.is_anonymous:
            return None, None
        row = cls.objects.filter(user=user, course_id=course_key).values_list("mode", "is_active").first()
        return row if row is not None else (None, None)

    @classmethod
    def is_enrolled(cls, user, course_key):
        """Whether ``user`` has an active enrollment in ``course_key``."""
        return cls._get_enrollment_state(user, course_key)[1] or False

    @classmethod
    def enrollment_mode_for_user(cls, user, course_id):
        """``(mode, is_active)``, or ``(None, None)`` when the user has no enrollment in the course."""
        return cls._get_enrollment_state(user, course_id)

    @classmethod
    def enrollments_for_user(cls, user):
        """The user's active enrollments."""
        return cls.objects.filter(user=user, is_active=1).select_related("user")

    @property
    def course_overview(self):
        """The enrollment's ``CourseOverview``, or ``None`` when the course has none."""
        try:
            return CourseOverview.get_from_id(self.course_id)
        except CourseOverview.DoesNotExist:
            return None

    # --- writing -------------------------------------------------------------------------------------

    @classmethod
    def get_or_create_enrollment(cls, user, course_key):
        """The user's enrollment row in the course, created inactive in the default mode if missing."""
        assert isinstance(course_key, CourseKey)
        if user.id is None:
            user.save()
        enrollment, _ = cls.objects.get_or_create(
            user=user,
            course_id=course_key,
            defaults={"mode": CourseMode.DEFAULT_MODE_SLUG, "is_active": False},
        )
        return enrollment

    def update_enrollment(self, mode=None, is_active=None, skip_refund=False, enterprise_uuid=None):
        """Change the mode and/or the activation; saves (and signals) only when something changed.

        Deactivation sends ``UNENROLL_DONE`` and ``ENROLL_STATUS_CHANGE`` (``unenroll``); a mode change sends
        ``ENROLLMENT_TRACK_UPDATED``. ``None`` leaves that attribute as it is.
        """
        activation_changed = is_active is not None and self.is_active != is_active
        if activation_changed:
            self.is_active = is_active
        mode_changed = mode is not None and self.mode != mode
        if mode_changed:
            self.mode = mode

        if activation_changed or mode_changed:
            self.save()

        if activation_changed:
            if self.is_active:
                self.emit_event(EVENT_NAME_ENROLLMENT_ACTIVATED, enterprise_uuid=enterprise_uuid)
            else:
                UNENROLL_DONE.send(sender=None, course_enrollment=self, skip_refund=skip_refund)
                self.emit_event(EVENT_NAME_ENROLLMENT_DEACTIVATED, enterprise_uuid=enterprise_uuid)
                self.send_signal(EnrollStatusChange.unenroll)

        if mode_changed:
            self.emit_event(EVENT_NAME_ENROLLMENT_MODE_CHANGED)
            ENROLLMENT_TRACK_UPDATED.send(
                sender=None,
                user=self.user,
                course_key=self.course_id,
                mode=self.mode,
                countdown=SCORE_RECALCULATION_DELAY_ON_ENROLLMENT_UPDATE,
            )

    def send_signal(self, event, cost=None, currency=None):
        """Send ``ENROLL_STATUS_CHANGE`` for this enrollment."""
        ENROLL_STATUS_CHANGE.send(
            sender=None,
            event=event,
            user=self.user,
            mode=self.mode,
            course_id=self.course_id,
            cost=cost,
            currency=currency,
        )

    @classmethod
    def send_signal_full(cls, event, user=None, mode=None, course_id=None, cost=None, currency=None):
        """Send ``ENROLL_STATUS_CHANGE`` without an enrollment object."""
        ENROLL_STATUS_CHANGE.send(
            sender=None, event=event, user=user, mode=mode, course_id=course_id, cost=cost, currency=currency
        )

    def emit_event(self, event_name, enterprise_uuid=None):
        """The platform emits a tracking (and segment) event here; the harness logs it."""
        log.info(
            "tracking event %s: user_id=%s course_id=%s mode=%s enterprise_uuid=%s",
            event_name,
            self.user_id,
            self.course_id,
            self.mode,
            enterprise_uuid,
        )

    @classmethod
    def enroll(cls, user, course_key, mode=None, check_access=False, can_upgrade=False, enterprise_uuid=None):
        """Enroll ``user`` in ``course_key`` (active) and return the enrollment; saves immediately.

        ``mode`` defaults to the course's default mode. With ``check_access`` a course without a
        ``CourseOverview`` raises ``NonExistentCourseError`` and an already active learner raises
        ``AlreadyEnrolledError``; without it both are allowed (the platform's legacy behaviour).
        Sends ``ENROLL_STATUS_CHANGE`` (``enroll``), besides what ``update_enrollment`` sends.
        """
        if mode is None:
            mode = _default_course_mode(str(course_key))
        try:
            CourseOverview.get_from_id(course_key)
        except CourseOverview.DoesNotExist as error:
            if check_access:
                log.warning("User %s failed to enroll in non-existent course %s", user.id, course_key)
                raise NonExistentCourseError from error

        if cls.is_enrolled(user, course_key):
            log.warning("User %s attempted to enroll in %s, but they were already enrolled", user.id, course_key)
            if check_access:
                raise AlreadyEnrolledError

        enrollment = cls.get_or_create_enrollment(user, course_key)
        enrollment.update_enrollment(is_active=True, mode=mode, enterprise_uuid=enterprise_uuid)
        enrollment.send_signal(EnrollStatusChange.enroll)
        return enrollment

    @classmethod
    def unenroll(cls, user, course_id, skip_refund=False):
        """Deactivate the user's enrollment in the course; logs (and does nothing) without one."""
        try:
            record = cls.objects.get(user=user, course_id=course_id)
        except cls.DoesNotExist:
            log.error("Tried to unenroll student %s from %s but they were not enrolled", user, course_id)
            return
        record.update_enrollment(is_active=False, skip_refund=skip_refund)

    def activate(self):
        """Make the enrollment active; saves immediately."""
        self.update_enrollment(is_active=True)

    def deactivate(self):
        """Make the enrollment inactive; saves immediately."""
        self.update_enrollment(is_active=False)

    def change_mode(self, mode):
        """Change the enrollment's mode; saves immediately."""
        self.update_enrollment(mode=mode)
