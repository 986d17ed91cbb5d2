"""The runner's tables: medians over rounds, ratios to the references of the same run.

Tables are reStructuredText "simple tables", which read as plain text too;
``docs/benchmarks.rst`` takes them as they are printed with ``--rst``.
"""

from __future__ import annotations

import statistics

# The scenarios every learners-per-second figure is compared with (keys in runner.SCENARIOS).
PER_LEARNER = "put-1"
FLOOR = "floor"


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A reStructuredText simple table: the first column left-aligned, the others right-aligned."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    border = "  ".join("=" * width for width in widths)

    def line(cells):
        return "  ".join(
            str(cell).ljust(width) if index == 0 else str(cell).rjust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join([border, line(headers), border, *(line(row) for row in rows), border])


def median(values):
    return statistics.median(values) if values else None


def rates(rounds: list[dict]) -> list[float]:
    """Learners per second of each round."""
    return [round_["learners"] / round_["seconds"] for round_ in rounds]


def summary(results: dict[str, list[dict]]) -> dict[str, dict]:
    """Median, min and max learners/s of each learners scenario, with its ratios to the references."""
    summaries = {}
    for key, rounds in results.items():
        if not rounds or "learners" not in rounds[0]:
            continue
        values = rates(rounds)
        summaries[key] = {"median": median(values), "min": min(values), "max": max(values)}
    per_learner = summaries.get(PER_LEARNER, {}).get("median")
    floor = summaries.get(FLOOR, {}).get("median")
    for figures in summaries.values():
        figures["x_per_learner"] = figures["median"] / per_learner if per_learner else None
        figures["of_floor"] = figures["median"] / floor if floor else None
    return summaries


def _number(value, digits=0) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.{digits}f}"


def _ratio(value) -> str:
    if value is None:
        return "n/a"
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def learners_table(scenarios, results, summaries) -> str:
    """Writes, linking and the floor: learners/s (median, min, max) and the two ratios."""
    rows = []
    for scenario in scenarios:
        figures = summaries.get(scenario.key)
        if figures is None:
            continue
        rows.append(
            [
                scenario.title,
                _number(results[scenario.key][0]["learners"]),
                _number(figures["median"]),
                _number(figures["min"]),
                _number(figures["max"]),
                _ratio(figures["x_per_learner"]),
                _ratio(figures["of_floor"]),
            ]
        )
    headers = ["scenario", "learners", "learners/s", "min", "max", "x one per request", "of floor"]
    return table(headers, rows)


def transfers_table(scenarios, results, summaries) -> str:
    """Transfers by the command: seconds, learners/s, the ratios, and the peak memory growth."""
    rows = []
    for scenario in scenarios:
        rounds = results.get(scenario.key)
        if not rounds:
            continue
        figures = summaries[scenario.key]
        seconds = [round_["seconds"] for round_ in rounds]
        growth = [round_["rss_growth_mb"] for round_ in rounds]
        rows.append(
            [
                _number(rounds[0]["learners"]),
                _number(median(seconds), 1),
                f"{min(seconds):.1f}-{max(seconds):.1f}",
                _number(median([round_["process_seconds"] for round_ in rounds]), 1),
                _number(figures["median"]),
                _ratio(figures["x_per_learner"]),
                _ratio(figures["of_floor"]),
                _number(median(growth), 1),
                _number(max(growth), 1),
            ]
        )
    headers = [
        "learners",
        "seconds",
        "min-max",
        "process s",
        "learners/s",
        "x one per request",
        "of floor",
        "RSS growth MB",
        "max",
    ]
    return table(headers, rows)


def reads_summary(scenarios, results) -> list[dict]:
    """Per endpoint and size: median latencies of the first and the deep page, the most queries a page took."""
    summaries = []
    for scenario in scenarios:
        rounds = results.get(scenario.key)
        if not rounds:
            continue
        for endpoint in ("program", "course"):
            figures = {"endpoint": endpoint, "rows": rounds[0]["rows"]}
            for page in ("first", "deep"):
                values = [round_[f"{endpoint}_{page}_seconds"] * 1000 for round_ in rounds]
                figures[f"{page}_ms"] = median(values)
                figures[f"{page}_ms_min"], figures[f"{page}_ms_max"] = min(values), max(values)
                figures[f"{page}_queries"] = max(round_[f"{endpoint}_{page}_queries"] for round_ in rounds)
            summaries.append(figures)
            for page in ("first", "deep"):
                # Paired with the smallest size's page in each round (see scenarios.reads): the
                # median of the rounds' ratios. Runs saved before the pairing: the ratio of medians.
                key = f"{endpoint}_{page}_ratio"
                paired = [round_[key] for round_ in rounds if key in round_]
                if paired:
                    figures[f"{page}_ratio"] = median(paired)
    for figures in summaries:
        smallest = min((other for other in summaries if other["endpoint"] == figures["endpoint"]), key=_rows)
        for page in ("first", "deep"):
            if figures is smallest:
                figures[f"{page}_ratio"] = 1.0
            elif f"{page}_ratio" not in figures:
                figures[f"{page}_ratio"] = figures[f"{page}_ms"] / smallest[f"{page}_ms"]
    return summaries


def _rows(figures):
    return figures["rows"]


def reads_table(summaries) -> str:
    rows = [
        [
            f"{figures['endpoint']} enrollments",
            _number(figures["rows"]),
            _number(figures["first_ms"], 1),
            _number(figures["deep_ms"], 1),
            f"{figures['first_queries']} / {figures['deep_queries']}",
            _ratio(figures["first_ratio"]),
            _ratio(figures["deep_ratio"]),
        ]
        for figures in summaries
    ]
    headers = ["endpoint", "rows", "first page ms", "deep page ms", "queries", "first x smallest", "deep x smallest"]
    return table(headers, rows)
