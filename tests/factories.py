"""factory_boy factories for the app's and the standalone host's models."""

import factory
from django.contrib.auth import get_user_model
from factory.django import DjangoModelFactory

from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment
from program_enrollments.standalone.lms.models import CourseEnrollment, SSOIdentity
from tests import catalog


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")


class SSOIdentityFactory(DjangoModelFactory):
    class Meta:
        model = SSOIdentity

    user = factory.SubFactory(UserFactory)
    organization_key = "GTx"
    student_key = factory.Sequence(lambda n: f"sso-{n}")


class ProgramEnrollmentFactory(DjangoModelFactory):
    class Meta:
        model = ProgramEnrollment

    user = None
    external_user_key = factory.Sequence(lambda n: f"student-{n}")
    program_uuid = catalog.CYBERSECURITY
    curriculum_uuid = catalog.CYBERSECURITY_CURRICULUM
    status = "enrolled"


class CourseEnrollmentFactory(DjangoModelFactory):
    class Meta:
        model = CourseEnrollment

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
