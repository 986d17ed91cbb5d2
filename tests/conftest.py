import pytest
from django.db import connection

from tests import catalog as test_catalog
from tests import hosts


@pytest.fixture
def catalog(db):
    """The test catalog (three GTx programs sharing courses, one MITx program), loaded into the host."""
    test_catalog.load()
    return test_catalog


@pytest.fixture
def vendor():
    return connection.vendor


@pytest.fixture
def support(client):
    """The admin's test client, signed in as a superuser."""
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="support", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def viewer(client):
    """The admin's test client, signed in as staff with the view permissions only."""
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    user = UserFactory(username="viewer", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(codename__in=["view_programenrollment", "view_programcourseenrollment"])
    )
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def _host_state():
    """Each test starts without the host state a database rollback leaves behind (see ``hosts.reset``)."""
    hosts.reset()
    yield
    hosts.reset()


def pytest_sessionstart(session):
    if not hosts.app_installed():
        pytest.exit(
            "These suites test this app, which the host does not run: the label program_enrollments is the "
            "built-in app's (an LMS before the takeover). Run them in the taken-over harness LMS, with "
            "OPENEDX_HOST_WITHOUT_PLUGINS empty (see tests/openedx/pytest.ini).",
            returncode=pytest.ExitCode.USAGE_ERROR,
        )


def pytest_report_header(config):
    from django.conf import settings

    database = settings.DATABASES["default"]
    return [
        f"host: {hosts.name()}",
        f"database: {database['ENGINE']} {database.get('HOST') or ''} {database.get('NAME')}",
    ]
