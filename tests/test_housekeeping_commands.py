"""The housekeeping commands and the Celery task: thin wrappers of the Python API, with Open edX's arguments."""

from datetime import timedelta
from io import StringIO
from uuid import uuid4

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from program_enrollments import tasks
from program_enrollments.api.housekeeping import EXPIRY_REASON, RESET_REASON
from program_enrollments.models import ProgramEnrollment
from tests.api.helpers import enroll, enroll_course

pytestmark = pytest.mark.django_db

REDIS_URL = "redis://127.0.0.1:6379/15"


def _age(keys, days):
    ProgramEnrollment.objects.filter(external_user_key__in=keys).update(modified=timezone.now() - timedelta(days=days))


def _keys():
    return sorted(ProgramEnrollment.objects.values_list("external_user_key", flat=True))


@pytest.fixture
def waiting(catalog):
    enroll(catalog.CYBERSECURITY, ["old", "recent"])
    enroll_course(catalog.CYBERSECURITY, catalog.SHARED_COURSE, ["old", "recent"])
    _age(["old"], 61)
    _age(["recent"], 30)


def _call(*args, **kwargs):
    out = StringIO()
    call_command(*args, stdout=out, **kwargs)
    return out.getvalue()


# --- expire_waiting_enrollments -------------------------------------------------------------------


def test_expire_command_defaults_to_sixty_days_and_reports(waiting):
    output = _call("expire_waiting_enrollments")

    assert _keys() == ["recent"]
    assert "Deleted 1 waiting program enrollments unmodified for 60 days, with 1 program course enrollments" in output
    assert "history is kept" in output
    assert ProgramEnrollment.history.filter(history_type="-").get().history_change_reason == EXPIRY_REASON.format(
        days=60
    )


@pytest.mark.parametrize("option", ["--expiration_days=20", "--expiration-days=20"])
def test_expire_command_takes_the_built_in_option(waiting, option):
    _call("expire_waiting_enrollments", option)
    assert _keys() == []


def test_expire_command_refuses_a_negative_age(waiting):
    with pytest.raises(CommandError, match="--expiration_days must be 0 or more"):
        _call("expire_waiting_enrollments", "--expiration_days=-3")
    assert _keys() == ["old", "recent"]


def test_expire_command_refuses_a_non_integer_age(waiting):
    with pytest.raises(CommandError, match="invalid int value"):
        _call("expire_waiting_enrollments", "--expiration_days=soon")
    assert _keys() == ["old", "recent"]


# --- reset_enrollment_data ------------------------------------------------------------------------


def test_reset_command_refuses_without_force_and_says_what_it_would_delete(catalog, waiting):
    enroll(catalog.OTHER, ["kept"])
    with pytest.raises(CommandError) as raised:
        _call("reset_enrollment_data", str(catalog.CYBERSECURITY))

    message = str(raised.value)
    assert "Refusing to delete without --force" in message
    assert "2 program enrollments, 2 program course enrollments and 0 pending course roles" in message
    assert str(catalog.CYBERSECURITY) in message
    assert "Nothing was deleted" in message
    assert _keys() == ["kept", "old", "recent"]


def test_reset_command_with_force_deletes_only_the_given_programs(catalog, waiting):
    enroll(catalog.OTHER, ["kept"])
    enroll(catalog.ANALYTICS, ["gone"])

    output = _call("reset_enrollment_data", f"{catalog.CYBERSECURITY},{catalog.ANALYTICS}", force=True)

    assert _keys() == ["kept"]
    assert "Deleted 3 program enrollments, 2 program course enrollments" in output
    assert ProgramEnrollment.history.filter(history_type="-", history_change_reason=RESET_REASON).count() == 3


@pytest.mark.parametrize("programs", ["not-a-uuid", ",", "509c2e6c-f4e2-5b32-bc77-5137159b0719,oops"])
def test_reset_command_refuses_bad_program_lists(catalog, waiting, programs):
    with pytest.raises(CommandError, match="Nothing was deleted"):
        _call("reset_enrollment_data", programs, "--force")
    assert _keys() == ["old", "recent"]


# --- the Celery task ------------------------------------------------------------------------------


def test_task_runs_eagerly_without_a_broker(waiting, settings):
    assert settings.CELERY_TASK_ALWAYS_EAGER  # the standalone host without CELERY_BROKER_URL

    result = tasks.expire_waiting_enrollments.delay(60)

    assert result.get() == {
        "program_enrollments": 1,
        "program_course_enrollments": 1,
        "course_access_role_assignments": 0,
    }
    assert _keys() == ["recent"]


def test_task_is_also_registered_under_the_built_in_name(waiting):
    task = tasks.expire_waiting_enrollments.app.tasks[tasks.BUILT_IN_TASK_NAME]
    task.delay(expiration_days=20)
    assert _keys() == []


def test_beat_schedule_names_a_registered_task(settings):
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in tasks.expire_waiting_enrollments.app.tasks


def _redis_reachable() -> str | None:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as error:  # noqa: BLE001 - any failure means no broker to test against
        return f"no Redis broker at {REDIS_URL}: {error!r}"
    return None


def test_task_message_goes_through_a_real_redis_broker(catalog, capsys):
    """Sent to Redis as a worker would receive it: the message names the task and carries its arguments.

    The message is taken from the queue and run here (a worker in a thread of the test process
    would need the test database shared across threads).
    """
    reason = _redis_reachable()
    if reason:
        with capsys.disabled():
            print(f"\nSKIPPED test_task_message_goes_through_a_real_redis_broker: {reason}")
        pytest.skip(reason)
    from program_enrollments.standalone.celery import app

    enroll(catalog.CYBERSECURITY, ["via-redis", "stays"])
    _age(["via-redis"], 90)
    queue_name = f"program-enrollments-test-{uuid4().hex}"
    with app.connection_for_write(REDIS_URL) as connection:
        assert connection.transport_cls == "redis"
        queue = connection.SimpleQueue(queue_name)
        try:
            # The standalone host's eager mode would run it here (its settings use the CELERY_ namespace).
            eager = app.conf.task_always_eager
            app.conf.update(CELERY_TASK_ALWAYS_EAGER=False)
            try:
                tasks.expire_waiting_enrollments.apply_async(
                    kwargs={"expiration_days": 60},
                    producer=connection.Producer(),
                    queue=queue_name,
                    routing_key=queue_name,
                    exchange=queue_name,
                )
            finally:
                app.conf.update(CELERY_TASK_ALWAYS_EAGER=eager)
            assert _keys() == ["stays", "via-redis"]  # not run yet: waiting in Redis
            message = queue.get(timeout=10)
            args, kwargs, _embed = message.decode()
            app.tasks[message.headers["task"]](*args, **kwargs)
            message.ack()
        finally:
            queue.queue.delete()
            queue.close()
    assert message.headers["task"] == "program_enrollments.tasks.expire_waiting_enrollments"
    assert kwargs == {"expiration_days": 60}
    assert _keys() == ["stays"]
