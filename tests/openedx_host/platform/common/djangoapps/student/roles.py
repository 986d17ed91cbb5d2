"""Stand-in of ``common/djangoapps/student/roles.py``: access roles over ``CourseAccessRole`` rows.

The class names, role names, registry and method signatures are the platform's. Only the "legacy" path
is implemented (rows in ``student_courseaccessrole``): the platform switches some roles to openedx-authz
behind a waffle flag that is off by default, and the harness has no openedx-authz.
"""

import logging
from abc import ABCMeta, abstractmethod

from django.contrib.auth import get_user_model
from opaque_keys.edx.django.models import CourseKeyField

from common.djangoapps.student.models import CourseAccessRole

log = logging.getLogger(__name__)

# Role name -> role class, for the roles decorated with register_access_role.
REGISTERED_ACCESS_ROLES = {}

# Role name -> the names of the roles that inherit its permissions.
ACCESS_ROLES_INHERITANCE = {}

ROLE_CACHE_UNGROUPED_ROLES__KEY = "ungrouped"


def register_access_role(cls):
    """Class decorator: register ``cls`` under its ``ROLE`` (and its ``BASE_ROLE`` inheritance, if any)."""
    try:
        REGISTERED_ACCESS_ROLES[cls.ROLE] = cls
    except AttributeError:
        log.exception("Unable to register Access Role with attribute 'ROLE'.")
    base_role = getattr(cls, "BASE_ROLE", None)
    if base_role:
        ACCESS_ROLES_INHERITANCE.setdefault(base_role, set()).add(cls.ROLE)
    return cls


def get_role_cache_key_for_course(course_key=None):
    """The key under which a course's roles are grouped in a ``RoleCache``."""
    return str(course_key) if course_key else ROLE_CACHE_UNGROUPED_ROLES__KEY


class RoleCache:
    """The ``CourseAccessRole`` rows of one user, grouped by course (cached on the user as ``_roles``)."""

    def __init__(self, user):
        self._roles_by_course_id = {}
        for role in CourseAccessRole.objects.filter(user=user):
            key = get_role_cache_key_for_course(role.course_id)
            self._roles_by_course_id.setdefault(key, set()).add((role.role, role.org))

    @staticmethod
    def get_roles(role):
        """``role`` and the roles that inherit its permissions."""
        return ACCESS_ROLES_INHERITANCE.get(role, set()) | {role}

    def has_role(self, role, course_id, org):
        """Whether the user holds ``role`` (or an inheriting role) for ``course_id`` in ``org``."""
        roles = self._roles_by_course_id.get(get_role_cache_key_for_course(course_id), set())
        return any(name in self.get_roles(role) and role_org == org for name, role_org in roles)


class AccessRole(metaclass=ABCMeta):
    """A role with access to a resource."""

    @abstractmethod
    def has_user(self, user):
        """Whether ``user`` holds this role."""

    @abstractmethod
    def add_users(self, *users):
        """Give this role to ``users``."""

    @abstractmethod
    def remove_users(self, *users):
        """Take this role from ``users``."""

    @abstractmethod
    def users_with_role(self):
        """The users holding this role (a QuerySet)."""


class GlobalStaff(AccessRole):
    """The global staff role: ``user.is_staff``."""

    def has_user(self, user):
        return bool(user and user.is_staff)

    def add_users(self, *users):
        for user in users:
            if user.is_authenticated and user.is_active:
                user.is_staff = True
                user.save()

    def remove_users(self, *users):
        for user in users:
            user.is_staff = False
            user.save()

    def users_with_role(self):
        raise Exception("This operation is un-indexed, and shouldn't be used")


class RoleBase(AccessRole):
    """A role by name, optionally restricted to an org and a course."""

    def __init__(self, role_name, org="", course_key=None):
        super().__init__()
        self.org = org
        self.course_key = course_key
        self._role_name = role_name

    def has_user(self, user, check_user_activation=True):
        """Whether ``user`` holds the role; inactive or anonymous users never do unless told otherwise."""
        if check_user_activation and not (user.is_authenticated and user.is_active):
            return False
        if not hasattr(user, "_roles"):
            user._roles = RoleCache(user)
        return user._roles.has_role(self._role_name, self.course_key, self.org)

    def add_users(self, *users):
        """Give the role to the active, authenticated ones of ``users`` (others are silently skipped)."""
        for user in users:
            if user.is_authenticated and user.is_active:
                CourseAccessRole.objects.get_or_create(
                    user=user, role=self._role_name, course_id=self.course_key, org=self.org
                )
                if hasattr(user, "_roles"):
                    del user._roles

    def remove_users(self, *users):
        """Take the role from ``users``."""
        CourseAccessRole.objects.filter(
            user__in=users, role=self._role_name, org=self.org, course_id=self.course_key
        ).delete()
        for user in users:
            if hasattr(user, "_roles"):
                del user._roles

    def users_with_role(self):
        """The users holding the role."""
        course_key = self.course_key if self.course_key is not None else CourseKeyField.Empty
        return get_user_model().objects.filter(
            courseaccessrole__role=self._role_name,
            courseaccessrole__org=self.org,
            courseaccessrole__course_id=course_key,
        )

    def get_orgs_for_user(self, user):
        """The orgs in which ``user`` holds the role."""
        return list(CourseAccessRole.objects.filter(user=user, role=self._role_name).values_list("org", flat=True))

    def has_org_for_user(self, user, org=None):
        """Whether ``user`` holds the role in ``org`` (in any org when ``org`` is not given)."""
        filters = {"user": user, "role": self._role_name}
        if org:
            filters["org"] = org
        return CourseAccessRole.objects.filter(**filters).exists()


class CourseRole(RoleBase):
    """A named role in one course."""

    def __init__(self, role, course_key):
        super().__init__(role, course_key.org, course_key)

    @classmethod
    def course_group_already_exists(cls, course_key):
        """Whether any role rows exist for the course."""
        return CourseAccessRole.objects.filter(org=course_key.org, course_id=course_key).exists()

    def __repr__(self):
        return f"<{self.__class__.__name__}: course_key={self.course_key}>"


class OrgRole(RoleBase):
    """A named role in one org, for all its courses."""

    def __repr__(self):
        return f"<{self.__class__.__name__}>"


@register_access_role
class CourseStaffRole(CourseRole):
    """A staff member of a course."""

    ROLE = "staff"

    def __init__(self, *args, **kwargs):
        super().__init__(self.ROLE, *args, **kwargs)


@register_access_role
class CourseLimitedStaffRole(CourseStaffRole):
    """A staff member of a course without access to Studio."""

    ROLE = "limited_staff"
    BASE_ROLE = CourseStaffRole.ROLE


@register_access_role
class CourseInstructorRole(CourseRole):
    """A course instructor."""

    ROLE = "instructor"

    def __init__(self, *args, **kwargs):
        super().__init__(self.ROLE, *args, **kwargs)


@register_access_role
class CourseBetaTesterRole(CourseRole):
    """A course beta tester."""

    ROLE = "beta_testers"

    def __init__(self, *args, **kwargs):
        super().__init__(self.ROLE, *args, **kwargs)


@register_access_role
class CourseDataResearcherRole(CourseRole):
    """A data researcher of a course."""

    ROLE = "data_researcher"

    def __init__(self, *args, **kwargs):
        super().__init__(self.ROLE, *args, **kwargs)


class OrgStaffRole(OrgRole):
    """A staff member of an org."""

    def __init__(self, *args, **kwargs):
        super().__init__("staff", *args, **kwargs)


class OrgInstructorRole(OrgRole):
    """An instructor of an org."""

    def __init__(self, *args, **kwargs):
        super().__init__("instructor", *args, **kwargs)


class UserBasedRole:
    """One user's courses with one role (the reverse view of ``CourseRole``)."""

    def __init__(self, user, role):
        self.user = user
        self.role = role

    def has_course(self, course_key):
        """Whether the user holds the role in ``course_key``."""
        return CourseRole(self.role, course_key).has_user(self.user)

    def add_course(self, *course_keys):
        """Give the user the role in each of ``course_keys``."""
        if self.user.is_authenticated and self.user.is_active:
            for course_key in course_keys:
                CourseAccessRole.objects.get_or_create(
                    user=self.user, role=self.role, course_id=course_key, org=course_key.org
                )
            if hasattr(self.user, "_roles"):
                del self.user._roles

    def remove_courses(self, *course_keys):
        """Take the role in each of ``course_keys`` from the user."""
        CourseAccessRole.objects.filter(user=self.user, role=self.role, course_id__in=course_keys).delete()
        if hasattr(self.user, "_roles"):
            del self.user._roles

    def courses_with_role(self):
        """The user's ``CourseAccessRole`` rows of this role."""
        return CourseAccessRole.objects.filter(role=self.role, user=self.user)
