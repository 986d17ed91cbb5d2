"""The host the shared suites run in: the standalone host, or the Open edX harness LMS.

``tests/api`` and ``tests/rest_api`` run unchanged against both hosts: ``make test`` runs them in the
standalone host, ``make test-openedx`` in the harness LMS taken over by this package
(``tests/openedx_host/``). What the tests need from the host outside the app's own models goes
through this module, which picks the host at run time from the installed apps:

=======================  ============================================  ==============================================
                         standalone host                               Open edX harness LMS
=======================  ============================================  ==============================================
course runs              ``standalone.catalog.CourseRun``              ``CourseOverview`` rows
course enrollments       ``lms.CourseEnrollment``                      ``student.CourseEnrollment``
SSO identities           ``lms.SSOIdentity``                           ``UserSocialAuth`` of an organization's
                                                                       ``SAMLProviderConfig`` (uid ``<slug>:<key>``)
the program catalog      ``standalone.catalog`` rows                   the LMS's catalog cache (``cache_programs``)
=======================  ============================================  ==============================================

Host modules are imported inside the functions, so that importing this module (and the test modules
that use it) loads nothing of the other host.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable

from django.apps import apps

from program_enrollments import conf

STANDALONE_LMS_APP = "program_enrollments.standalone.lms"
OPENEDX_STUDENT_APP = "common.djangoapps.student"

# The backend of the SAML providers the harness creates (SAMLProviderConfig.backend_name's default).
SAML_BACKEND = "tpa-saml"


def is_standalone() -> bool:
    """Whether the tests run in the standalone host."""
    return apps.is_installed(STANDALONE_LMS_APP)


def is_openedx() -> bool:
    """Whether the tests run in the Open edX harness LMS (with this app installed in it)."""
    return not is_standalone() and apps.is_installed(OPENEDX_STUDENT_APP)


def app_installed() -> bool:
    """Whether this app holds the label ``program_enrollments`` (in an LMS: after the takeover)."""
    try:
        return apps.get_app_config("program_enrollments").name == "program_enrollments"
    except LookupError:
        return False


def name() -> str:
    """``'standalone'`` or ``'openedx'``."""
    if is_standalone():
        return "standalone"
    if is_openedx():
        return "openedx"
    raise RuntimeError("The tests run in neither the standalone host nor the Open edX harness LMS.")


def course_enrollment_model():
    """The host's course-enrollment model (the one ``PROGRAM_ENROLLMENTS_COURSE_ENROLLMENT_MODEL`` names)."""
    return apps.get_model(conf.course_enrollment_model_label())


def lms_backend_class() -> type:
    """The host's LMS backend class (what a test patches to make the LMS fail)."""
    return conf.backend_class("LMS_BACKEND")


def reset() -> None:
    """Forget the host state a database rollback does not undo (the harness keeps its catalog in the cache)."""
    if is_openedx():
        from django.core.cache import cache

        cache.clear()


# --- the catalog ----------------------------------------------------------------------------------


def load_catalog() -> None:
    """Load the test catalog (``tests.catalog``) where the host reads programs and course runs."""
    from tests import catalog

    _host().load_catalog(catalog.programs(), extra_course_keys=[catalog.LONE_COURSE])


def add_programs(programs: Iterable[dict]) -> None:
    """Add programs (course-discovery's shape) to the loaded catalog, or replace those of the same UUID."""
    _host().add_programs(list(programs))


def add_curriculum(program_uuid, curriculum_uuid, course_keys: Iterable[str] = (), *, is_active: bool = True) -> None:
    """Add a curriculum to a program of the test catalog."""
    from tests import catalog

    program = copy.deepcopy(catalog.program(program_uuid))
    program["curricula"].append(catalog.curriculum_document(curriculum_uuid, course_keys, is_active=is_active))
    add_programs([program])


# --- SSO identities -------------------------------------------------------------------------------


def add_sso_identity(user, organization_key: str, student_key: str):
    """Record that ``user`` signs in through ``organization_key``'s SSO as ``student_key``; returns the row.

    As on a real login, the learner's waiting program enrollments of the organization are linked.
    """
    return _host().add_sso_identity(user, organization_key, student_key)


def add_sso_identities(organization_key: str, users_by_student_key: dict) -> None:
    """Record many SSO identities at once, as bulk inserts (no signals: nothing is linked)."""
    _host().add_sso_identities(organization_key, users_by_student_key)


# --- grades ---------------------------------------------------------------------------------------


def set_course_grade(user, course_key: str, *, percent: float, letter_grade: str = "", passed: bool = False):
    """Record ``user``'s grade in a course run where the host keeps grades."""
    _host().set_course_grade(user, course_key, percent=percent, letter_grade=letter_grade, passed=passed)


# --- the hosts ------------------------------------------------------------------------------------


def _host():
    return _Standalone() if is_standalone() else _OpenEdx()


class _Standalone:
    def load_catalog(self, programs, *, extra_course_keys):
        from program_enrollments.standalone.catalog.models import CourseRun

        self.add_programs(programs)
        for key in extra_course_keys:
            CourseRun.objects.get_or_create(key=key)

    def add_programs(self, programs):
        from program_enrollments.standalone.catalog.loading import load_programs, parse_document

        load_programs(parse_document(json.dumps(programs)))

    def add_sso_identity(self, user, organization_key, student_key):
        from program_enrollments.standalone.lms.models import SSOIdentity

        return SSOIdentity.objects.create(user=user, organization_key=organization_key, student_key=student_key)

    def set_course_grade(self, user, course_key, *, percent, letter_grade, passed):
        from program_enrollments.standalone.lms.models import CourseGrade

        CourseGrade.objects.update_or_create(
            user=user,
            course_id=course_key,
            defaults={"percent": percent, "letter_grade": letter_grade, "passed": passed},
        )

    def add_sso_identities(self, organization_key, users_by_student_key):
        from program_enrollments.identity import normalize_student_key
        from program_enrollments.standalone.lms.models import SSOIdentity

        SSOIdentity.objects.bulk_create(
            SSOIdentity(
                user=user,
                organization_key=organization_key,
                student_key=key,
                student_key_normalized=normalize_student_key(key),
            )
            for key, user in users_by_student_key.items()
        )


class _OpenEdx:
    def load_catalog(self, programs, *, extra_course_keys):
        from django.core.cache import cache

        cache.clear()
        self.add_programs(programs)
        self._add_courses(extra_course_keys)

    def add_programs(self, programs):
        from openedx_harness.catalog import cache_programs

        cache_programs(programs)
        self._add_courses(key for program in programs for key in _course_run_keys(program))

    @staticmethod
    def _add_courses(keys):
        """A ``CourseOverview`` per course run: in the LMS a course exists when it has one."""
        from opaque_keys.edx.keys import CourseKey
        from openedx.core.djangoapps.content.course_overviews.models import CourseOverview

        for key in sorted(set(keys)):
            course_key = CourseKey.from_string(key)
            CourseOverview.objects.get_or_create(
                id=course_key, defaults={"org": course_key.org, "display_name": f"Course {course_key.course}"}
            )

    @staticmethod
    def _provider(organization_key):
        """The organization's SAML provider (slug: the lower-cased key), created on first use."""
        from common.djangoapps.third_party_auth.models import SAMLProviderConfig
        from organizations.models import Organization

        slug = organization_key.lower()
        provider = SAMLProviderConfig.objects.current_set().filter(slug=slug).first()
        if provider is None:
            organization, _ = Organization.objects.get_or_create(
                short_name=organization_key, defaults={"name": organization_key}
            )
            provider = SAMLProviderConfig.objects.create(
                slug=slug,
                organization=organization,
                enabled=True,
                backend_name=SAML_BACKEND,
                entity_id=f"https://idp.example.com/{slug}",
                display_name=organization_key,
            )
        return provider

    def add_sso_identity(self, user, organization_key, student_key):
        from django.test import TestCase
        from social_django.models import UserSocialAuth

        provider = self._provider(organization_key)
        # The LMS links on the commit of the login's transaction (program_enrollments.openedx.receivers);
        # the test's transaction never commits, so its on-commit callbacks are run here.
        with TestCase.captureOnCommitCallbacks(execute=True):
            return UserSocialAuth.objects.create(
                user=user, provider=provider.backend_name, uid=provider.get_social_auth_uid(student_key)
            )

    def set_course_grade(self, user, course_key, *, percent, letter_grade, passed):
        # The platform's grade record; its CourseGrade passes when the letter grade is not blank.
        from lms.djangoapps.grades.models import PersistentCourseGrade
        from opaque_keys.edx.keys import CourseKey

        PersistentCourseGrade.update_or_create(
            user.id,
            CourseKey.from_string(course_key),
            percent_grade=percent,
            letter_grade=letter_grade if passed else "",
            passed=passed,
        )

    def add_sso_identities(self, organization_key, users_by_student_key):
        from social_django.models import UserSocialAuth

        provider = self._provider(organization_key)
        UserSocialAuth.objects.bulk_create(
            UserSocialAuth(user=user, provider=provider.backend_name, uid=provider.get_social_auth_uid(key))
            for key, user in users_by_student_key.items()
        )


def _course_run_keys(program: dict) -> set[str]:
    """Every course run key named anywhere in a program (its curricula, its courses, nested programs)."""
    keys = set()
    pending = [program]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            for run in node.get("course_runs") or []:
                if isinstance(run, dict) and run.get("key"):
                    keys.add(run["key"])
            pending.extend(value for value in node.values() if isinstance(value, dict | list))
        elif isinstance(node, list):
            pending.extend(node)
    return keys


# --- course runs as the learner pages show them, and course roles ---------------------------------


def set_course_run(course_key: str, *, title: str, start=None, end=None, self_paced: bool = False) -> None:
    """Give a course run its title, dates and pacing where the host keeps them (created when missing)."""
    from opaque_keys.edx.keys import CourseKey

    key = CourseKey.from_string(course_key)
    if is_standalone():
        from program_enrollments.standalone.catalog.models import CourseRun

        CourseRun.objects.update_or_create(
            key=key, defaults={"title": title, "start": start, "end": end, "self_paced": self_paced}
        )
    else:
        from openedx.core.djangoapps.content.course_overviews.models import CourseOverview

        CourseOverview.objects.update_or_create(
            id=key,
            defaults={"org": key.org, "display_name": title, "start": start, "end": end, "self_paced": self_paced},
        )


def add_course_role(user, course_key: str, role: str) -> None:
    """Give ``user`` a course role (``staff``, ``instructor``) in a course run, as a ``CourseAccessRole`` row."""
    from opaque_keys.edx.keys import CourseKey

    key = CourseKey.from_string(course_key)
    if is_standalone():
        from program_enrollments.standalone.lms.models import CourseAccessRole
    else:
        from common.djangoapps.student.models import CourseAccessRole
    CourseAccessRole.objects.create(user=user, org=key.org, course_id=key, role=role)
