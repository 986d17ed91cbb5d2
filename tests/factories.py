"""factory_boy factories for the app's models and the host's (course enrollments, SSO identities)."""

import factory
from django.contrib.auth import get_user_model
from factory.django import DjangoModelFactory

from program_enrollments import conf
from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment
from tests import catalog, hosts


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")


class SSOIdentityFactory(factory.Factory):
    """A learner's SSO identity at an organization, the host's way (``hosts.add_sso_identity``).

    Creating one links the learner's waiting program enrollments of the organization.
    """

    class Meta:
        model = dict  # the host makes the row (see _create)

    user = factory.SubFactory(UserFactory)
    organization_key = "GTx"
    student_key = factory.Sequence(lambda n: f"sso-{n}")

    @classmethod
    def _create(cls, model_class, *, user, organization_key, student_key):
        return hosts.add_sso_identity(user, organization_key, student_key)


class ProgramEnrollmentFactory(DjangoModelFactory):
    class Meta:
        model = ProgramEnrollment

    user = None
    external_user_key = factory.Sequence(lambda n: f"student-{n}")
    program_uuid = catalog.CYBERSECURITY
    curriculum_uuid = catalog.CYBERSECURITY_CURRICULUM
    status = "enrolled"


class CourseEnrollmentFactory(DjangoModelFactory):
    """A course enrollment of the host's model (``PROGRAM_ENROLLMENTS_COURSE_ENROLLMENT_MODEL``)."""

    class Meta:
        model = conf.course_enrollment_model_label()

    user = factory.SubFactory(UserFactory)
    course_id = catalog.SHARED_COURSE
    mode = "audit"
    is_active = True


class ProgramCourseEnrollmentFactory(DjangoModelFactory):
    class Meta:
        model = ProgramCourseEnrollment

    program_enrollment = factory.SubFactory(ProgramEnrollmentFactory)
    course_key = catalog.SHARED_COURSE
    status = "active"


def grant_enrollment_permissions(user, *, write: bool = True):
    """Give ``user`` the model permissions that open every program: change (``write``) or view, on both models."""
    from django.contrib.auth.models import Permission

    action = "change" if write else "view"
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="program_enrollments",
            codename__in=[f"{action}_programenrollment", f"{action}_programcourseenrollment"],
        )
    )
    # Django caches a user's permissions on the instance.
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(cache, None)
    return user


class SupportStaffFactory(UserFactory):
    """A staff user with the change permission on both enrollment models: reads and writes every program."""

    is_staff = True

    @factory.post_generation
    def enrollment_permissions(user, create, extracted, **kwargs):
        if create:
            grant_enrollment_permissions(user, write=True if extracted is None else extracted)
