"""A support workflow in a real browser: headless Chromium driven by Selenium against a live server.

Log in as support staff (a staff account with the enrollment permissions, not a superuser),
follow the home page's link, find a learner by student key, open the learner page, transfer
the learner with the admin action (target program and curriculum picked from lists), and see
the result, the history entry and the learner's course enrollments, each page fitting a
laptop screen (1366 and 1400 pixels wide). Screenshots are saved under the test's temporary
folder. Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them);
without them the test is skipped with the reason printed.
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
        "--window-size=1400,900",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


@pytest.fixture
def support_user(db):
    """Support staff: a staff account with the view and change permissions on enrollments, not a superuser."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    user = get_user_model().objects.create_user("support", "support@example.com", "support-password", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="program_enrollments",
            codename__in=[
                "view_programenrollment",
                "change_programenrollment",
                "view_programcourseenrollment",
                "change_programcourseenrollment",
            ],
        )
    )
    return user


def _navigate(browser, action):
    """Do ``action`` (a click or a submit that loads a page) and wait until the new page has loaded.

    Selenium's click returns once the event is dispatched, before the browser leaves the page:
    reading the page right after it may read the old one. The page is marked with a token that
    only it holds, and the wait ends when the window holds a loaded document without it. While the
    old document is torn down, ChromeDriver may answer a command with an error of its own
    ("unhandled inspector error", a stale element); the wait asks again.
    """
    import uuid

    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    token = uuid.uuid4().hex
    browser.execute_script("window.programEnrollmentsPage = arguments[0];", token)
    action()

    def _new_page_loaded(driver):
        return driver.execute_script(
            "return window.programEnrollmentsPage !== arguments[0] && document.readyState === 'complete';", token
        )

    WebDriverWait(browser, 30, ignored_exceptions=(WebDriverException,)).until(_new_page_loaded)


def _fits_the_window(browser):
    """Whether the page fits laptop screens 1366 and 1400 pixels wide: no horizontal scroll bar, on the page or
    on a list's table. The window is left 1400 pixels wide, the screenshots' width."""
    fits = []
    for width in (1366, 1400):
        browser.set_window_size(width, 900)
        fits.append(
            browser.execute_script(
                "var page = document.documentElement, results = document.querySelector('.results');"
                "return page.scrollWidth <= page.clientWidth"
                " && (!results || results.scrollWidth <= results.clientWidth);"
            )
        )
    return all(fits)


def test_support_workflow_transfers_a_learner(live_server, browser, support_user, catalog, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment
    from tests.api.helpers import enroll, enroll_course
    from tests.factories import SSOIdentityFactory, UserFactory

    SSOIdentityFactory(student_key="GT-7001", user=UserFactory(username="grace"))
    enroll(c.CYBERSECURITY, ["GT-7001", "GT-7002"])
    enroll_course(c.CYBERSECURITY, c.SHARED_COURSE, ["GT-7001", "GT-7002"])
    enroll_course(c.CYBERSECURITY, c.SECOND_SHARED_COURSE, ["GT-7001"])

    def shot(name):
        path = tmp_path / f"{name}.png"
        browser.save_screenshot(str(path))
        if os.environ.get("PROGRAM_ENROLLMENTS_SCREENSHOTS"):
            shutil.copy(path, os.path.join(os.environ["PROGRAM_ENROLLMENTS_SCREENSHOTS"], path.name))
        return path

    # Log in: the admin's home links the learner page.
    browser.get(f"{live_server.url}/admin/login/")
    browser.find_element(By.NAME, "username").send_keys("support")
    browser.find_element(By.NAME, "password").send_keys("support-password")
    _navigate(browser, browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click)
    assert "Site administration" in browser.page_source
    assert (
        browser.find_element(By.LINK_TEXT, "Learner page")
        .get_attribute("href")
        .endswith("/admin/program_enrollments/programenrollment/learner/")
    )
    shot("1-home")

    # Search the learner by student key (any case): programs by title, the list fits a laptop screen.
    _navigate(browser, browser.find_element(By.CSS_SELECTOR, "#content-main tr.model-programenrollment th a").click)
    assert "Online Master of Science in Cybersecurity" in browser.find_element(By.ID, "changelist-filter").text
    search = browser.find_element(By.ID, "searchbar")
    search.send_keys("gt-7001")
    _navigate(browser, search.submit)
    rows = browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
    assert len(rows) == 1 and "GT-7001" in rows[0].text
    assert "Online Master of Science" in rows[0].text and "GTx" in rows[0].text
    assert str(c.CYBERSECURITY) not in rows[0].text
    assert _fits_the_window(browser)
    shot("2-search")

    # The learner page: which program holds the active slot.
    _navigate(browser, rows[0].find_element(By.LINK_TEXT, "learner page").click)
    assert "Learner grace" in browser.find_element(By.ID, "learner-heading").text
    slots = browser.find_element(By.ID, "active-slots").text
    assert c.SHARED_COURSE in slots and "Online Master of Science in Cybersecurity (GTx)" in slots
    assert _fits_the_window(browser)
    shot("3-learner-page")

    # Transfer with the admin action: the target program and its curriculum are picked from lists.
    _navigate(browser, browser.back)
    browser.find_element(By.CSS_SELECTOR, "#result_list tbody tr input.action-select").click()
    Select(browser.find_element(By.NAME, "action")).select_by_value("transfer_to_another_program")
    _navigate(browser, browser.find_element(By.CSS_SELECTOR, "button[name=index], .actions button").click)
    assert "Online Master of Science in Cybersecurity" in browser.find_element(By.ID, "transfer-source").text
    target = Select(browser.find_element(By.NAME, "to_program_uuid"))
    offered = [option.text for option in target.options]
    assert "Other Master Program (GTx): shares 2 of the 2 courses" in offered
    assert not any("Cybersecurity" in text for text in offered)
    target.select_by_value(str(c.OTHER))
    curriculum = Select(browser.find_element(By.NAME, "to_curriculum_uuid"))
    shown = [option.get_attribute("value") for option in curriculum.options if option.is_enabled()]
    assert shown == ["", str(c.OTHER_CURRICULUM)]
    curriculum.select_by_value(str(c.OTHER_CURRICULUM))
    Select(browser.find_element(By.NAME, "source_status")).select_by_value("canceled")
    assert _fits_the_window(browser)
    shot("4-transfer-form")
    _navigate(browser, browser.find_element(By.CSS_SELECTOR, "#transfer-form input[type=submit]").click)
    results = browser.find_element(By.ID, "transfer-results").text
    assert "GT-7001" in results and "transferred" in results
    assert "Other Master Program" in browser.find_element(By.ID, "transfer-programs").text
    shot("5-transfer-result")

    # The database agrees, and the course enrollment stayed active.
    moved = ProgramCourseEnrollment.objects.filter(program_enrollment__external_user_key="GT-7001", status="active")
    assert {row.program_enrollment.program_uuid for row in moved} == {c.OTHER} and len(moved) == 2
    assert all(row.course_enrollment.is_active for row in moved)
    assert ProgramEnrollment.objects.get(program_uuid=c.OTHER, external_user_key="GT-7001").curriculum_uuid == (
        c.OTHER_CURRICULUM
    )

    # The history entry of the source enrollment.
    source = ProgramEnrollment.objects.get(program_uuid=c.CYBERSECURITY, external_user_key="GT-7001")
    browser.get(f"{live_server.url}/admin/program_enrollments/programenrollment/{source.pk}/history/")
    assert "Online Master of Science in Cybersecurity (GTx)" in browser.find_element(By.TAG_NAME, "h1").text
    history = browser.find_element(By.ID, "change-history").text
    assert "canceled" in history and "support" in history
    assert "Transferred in the admin by support" in history
    assert _fits_the_window(browser)
    shot("6-history")

    # The course enrollments of the learner: one row per program and course, each linking the learner page.
    browser.get(f"{live_server.url}/admin/program_enrollments/programcourseenrollment/?q=GT-7001")
    rows = browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
    assert len(rows) == 4 and all(row.find_element(By.LINK_TEXT, "learner page") for row in rows)
    assert {"Other Master Program", "Online Master of Science"} <= {
        name for row in rows for name in ("Other Master Program", "Online Master of Science") if name in row.text
    }
    assert _fits_the_window(browser)
    shot("7-course-enrollments")
    assert (tmp_path / "5-transfer-result.png").stat().st_size > 0
