import pytest
from django.db import connection

from tests import catalog as test_catalog


@pytest.fixture
def catalog(db):
    """The test catalog (three GTx programs sharing courses, one MITx program)."""
    test_catalog.load()
    return test_catalog


@pytest.fixture
def vendor():
    return connection.vendor


def pytest_report_header(config):
    from django.conf import settings

    database = settings.DATABASES["default"]
    return f"database: {database['ENGINE']} {database.get('HOST') or ''} {database.get('NAME')}"
