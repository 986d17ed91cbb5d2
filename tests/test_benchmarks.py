"""The benchmark runner keeps working: every scenario at tiny sizes, and the rows it generates are the app's.

No timing is asserted: the figures of a run are only compared with each other (docs/benchmarks.rst).
"""

import gc
import json
import os
import subprocess
import sys
import weakref
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings

from benchmarks import report
from program_enrollments import api, identity
from program_enrollments.models import ProgramCourseEnrollment, ProgramEnrollment

ROOT = Path(__file__).resolve().parents[1]


def test_runner_measures_every_scenario_once_per_round(tmp_path):
    result_file = tmp_path / "benchmarks.json"
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--rounds=1",
            "--learners=20",
            "--single-learners=3",
            "--transfer-learners=30",
            "--read-rows=200,400",
            "--page-size=20",
            "--read-repeats=3",
            "--rst",
            f"--json={result_file}",
            # Not the runner's default database: a benchmark run may be using it.
            f"--database=test_{settings.DATABASES['default']['NAME']}_benchtest",
        ],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "program_enrollments.standalone.settings"},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    document = json.loads(result_file.read_text(encoding="utf-8"))
    rounds = document["rounds"]
    assert set(rounds) == {
        "put-1000",
        "put-25",
        "put-1",
        "api-1000",
        "link-1000",
        "floor",
        "transfer-30",
        "read-200",
        "read-400",
    }
    assert all(len(figures) == 1 for figures in rounds.values())
    assert rounds["put-1"][0]["learners"] == 3
    assert rounds["put-1000"][0]["learners"] == rounds["floor"][0]["learners"] == 20
    assert rounds["transfer-30"][0]["learners"] == 30
    assert rounds["read-400"][0]["rows"] == 400
    # Each page is fetched --read-repeats times; the round's latency is the median of them.
    read = rounds["read-400"][0]
    for endpoint in ("program", "course"):
        for page in ("first", "deep"):
            latencies = read[f"{endpoint}_{page}_all_seconds"]
            assert len(latencies) == 3
            assert read[f"{endpoint}_{page}_seconds"] == sorted(latencies)[1]
            # Each GET of the larger program was paired with one of the smallest's same page.
            ratios = read[f"{endpoint}_{page}_all_ratios"]
            assert len(ratios) == 3
            assert read[f"{endpoint}_{page}_ratio"] == sorted(ratios)[1]
    assert not any(key.endswith("_ratio") for key in rounds["read-200"][0])
    assert document["summary"]["put-1"]["x_per_learner"] == pytest.approx(1.0)
    assert document["summary"]["floor"]["of_floor"] == pytest.approx(1.0)
    assert {(figures["endpoint"], figures["rows"]) for figures in document["reads"]} == {
        ("program", 200),
        ("course", 200),
        ("program", 400),
        ("course", 400),
    }
    for heading in ("Writes and linking", "Transfers by the command", "Paged reads through REST", "Targets"):
        assert f"{heading}" in finished.stdout
    assert "REST PUT, 25 per request" in finished.stdout


@pytest.mark.django_db
def test_generated_learners_carry_the_apps_identities(catalog):
    from benchmarks import data

    data.prepare_connection()
    waiting = data.waiting_learners(
        "gen",
        12,
        program_uuid=catalog.CYBERSECURITY,
        curriculum_uuid=catalog.CYBERSECURITY_CURRICULUM,
        course_key=catalog.SHARED_COURSE,
    )
    realized = data.realized_learners(
        "real", 5, program_uuid=catalog.CYBERSECURITY, curriculum_uuid=catalog.CYBERSECURITY_CURRICULUM
    )

    enrollments = ProgramEnrollment.objects.for_program(catalog.CYBERSECURITY).select_related("user")
    assert sorted(enrollment.external_user_key for enrollment in enrollments) == sorted(waiting + realized)
    for enrollment in enrollments:
        assert enrollment.external_user_key_normalized == identity.normalize_student_key(enrollment.external_user_key)
        assert enrollment.learner_ref == identity.learner_ref(
            user_id=enrollment.user_id, organization_key="GTx", student_key=enrollment.external_user_key
        )
        if enrollment.user_id:
            assert enrollment.user.username == data.username(enrollment.external_user_key)
    courses = api.fetch_program_course_enrollments(
        program_uuids=[catalog.CYBERSECURITY], course_keys=[catalog.SHARED_COURSE]
    )
    assert courses.count() == 12
    assert all(row.is_active and row.learner_ref == row.program_enrollment.learner_ref for row in courses)
    assert not ProgramCourseEnrollment.objects.filter(program_enrollment__user__isnull=False).exists()


def test_the_clock_starts_with_the_garbage_of_earlier_requests_collected():
    from django.test import Client

    from benchmarks import scenarios

    class Held:
        pass

    response = Client().get("/no-such-page/")  # the test client links each response to itself
    held = Held()
    response.held = held
    watched = weakref.ref(held)
    collecting = gc.isenabled()
    gc.disable()
    try:
        del response, held
        assert watched() is not None  # only a collection frees a cycle

        scenarios.start_clock()

        assert watched() is None
    finally:
        if collecting:
            gc.enable()


def test_ratios_compare_medians_of_the_same_run():
    results = {
        "put-1": [{"learners": 10, "seconds": seconds} for seconds in (1.0, 2.0, 10.0)],
        "floor": [{"learners": 1000, "seconds": seconds} for seconds in (0.1, 0.2, 0.05)],
        "put-1000": [{"learners": 1000, "seconds": seconds} for seconds in (1.0, 0.5, 2.0)],
    }

    summaries = report.summary(results)

    assert summaries["put-1"]["median"] == 5
    assert (summaries["put-1000"]["min"], summaries["put-1000"]["max"]) == (500, 2000)
    assert summaries["put-1000"]["x_per_learner"] == 200
    assert summaries["put-1000"]["of_floor"] == 0.1


def test_read_ratios_are_the_median_of_the_rounds_paired_ratios():
    def round_(rows, seconds, ratio=None):
        figures = {"rows": rows}
        for endpoint in ("program", "course"):
            for page in ("first", "deep"):
                figures[f"{endpoint}_{page}_seconds"] = seconds
                figures[f"{endpoint}_{page}_queries"] = 3
                if ratio is not None:
                    figures[f"{endpoint}_{page}_ratio"] = ratio
        return figures

    scenarios = [SimpleNamespace(key="read-10"), SimpleNamespace(key="read-1000")]
    # The large size's medians are twice the small one's, but each round's paired GETs (taken
    # side by side, the slow spells falling on both) were within 10%: the pairs decide.
    results = {
        "read-10": [round_(10, seconds) for seconds in (0.01, 0.01, 0.05)],
        "read-1000": [round_(1000, seconds, ratio) for seconds, ratio in ((0.05, 1.1), (0.02, 0.9), (0.02, 1.0))],
    }

    summaries = {
        (figures["endpoint"], figures["rows"]): figures for figures in report.reads_summary(scenarios, results)
    }

    assert summaries[("program", 10)]["first_ratio"] == 1.0
    assert summaries[("program", 1000)]["first_ms"] == 20
    assert summaries[("course", 1000)]["deep_ratio"] == 1.0
    # A run saved before the pairing: the ratio of the medians.
    for round_figures in results["read-1000"]:
        for key in [key for key in round_figures if key.endswith("_ratio")]:
            del round_figures[key]
    unpaired = report.reads_summary(scenarios, results)
    assert [figures["first_ratio"] for figures in unpaired if figures["rows"] == 1000] == [2.0, 2.0]


def test_tables_are_restructuredtext_simple_tables():
    text = report.table(["scenario", "learners/s"], [["REST PUT", "1,234"], ["floor", "56"]])

    assert text.splitlines() == [
        "========  ==========",
        "scenario  learners/s",
        "========  ==========",
        "REST PUT       1,234",
        "floor             56",
        "========  ==========",
    ]
