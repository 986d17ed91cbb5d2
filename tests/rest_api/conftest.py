import pytest
from django.conf import settings
from django.test import override_settings
from edx_rest_framework_extensions.auth.jwt.tests.utils import generate_jwt, generate_jwt_token
from rest_framework.test import APIClient

from program_enrollments.models import OrganizationGrant
from tests.factories import SupportStaffFactory, UserFactory


def app_settings(**values):
    """``override_settings`` of some ``PROGRAM_ENROLLMENTS`` keys, keeping the host's others (its backends)."""
    return override_settings(PROGRAM_ENROLLMENTS={**getattr(settings, "PROGRAM_ENROLLMENTS", {}), **values})


def jwt_header(user, **claims):
    return {"HTTP_AUTHORIZATION": f"JWT {generate_jwt(user, **claims)}"}


class Caller:
    """An API client authenticated as one kind of caller."""

    def __init__(self, user=None, **claims):
        self.client = APIClient()
        self.user = user
        self.headers = jwt_header(user, **claims) if user is not None else {}

    def __getattr__(self, method):
        def call(path, data=None, **extra):
            kwargs = {"format": "json"} if data is not None else {}
            return getattr(self.client, method)(path, data, **kwargs, **self.headers, **extra)

        return call


@pytest.fixture
def staff(db):
    return Caller(SupportStaffFactory(username="staff"))


@pytest.fixture
def gtx_writer(db):
    user = UserFactory(username="gtx-writer")
    OrganizationGrant.objects.create(user=user, organization_key="GTx", access="write")
    return Caller(user)


@pytest.fixture
def gtx_reader(db):
    user = UserFactory(username="gtx-reader")
    OrganizationGrant.objects.create(user=user, organization_key="GTx", access="read")
    return Caller(user)


@pytest.fixture
def outsider(db):
    return Caller(UserFactory(username="outsider"))


@pytest.fixture
def anonymous(db):
    return Caller()


@pytest.fixture
def restricted_gtx(db):
    return Caller(
        UserFactory(username="registrar-service"),
        is_restricted=True,
        scopes=["program_enrollments:write"],
        filters=["content_org:GTx"],
    )


__all__ = ["app_settings", "generate_jwt_token", "jwt_header"]
