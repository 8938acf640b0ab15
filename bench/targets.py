"""Issue #35's targets, each row against the figure its benchmark saved (``make bench`` prints it).

    .venv/bin/python -m bench.targets

Every figure comes from the JSON of one benchmark's last run in bench/results: the long read
(``bench.long_stream``), the tick (``bench.tick_cost``), the start-up (``bench.startup``) and the
test suite on a clean clone (``bench.suite``). A row whose benchmark has not run says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tabulate import tabulate

from bench.common import load
from bench.startup import RUNNING


@dataclass(frozen=True)
class Target:
    """One figure the issue asks for: what it measures, its bound, and where the figure comes from."""

    measure: str
    bound: str
    figure: Callable[[dict], tuple[float, str]]  # (the value, how it reads) from its benchmark's JSON
    met: Callable[[float], bool]
    source: str  # the benchmark's JSON in bench/results


def _long_row(result: dict) -> dict:
    return max(result["runs"], key=lambda r: r["events"])


def _long_ratio(top: str, bottom: str, ratio: str) -> Callable[[dict], tuple[float, str]]:
    """The ratio of two times at the longest stream, as the long-stream benchmark computed it."""

    def figure(result: dict) -> tuple[float, str]:
        row = _long_row(result)
        return row[ratio], f"{row[top]} s / {row[bottom]} s = {row[ratio]}x"

    return figure


def _slowest_against_before(result: dict) -> tuple[float, str]:
    runs = [r for r in result["runs"] if "after_over_before" in r]
    worst = max(runs, key=lambda r: r["after_over_before"])
    sizes = ", ".join(f"{r['events']:,}: {r['after_over_before']}x" for r in runs)
    return worst["after_over_before"], f"this tree / {runs[0]['before']}: {sizes}"


def _tick_after(result: dict) -> tuple[float, str]:
    after = result["medians"]["after (this tree)"]
    before = next(m for label, m in result["medians"].items() if label.startswith("before"))
    return after["changed_all_in_ms"], (
        f"{after['changed_all_in_ms']:.2f} ms all in ({after['changed_game_ms']:.2f} ms less the idle polls); "
        f"before: {before['changed_all_in_ms']:.2f} ms"
    )


def _startup(result: dict) -> tuple[float, str]:
    value = result["median_s"][RUNNING]
    shown = f"{value:.2f} s (runs: {', '.join(f'{v:.2f}' for v in result['runs'][RUNNING])})"
    if "beyond_bare_s" in result:
        shown += f"; {result['beyond_bare_s']:.2f} s beyond a bare Prefect flow's body"
    return value, shown


def _long_read(measure: str, bound: str, met: Callable[[float], bool], top: str, bottom: str, ratio: str) -> Target:
    """A target on the 10^7-event read, a ratio of two of its times."""
    return Target(measure, bound, _long_ratio(top, bottom, ratio), met, "long_stream")


TARGETS = (
    _long_read(
        "10^7 events, full tally with dedup: ours / pyarrow group-by alone",
        "<= 2x",
        lambda value: value <= 2.0,
        *("ours_s", "arrow_floor_s", "ours_over_arrow_floor"),
    ),
    _long_read(
        "10^7 events: ours / pyarrow + pandas with dedup",
        "<= 1x",
        lambda value: value <= 1.0,
        *("ours_s", "floor_s", "ours_over_floor"),
    ),
    _long_read(
        "10^7 events: PySpark local[2] with dedup / ours",
        ">= 4x",
        lambda value: value >= 4.0,
        *("spark_s", "ours_s", "spark_over_ours"),
    ),
    Target(
        "10^5 to 10^7 events: this tree / f024088",
        "<= 1x at every size",
        _slowest_against_before,
        lambda value: value <= 1.0,
        "long_stream",
    ),
    Target(
        "CPU per changed game in a tick, 100 games (median, all in)",
        "<= 2.9 ms",
        _tick_after,
        lambda value: value <= 2.9,
        "tick_cost",
    ),
    Target(
        "start-up to the first poll, running Prefect server (median)",
        "<= 2.0 s",
        _startup,
        lambda value: value <= 2.0,
        "startup",
    ),
    Target(
        "`make test` on a clean clone, in all",
        "<= 8 min",
        lambda r: (r["seconds"] / 60, f"{r['seconds'] / 60:.1f} min ({r['tests_seconds'] / 60:.1f} min of tests)"),
        lambda value: value <= 8.0,
        "suite",
    ),
)


def target_rows() -> list[list[str]]:
    """Each target: measure, target, figure, and whether it holds (or that its benchmark has not run)."""
    rows = []
    for target in TARGETS:
        result = load(target.source)
        if result is None:
            rows.append([target.measure, target.bound, f"not measured (bench/results/{target.source}.json)", "-"])
            continue
        value, shown = target.figure(result)
        rows.append([target.measure, target.bound, shown, "met" if target.met(value) else "MISSED"])
    return rows


HEADERS = ["measure", "target", "this run", "verdict"]


def targets_markdown() -> list[str]:
    """The targets as a markdown table, for bench/results/README.md."""
    return [tabulate(target_rows(), headers=HEADERS, tablefmt="github"), ""]


if __name__ == "__main__":
    print(tabulate(target_rows(), headers=HEADERS))
