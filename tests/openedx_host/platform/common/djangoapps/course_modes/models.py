"""Stand-in of ``common/djangoapps/course_modes/models.py``: ``CourseMode`` and its ``Mode`` tuples.

Same table (``course_modes_coursemode``) and columns as the platform's model (minus history), the
platform's mode slugs and groups, and its class methods as far as the built-in app and our backends
use them. As on the platform, a course with no rows offers only the default mode
(``settings.COURSE_MODE_DEFAULTS``, audit): create rows to give a course ``masters`` or ``verified``.
"""

from collections import namedtuple

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.timezone import now

from openedx.core.djangoapps.content.course_overviews.models import CourseOverview

Mode = namedtuple(
    "Mode",
    [
        "slug",
        "name",
        "min_price",
        "suggested_prices",
        "currency",
        "expiration_datetime",
        "description",
        "sku",
        "bulk_sku",
    ],
)


class CourseMode(models.Model):
    """One enrollment track (mode) offered by a course run."""

    course = models.ForeignKey(
        CourseOverview, db_constraint=False, db_index=True, related_name="modes", on_delete=models.DO_NOTHING
    )
    mode_slug = models.CharField(max_length=100, verbose_name="Mode")
    mode_display_name = models.CharField(max_length=255, verbose_name="Display Name")
    min_price = models.IntegerField(default=0, verbose_name="Price")
    currency = models.CharField(default="usd", max_length=8)
    _expiration_datetime = models.DateTimeField(
        default=None, null=True, blank=True, verbose_name="Upgrade Deadline", db_column="expiration_datetime"
    )
    expiration_datetime_is_explicit = models.BooleanField(default=False)
    expiration_date = models.DateField(default=None, null=True, blank=True)
    suggested_prices = models.CharField(max_length=255, blank=True, default="")
    description = models.TextField(null=True, blank=True)
    sku = models.CharField(max_length=255, null=True, blank=True, verbose_name="SKU")
    bulk_sku = models.CharField(max_length=255, null=True, blank=True, default=None, verbose_name="Bulk SKU")

    HONOR = "honor"
    PROFESSIONAL = "professional"
    VERIFIED = "verified"
    AUDIT = "audit"
    NO_ID_PROFESSIONAL_MODE = "no-id-professional"
    CREDIT_MODE = "credit"
    MASTERS = "masters"
    EXECUTIVE_EDUCATION = "executive-education"

    DEFAULT_MODE = Mode(
        settings.COURSE_MODE_DEFAULTS["slug"],
        settings.COURSE_MODE_DEFAULTS["name"],
        settings.COURSE_MODE_DEFAULTS["min_price"],
        settings.COURSE_MODE_DEFAULTS["suggested_prices"],
        settings.COURSE_MODE_DEFAULTS["currency"],
        settings.COURSE_MODE_DEFAULTS["expiration_datetime"],
        settings.COURSE_MODE_DEFAULTS["description"],
        settings.COURSE_MODE_DEFAULTS["sku"],
        settings.COURSE_MODE_DEFAULTS["bulk_sku"],
    )
    DEFAULT_MODE_SLUG = settings.COURSE_MODE_DEFAULTS["slug"]

    ALL_MODES = [
        AUDIT,
        CREDIT_MODE,
        HONOR,
        NO_ID_PROFESSIONAL_MODE,
        PROFESSIONAL,
        VERIFIED,
        MASTERS,
        EXECUTIVE_EDUCATION,
    ]
    AUDIT_MODES = [AUDIT, HONOR]
    VERIFIED_MODES = [VERIFIED, PROFESSIONAL, MASTERS, EXECUTIVE_EDUCATION]
    NON_VERIFIED_MODES = [HONOR, AUDIT, NO_ID_PROFESSIONAL_MODE]
    CREDIT_MODES = [CREDIT_MODE]
    CREDIT_ELIGIBLE_MODES = [VERIFIED, PROFESSIONAL, NO_ID_PROFESSIONAL_MODE, EXECUTIVE_EDUCATION]
    CERTIFICATE_RELEVANT_MODES = CREDIT_MODES + CREDIT_ELIGIBLE_MODES + [MASTERS]
    UPSELL_TO_VERIFIED_MODES = [HONOR, AUDIT]

    class Meta:
        app_label = "course_modes"
        unique_together = ("course", "mode_slug", "currency")

    def __str__(self):
        return f"{self.course_id} : {self.mode_slug}, min={self.min_price}"

    @property
    def slug(self):
        return self.mode_slug

    @property
    def expiration_datetime(self):
        return self._expiration_datetime

    def to_tuple(self):
        """This mode as a ``Mode`` tuple."""
        return Mode(
            self.mode_slug,
            self.mode_display_name,
            self.min_price,
            self.suggested_prices,
            self.currency,
            self.expiration_datetime,
            self.description,
            self.sku,
            self.bulk_sku,
        )

    @classmethod
    def get_default_mode_slug(cls):
        """The default mode of ``CourseEnrollment.mode``."""
        return cls.DEFAULT_MODE_SLUG

    @classmethod
    def modes_for_course(cls, course_id=None, include_expired=False, only_selectable=True, course=None):
        """The course's modes as ``Mode`` tuples; ``[DEFAULT_MODE]`` when it has none."""
        if course_id is None and course is None:
            raise ValueError("One of course_id or course must not be None.")
        found = course.modes.all() if course is not None else cls.objects.filter(course_id=course_id)
        if not include_expired:
            found = found.filter(Q(_expiration_datetime__isnull=True) | Q(_expiration_datetime__gte=now()))
        if only_selectable:
            found = found.exclude(mode_slug__in=cls.CREDIT_MODES)
        modes = [mode.to_tuple() for mode in found]
        return modes or [cls.DEFAULT_MODE]

    @classmethod
    def modes_for_course_dict(cls, course_id=None, modes=None, **kwargs):
        """``{slug: Mode}`` of the course's modes (or of ``modes`` when given)."""
        if modes is None:
            modes = cls.modes_for_course(course_id=course_id, **kwargs)
        return {mode.slug: mode for mode in modes}

    @classmethod
    def mode_for_course(cls, course_id, mode_slug, modes=None, include_expired=False):
        """The course's mode ``mode_slug`` as a ``Mode``, or ``None``."""
        if modes is None:
            modes = cls.modes_for_course(course_id=course_id, include_expired=include_expired)
        return next((mode for mode in modes if mode.slug == mode_slug), None)

    @classmethod
    def contains_audit_mode(cls, modes_dict):
        """Whether ``modes_dict`` (slug -> Mode) contains the audit mode."""
        return cls.AUDIT in modes_dict

    @classmethod
    def has_verified_mode(cls, course_mode_dict):
        """Whether ``course_mode_dict`` contains a verified track."""
        return any(mode in course_mode_dict for mode in cls.VERIFIED_MODES)

    @classmethod
    def has_professional_mode(cls, modes_dict):
        return cls.PROFESSIONAL in modes_dict or cls.NO_ID_PROFESSIONAL_MODE in modes_dict

    @classmethod
    def is_professional_slug(cls, slug):
        return slug in [cls.PROFESSIONAL, cls.NO_ID_PROFESSIONAL_MODE]

    @classmethod
    def is_masters_slug(cls, slug):
        return slug == cls.MASTERS

    @classmethod
    def is_verified_slug(cls, mode_slug):
        return mode_slug in cls.VERIFIED_MODES

    @classmethod
    def is_eligible_for_certificate(cls, mode_slug):
        return mode_slug != cls.AUDIT
