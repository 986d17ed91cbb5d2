"""A support workflow in a real browser: headless Chromium driven by Selenium against a live server.

Log in, find a learner by student key, open the learner page, transfer the learner with the
admin action, and see the result and the history entry. Screenshots are saved under the
test's temporary folder. Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run``
installs them); without them the test is skipped with the reason printed.
"""

import os
import shutil

import pytest

from tests import catalog as c

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (CHROMIUM and CHROMEDRIVER),
        reason="headless Chromium is not installed (Debian packages chromium and chromium-driver)",
    ),
]


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1000",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


@pytest.fixture
def support_user(db):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser("support", "support@example.com", "support-password")


def test_support_workflow_transfers_a_learner(live_server, browser, support_user, catalog, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment
    from tests.api.helpers import enroll, enroll_course
    from tests.factories import SSOIdentityFactory, UserFactory

    SSOIdentityFactory(student_key="GT-7001", user=UserFactory(username="grace"))
    enroll(c.CYBERSECURITY, ["GT-7001", "GT-7002"])
    enroll_course(c.CYBERSECURITY, c.SHARED_COURSE, ["GT-7001", "GT-7002"])

    def shot(name):
        path = tmp_path / f"{name}.png"
        browser.save_screenshot(str(path))
        if os.environ.get("PROGRAM_ENROLLMENTS_SCREENSHOTS"):
            shutil.copy(path, os.path.join(os.environ["PROGRAM_ENROLLMENTS_SCREENSHOTS"], path.name))
        return path

    # Log in.
    browser.get(f"{live_server.url}/admin/login/")
    browser.find_element(By.NAME, "username").send_keys("support")
    browser.find_element(By.NAME, "password").send_keys("support-password")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    assert "Site administration" in browser.page_source

    # Search the learner by student key (any case).
    browser.get(f"{live_server.url}/admin/program_enrollments/programenrollment/")
    search = browser.find_element(By.ID, "searchbar")
    search.send_keys("gt-7001")
    search.submit()
    rows = browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
    assert len(rows) == 1 and "GT-7001" in rows[0].text
    shot("1-search")

    # The learner page: which program holds the active slot.
    rows[0].find_element(By.LINK_TEXT, "learner page").click()
    assert "Learner grace" in browser.find_element(By.ID, "learner-heading").text
    slots = browser.find_element(By.ID, "active-slots").text
    assert c.SHARED_COURSE in slots and str(c.CYBERSECURITY) in slots
    shot("2-learner-page")

    # Transfer with the admin action.
    browser.back()
    browser.find_element(By.CSS_SELECTOR, "#result_list tbody tr input.action-select").click()
    Select(browser.find_element(By.NAME, "action")).select_by_value("transfer_to_another_program")
    browser.find_element(By.CSS_SELECTOR, "button[name=index], .actions button").click()
    browser.find_element(By.NAME, "to_program_uuid").send_keys(str(c.OTHER))
    Select(browser.find_element(By.NAME, "source_status")).select_by_value("canceled")
    shot("3-transfer-form")
    browser.find_element(By.CSS_SELECTOR, "#transfer-form input[type=submit]").click()
    results = browser.find_element(By.ID, "transfer-results").text
    assert "GT-7001" in results and "transferred" in results
    shot("4-transfer-result")

    # The database agrees, and the course enrollment stayed active.
    active = ProgramCourseEnrollment.objects.get(program_enrollment__external_user_key="GT-7001", status="active")
    assert active.program_enrollment.program_uuid == c.OTHER
    assert active.course_enrollment.is_active

    # The history entry of the source enrollment.
    source = ProgramEnrollment.objects.get(program_uuid=c.CYBERSECURITY, external_user_key="GT-7001")
    browser.get(f"{live_server.url}/admin/program_enrollments/programenrollment/{source.pk}/history/")
    history = browser.find_element(By.ID, "change-history").text
    assert "canceled" in history and "support" in history
    assert "Transferred in the admin by support" in history
    shot("5-history")
    assert (tmp_path / "4-transfer-result.png").stat().st_size > 0
