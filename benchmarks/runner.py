"""The benchmark runner: every scenario, in interleaved rounds, on the configured database.

    python -m benchmarks [--rounds N] [--learners N] [--only SCENARIO,...] [--full] [--rst] [--json FILE]

See docs/benchmarks.rst. The database is the one ``DATABASE_URL`` selects
(SQLite by default); the runner makes a throwaway database beside it
(``test_<name>_bench``, or a temporary file for SQLite), sets it up once, and
drops it at the end.

Round 1 of every scenario runs, then round 2, and so on, so that a slow spell
of a shared machine falls on every scenario alike; each round works on fresh
learners. The figures are the median over the rounds, beside the minimum and
the maximum, and the ratios compare medians of the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import django

from benchmarks import report

ROOT = Path(__file__).resolve().parents[1]

# The targets, checked on each run against the figures measured in it.
TARGET_PUT_RATE = 5000
TARGET_PUT_OF_FLOOR = 0.2
TARGET_OTHER_DATABASES = 2
TARGET_TRANSFER_LEARNERS = 100_000
TARGET_TRANSFER_SECONDS = 30
TARGET_TRANSFER_RSS_MB = 50
TARGET_PAGE_QUERIES = 5
TARGET_PAGE_RATIO = 1.2


def _sizes(text: str) -> list[int]:
    sizes = []
    for part in text.split(","):
        part = part.strip().lower().replace("_", "")
        scale = {"k": 1000, "m": 1_000_000}.get(part[-1:], 1)
        sizes.append(int(float(part[:-1] if scale > 1 else part) * scale))
    return sorted(set(sizes))


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Learners per second of bulk writes, linking and transfers, and latency of paged reads, "
        "in interleaved rounds on the configured database (DATABASE_URL), with ratios to the "
        "one-learner-per-request path and to a raw-SQL floor measured in the same run.",
    )
    parser.add_argument("--rounds", type=int, default=5, help="rounds of every scenario (default 5)")
    parser.add_argument(
        "--learners", type=int, default=1000, help="learners a round of each write, linking and the floor (1000)"
    )
    parser.add_argument(
        "--single-learners",
        type=int,
        default=50,
        help="learners a round of the one-learner-per-request path (default 50; its rate does not depend on it)",
    )
    parser.add_argument(
        "--transfer-learners",
        type=_sizes,
        default=None,
        metavar="N[,N]",
        help="learners a transfer moves, one scenario per size (default 10k; with --full 10k,100k)",
    )
    parser.add_argument(
        "--read-rows",
        type=_sizes,
        default=None,
        metavar="N[,N]",
        help="learners of the read programs, one scenario per size (default 10k,100k; with --full 10k,1M)",
    )
    parser.add_argument(
        "--transfer-option",
        action="append",
        default=[],
        metavar="OPTION",
        help="an option for the transfer command, e.g. --transfer-option=--batch-size=5000 (repeatable)",
    )
    parser.add_argument("--page-size", type=int, default=1000, help="rows a page of the reads (default 1000)")
    parser.add_argument(
        "--read-repeats",
        type=int,
        default=5,
        metavar="N",
        help="GETs of each page a round; the round's latency is their median (default 5)",
    )
    parser.add_argument("--full", action="store_true", help="the large sizes: transfers of 100k, reads of 1M rows")
    parser.add_argument(
        "--only",
        default="",
        metavar="SCENARIO,...",
        help="run only these scenarios or groups (writes, linking, transfers, reads; or keys such as put-1000, "
        "transfer-10000, read-1000000); the ratios need put-1 and floor",
    )
    parser.add_argument(
        "--database",
        metavar="NAME",
        help="name of the throwaway database on PostgreSQL and MySQL/MariaDB (default test_<name>_bench, "
        "<name> being DATABASE_URL's); dropped at the end",
    )
    parser.add_argument("--rst", action="store_true", help="print the tables as the docs page takes them")
    parser.add_argument("--json", metavar="FILE", help="also write every round's figures to FILE")
    parser.add_argument(
        "--compare",
        metavar="FILE",
        help="a PostgreSQL run saved with --json: check MariaDB's or SQLite's PUT against it (within 2x)",
    )
    parser.add_argument("--report", metavar="FILE", help="print the tables of a run saved with --json, and exit")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    return parser


def build_scenarios(options, context, vendor=None) -> list:
    """The scenarios, in the order of a round."""
    from benchmarks import scenarios

    listed = [
        scenarios.Scenario("put-1000", scenarios.WRITES, "REST PUT, 1000 per request"),
        scenarios.Scenario("put-25", scenarios.WRITES, "REST PUT, 25 per request"),
        scenarios.Scenario("put-1", scenarios.WRITES, "REST PUT, one learner per request"),
        scenarios.Scenario("api-1000", scenarios.WRITES, "Python API write, 1000 per call"),
        scenarios.Scenario("link-1000", scenarios.LINKING, "linking, 1000 per call"),
        scenarios.Scenario("floor", scenarios.WRITES, _floor_title(vendor)),
    ]
    for size in options.transfer_learners:
        listed.append(scenarios.Scenario(f"transfer-{size}", scenarios.TRANSFERS, f"transfer of {size:,} learners"))
    for size in options.read_rows:
        listed.append(scenarios.Scenario(f"read-{size}", scenarios.READS, f"reads, {size:,} rows"))
    if context is not None:
        for scenario in listed:
            scenario.measure = _measure(scenario, options, context)
    return listed


def _measure(scenario, options, context):
    from benchmarks import scenarios

    key = scenario.key
    if key.startswith("put-"):
        per_request = int(key.split("-")[1])
        count = options.single_learners if per_request == 1 else options.learners
        return scenarios.rest_put(context, learners=count, per_request=per_request)
    if key == "api-1000":
        return scenarios.api_write(context, learners=options.learners, per_call=1000)
    if key == "link-1000":
        return scenarios.linking(context, learners=options.learners, per_call=1000)
    if key == "floor":
        return scenarios.floor(context, learners=options.learners)
    if key.startswith("transfer-"):
        return scenarios.transfer(context, learners=int(key.split("-")[1]), options=options.transfer_option)
    return scenarios.reads(
        context,
        rows=int(key.split("-")[1]),
        reference_rows=min(options.read_rows),
        page_size=options.page_size,
        repeats=options.read_repeats,
    )


def _floor_title(vendor=None) -> str:
    from django.db import connection

    if (vendor or connection.vendor) == "postgresql":
        return "floor: INSERT ... SELECT FROM unnest"
    return "floor: multi-row INSERT ... VALUES"


def _selected(listed, only: str):
    if not only:
        return listed
    wanted = {name.strip() for name in only.split(",") if name.strip()}
    chosen = [scenario for scenario in listed if scenario.key in wanted or scenario.group in wanted]
    unknown = wanted - {scenario.key for scenario in listed} - {scenario.group for scenario in listed}
    if unknown:
        raise SystemExit(f"unknown scenarios: {', '.join(sorted(unknown))} (see --list)")
    return chosen


def main(argv=None) -> None:
    options = parser().parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "program_enrollments.standalone.settings")
    # Debug would keep every query's text in memory, which production does not.
    os.environ["DJANGO_DEBUG"] = "0"
    django.setup()
    from benchmarks import scenarios

    if options.transfer_learners is None:
        options.transfer_learners = [10_000, 100_000] if options.full else [10_000]
    if options.read_rows is None:
        options.read_rows = [10_000, 1_000_000] if options.full else [10_000, 100_000]
    smallest = min(options.read_rows)
    if scenarios.deep_start(smallest) + options.page_size > smallest:
        raise SystemExit(f"--read-rows: {smallest} rows leave no full deep page of {options.page_size}")
    if options.report:
        # The tables of a saved run, as it printed them (with --rst: for the docs page).
        document = json.loads(Path(options.report).read_text(encoding="utf-8"))
        saved = argparse.Namespace(**{**vars(options), **document["options"], "rst": options.rst, "json": None})
        print_report(saved, list(document["rounds"]), document["rounds"], document["database"])
        return
    if options.list:
        for scenario in build_scenarios(options, None):
            print(f"{scenario.key:<18}{scenario.group:<11}{scenario.title}")
        return
    if options.compare and not Path(options.compare).is_file():
        raise SystemExit(f"--compare: no such file: {options.compare}")
    selected_keys = [scenario.key for scenario in _selected(build_scenarios(options, None), options.only)]
    results, context_info = _run(options, selected_keys)
    print_report(options, selected_keys, results, context_info)


def _run(options, selected_keys):
    from django.db import connection
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases

    from benchmarks import scenarios

    setup_test_environment(debug=False)
    original_url = os.environ.get("DATABASE_URL", "")
    settings = connection.settings_dict
    started = time.perf_counter()
    with scenarios.temporary_directory() as directory:
        directory = Path(directory)
        if connection.vendor == "sqlite":
            # The transfer command runs in another process, which must reach the database.
            settings["TEST"]["NAME"] = str(directory / "benchmark.sqlite3")
        else:
            settings["TEST"]["NAME"] = options.database or f"test_{settings['NAME']}_bench"
        old_config = setup_databases(verbosity=0, interactive=False)
        try:
            info = _describe_database()
            context = _context(directory, _database_url(original_url, settings))
            listed = [scenario for scenario in build_scenarios(options, context) if scenario.key in selected_keys]
            if any(scenario.group == scenarios.READS for scenario in listed):
                sizes = [int(scenario.key.split("-")[1]) for scenario in listed if scenario.group == scenarios.READS]
                _progress(f"making the read programs ({', '.join(f'{size:,}' for size in sizes)} learners)")
                scenarios.make_read_programs(context, sizes)
            scenarios.warm_up(context)
            results = {scenario.key: [] for scenario in listed}
            for number in range(1, options.rounds + 1):
                for scenario in listed:
                    _progress(f"round {number}/{options.rounds}: {scenario.title}")
                    context.authenticate()
                    results[scenario.key].append(scenario.measure(number))
                    # Maintenance's part on a live database: the next scenario starts on fresh statistics,
                    # with no vacuum or checkpoint work left over from this one.
                    scenarios.data.settle()
                if options.json:
                    # What was measured so far survives a failure of a later round.
                    _save(options, {"database": info, "rounds": results, "complete": False})
            info["minutes"] = (time.perf_counter() - started) / 60
        finally:
            connection.close()
            teardown_databases(old_config, verbosity=0)
    return results, info


def _context(directory, database_url):
    from django.contrib.auth import get_user_model

    from benchmarks import data, scenarios
    from tests import catalog

    data.prepare_connection()
    catalog.load()
    # Writes need the change permissions (docs/decisions/0006): a superuser has them all.
    staff = get_user_model().objects.create(username="benchmark-staff", is_staff=True, is_superuser=True)
    return scenarios.Context(catalog=catalog, caller=staff, directory=directory, database_url=database_url)


def _database_url(original: str, settings: dict) -> str:
    """``DATABASE_URL`` of the benchmark's database, for the processes the transfers start."""
    from urllib.parse import quote, urlsplit, urlunsplit

    if settings["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings['NAME']}"
    parts = urlsplit(original)
    return urlunsplit((parts.scheme, parts.netloc, "/" + quote(settings["NAME"]), parts.query, ""))


def _describe_database() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT 'SQLite ' || sqlite_version()")
        else:
            cursor.execute("SELECT version()")
        version = cursor.fetchone()[0]
    if connection.vendor == "postgresql":
        version = " ".join(version.split()[:2])
    elif connection.vendor == "mysql":
        version = ("MariaDB " if "mariadb" in version.lower() else "MySQL ") + version.split("-")[0]
    return {
        "vendor": connection.vendor,
        "version": version,
        "commit": _commit(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "cpus": os.cpu_count(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _commit() -> str:
    """The commit the code was measured on, marked when the working tree differs from it."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit} (with uncommitted changes)" if changed else commit


def _progress(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def print_report(options, selected_keys, results, info) -> None:
    from benchmarks import scenarios

    listed = [scenario for scenario in build_scenarios(options, None, info["vendor"]) if scenario.key in selected_keys]
    summaries = report.summary(results)
    learners = [scenario for scenario in listed if scenario.group in (scenarios.WRITES, scenarios.LINKING)]
    transfers = [scenario for scenario in listed if scenario.group == scenarios.TRANSFERS]
    reads = [scenario for scenario in listed if scenario.group == scenarios.READS]
    read_summaries = report.reads_summary(reads, results)
    heading = "rst" if options.rst else "text"
    measured = min((len(rounds) for rounds in results.values()), default=0)
    duration = f"{info['minutes']:.1f} minutes" if "minutes" in info else "an interrupted run"
    out = []
    title = f"{info['version']}"
    out += _heading(title, "~", heading)
    out.append(
        f"Commit {info['commit']}, {info['date']}; Python {info['python']}, Django {info['django']}, "
        f"{info['cpus']} CPUs. {_rounds(measured)} ({duration})."
    )
    out.append("")
    if learners:
        out += _heading("Writes and linking", "^", heading)
        out += [report.learners_table(learners, results, summaries), ""]
    if transfers:
        out += _heading("Transfers by the command", "^", heading)
        out += [report.transfers_table(transfers, results, summaries), ""]
    if reads:
        out += _heading(f"Paged reads through REST, {options.page_size} to a page", "^", heading)
        out += [report.reads_table(read_summaries), ""]
    compare = json.loads(Path(options.compare).read_text(encoding="utf-8")) if options.compare else None
    checked = targets(info, summaries, results, read_summaries, options.page_size, compare)
    if checked:
        out += _heading("Targets", "^", heading)
        out += [report.table(["target", "measured", "met"], checked), ""]
    print("\n".join(out))
    if options.json:
        _save(
            options,
            {
                "database": info,
                "rounds": results,
                "complete": True,
                "summary": summaries,
                "reads": read_summaries,
                "targets": checked,
            },
        )


def _save(options, document) -> None:
    saved_options = {key: value for key, value in vars(options).items() if key not in ("json", "report", "compare")}
    document = {**document, "options": saved_options}
    Path(options.json).write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")


def _rounds(count: int) -> str:
    return "One round" if count == 1 else f"Median of {count} interleaved rounds"


def _heading(text, underline, style) -> list[str]:
    if style == "rst":
        return [text, underline * len(text), ""]
    return [text, ""]


def targets(info, summaries, results, read_summaries, page_size=1000, compare=None) -> list[list[str]]:
    """The targets this run's figures can be checked against: [target, measured, met].

    ``compare``: a PostgreSQL run saved with ``--json``, for the other databases' target.
    """
    checked = []

    def check(target, measured, met):
        checked.append([target, measured, "yes" if met else "NO"])

    put = summaries.get("put-1000")
    if put:
        suffix = "" if info["vendor"] == "postgresql" else " (a PostgreSQL target)"
        check(
            f"REST PUT 1000 >= {TARGET_PUT_RATE:,} learners/s{suffix}",
            f"{put['median']:,.0f}",
            put["median"] >= TARGET_PUT_RATE,
        )
        if put["of_floor"] is not None:
            check(
                f"REST PUT 1000 >= {TARGET_PUT_OF_FLOOR} of the floor",
                f"{put['of_floor']:.3f}",
                put["of_floor"] >= TARGET_PUT_OF_FLOOR,
            )
    reference = (compare or {}).get("summary", {}).get("put-1000")
    if put and reference and info["vendor"] != "postgresql":
        check(
            f"REST PUT 1000 within {TARGET_OTHER_DATABASES}x of PostgreSQL ({reference['median']:,.0f}/s, "
            f"{compare['database']['date']})",
            f"{put['median']:,.0f}",
            put["median"] * TARGET_OTHER_DATABASES >= reference["median"],
        )
    transfer = results.get(f"transfer-{TARGET_TRANSFER_LEARNERS}")
    if transfer:
        seconds = report.median([round_["seconds"] for round_ in transfer])
        growth = max(round_["rss_growth_mb"] for round_ in transfer)
        check(
            f"transfer of 100,000 <= {TARGET_TRANSFER_SECONDS} s",
            f"{seconds:.1f} s",
            seconds <= TARGET_TRANSFER_SECONDS,
        )
        check(f"its peak RSS growth < {TARGET_TRANSFER_RSS_MB} MB", f"{growth:.1f} MB", growth < TARGET_TRANSFER_RSS_MB)
    if read_summaries:
        queries = max(max(figures["first_queries"], figures["deep_queries"]) for figures in read_summaries)
        check(f"queries per page of {page_size} <= {TARGET_PAGE_QUERIES}", str(queries), queries <= TARGET_PAGE_QUERIES)
        largest = max(figures["rows"] for figures in read_summaries)
        if largest > min(figures["rows"] for figures in read_summaries):
            ratio = max(
                max(figures["first_ratio"], figures["deep_ratio"])
                for figures in read_summaries
                if figures["rows"] == largest
            )
            check(
                f"page latency at {largest:,} rows <= {TARGET_PAGE_RATIO} x the smallest",
                f"{ratio:.2f}",
                ratio <= TARGET_PAGE_RATIO,
            )
    return checked
