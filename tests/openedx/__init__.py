"""Tests that run inside the Open edX harness LMS (tests/openedx_host); see tests/openedx/pytest.ini."""
