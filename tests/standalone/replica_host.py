"""The standalone host run against a primary database and a read replica whose contents differ.

Run by tests/standalone/test_replica.py in subprocesses, each with its own environment
(``DATABASE_URL``, and ``DATABASE_REPLICA_URL`` or not), since the settings read them at start-up::

    python -m tests.standalone.replica_host prepare <student_key> [<username>]
    python -m tests.standalone.replica_host keys
    python -m tests.standalone.replica_host requests <username>

``prepare`` migrates the default database, loads the test catalog, enrolls one learner in
Cybersecurity and, given a username, creates that staff user. ``keys`` prints the student keys
enrolled in Cybersecurity. ``requests`` sends GETs and a PUT through the REST API as that user
(a JWT, authenticated as for any client), reads inside a write, and the admin's list, and prints
what each saw and which database aliases answered, as JSON.
"""

from __future__ import annotations

import json
import os
import sys


def _keys(queryset) -> list[str]:
    return sorted(queryset.values_list("external_user_key", flat=True))


def prepare(student_key: str, username: str | None) -> dict:
    from django.core.management import call_command

    from program_enrollments import api
    from tests import catalog, hosts
    from tests.factories import SupportStaffFactory

    call_command("migrate", verbosity=0)
    hosts.load_catalog()
    api.write_program_enrollments(
        program_uuid=catalog.CYBERSECURITY,
        requests=[
            {"student_key": student_key, "status": "enrolled", "curriculum_uuid": catalog.CYBERSECURITY_CURRICULUM}
        ],
        create=True,
        update=False,
    )
    if username:
        SupportStaffFactory(username=username, is_superuser=True)
    return {"prepared": student_key}


def keys() -> dict:
    from program_enrollments.models import ProgramEnrollment
    from tests import catalog

    return {"keys": _keys(ProgramEnrollment.objects.filter(program_uuid=catalog.CYBERSECURITY))}


def requests(username: str) -> dict:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connections, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from edx_rest_framework_extensions.auth.jwt.tests.utils import generate_jwt
    from rest_framework.test import APIClient

    from program_enrollments.models import ProgramEnrollment
    from program_enrollments.routers import replica_reads
    from tests import catalog

    user = get_user_model().objects.get(username=username)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"JWT {generate_jwt(user)}")
    base = "/api/program_enrollments/v1"
    program_url = f"{base}/programs/{catalog.CYBERSECURITY}/enrollments/"
    aliases = list(settings.DATABASES)

    def queries_by_alias(call):
        contexts = {alias: CaptureQueriesContext(connections[alias]) for alias in aliases}
        for context in contexts.values():
            context.__enter__()
        try:
            response = call()
        finally:
            for context in contexts.values():
                context.__exit__(None, None, None)
        return response, {alias: len(context) for alias, context in contexts.items()}

    result = {"aliases": aliases}
    response, result["get_queries"] = queries_by_alias(lambda: client.get(program_url))
    result["get_status"] = response.status_code
    result["get"] = sorted(row["student_key"] for row in response.json()["results"])
    item = {"student_key": "written", "status": "enrolled", "curriculum_uuid": str(catalog.CYBERSECURITY_CURRICULUM)}
    response, result["put_queries"] = queries_by_alias(lambda: client.put(program_url, [item], format="json"))
    result["put_status"], result["put"] = response.status_code, response.json()
    result["get_after_put"] = sorted(row["student_key"] for row in client.get(program_url).json()["results"])
    learner = client.get(f"{base}/learners/", {"organization": "GTx", "student_key": "written"})
    result["learner_view_programs"] = len(learner.json()["programs"])
    with replica_reads():
        result["read_in_block"] = _keys(ProgramEnrollment.objects.filter(program_uuid=catalog.CYBERSECURITY))
        with transaction.atomic():
            result["read_in_write"] = _keys(ProgramEnrollment.objects.filter(program_uuid=catalog.CYBERSECURITY))
    admin = Client()
    admin.force_login(user)
    response = admin.get("/admin/program_enrollments/programenrollment/")
    result["admin_status"], page = response.status_code, response.content.decode()
    result["admin_lists"] = sorted(key for key in ("on-primary", "on-replica", "written") if key in page)
    return result


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "program_enrollments.standalone.settings")
    import django

    django.setup()
    command, arguments = argv[0], argv[1:]
    if command == "prepare":
        output = prepare(arguments[0], arguments[1] if len(arguments) > 1 else None)
    elif command == "keys":
        output = keys()
    elif command == "requests":
        output = requests(arguments[0])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print("RESULT " + json.dumps(output))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
