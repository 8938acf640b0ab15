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
    #: (the value, how it reads) from its benchmark's JSON; ``None``: the benchmark has not measured it
    figure: Callable[[dict], tuple[float, str] | None]
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


FEED, POLLING = "change feed (fallback 5 s)", "polling every 0.2 s (CHANGE_FEED=off)"


def _feed_freshness(result: dict) -> tuple[float, str]:
    feed, polling = (result["modes"][mode]["freshness"] for mode in (FEED, POLLING))
    return feed["p95_ms"], f"{feed['p95_ms']} ms (polling at 0.2 s: {polling['p95_ms']} ms)"


def _idle_ratio(key: str, unit: str) -> Callable[[dict], tuple[float, str]]:
    """Feed over polling, an idle game once its run has let go of its Dask workers; the first
    stretch, while it keeps them, said beside (the benchmark measures both)."""

    def figure(result: dict) -> tuple[float, str]:
        idle = [result["modes"][mode]["idle"] for mode in (FEED, POLLING)]
        feed, polling = (i[key] for i in idle)
        said = f"{feed} / {polling} {unit} = {feed / polling:.3f}"
        if all("first_seconds" in i for i in idle):
            first = [i["first_seconds"][key] for i in idle]
            said += f" (its first {idle[0]['first_seconds']['seconds']:.0f} s: {first[0] / first[1]:.3f})"
        return feed / polling, said

    return figure


def _subscribers(result: dict) -> tuple[float, str] | None:
    after = result.get("results", {}).get("after (this tree)", {})
    runs, polled = after.get("s3_to_subscribers_feed_auto"), after.get("s3_to_subscribers_feed_off")
    if not runs or not polled:
        return None
    worst = max(run["p95_ms"] for run in runs)
    return worst, f"{worst} ms, the worse of {len(runs)} runs (polling: {max(run['p95_ms'] for run in polled)} ms)"


def _thousand_games(result: dict, feed: str, reader: str = "s3fs") -> dict | None:
    return next(
        (
            r
            for r in result["runs"]
            if r["games"] == 1000
            and r.get("cluster", "threads") == "threads"
            and r.get("change_feed", "off") == feed
            and r.get("reader", "s3fs") == reader
        ),
        None,
    )


def _thousand_freshness(result: dict) -> tuple[float, str] | None:
    run = _thousand_games(result, "auto")
    if run is None:
        return None
    obstore = _thousand_games(result, "auto", "obstore")
    through = "" if obstore is None else f"; through obstore: {obstore['p95_s']} s"
    return run["p95_s"], f"{run['p95_s']} s ({run['settled_p95_s']} s after the first 10 s{through})"


def _cpu_ratio(result: dict, reader: str) -> tuple[float, str] | None:
    feed, polling = _thousand_games(result, "auto", reader), _thousand_games(result, "off", reader)
    if feed is None or polling is None:
        return None
    whole, said = _per_event_ratio(feed, polling, "flow_ms_per_event")
    if "following_ms_per_event" not in feed or "following_ms_per_event" not in polling:
        return whole, said
    # while the games are written: the run's start and the day's finalize, the same in both modes, left out
    ratio, written = _per_event_ratio(feed, polling, "following_ms_per_event")
    return ratio, f"{written} while the games are written ({said} over the whole run)"


def _per_event_ratio(feed: dict, polling: dict, key: str) -> tuple[float, str]:
    ratio = feed[key] / polling[key]
    return ratio, f"{feed[key]} / {polling[key]} ms per event = {ratio:.2f}"


def _thousand_cpu(result: dict) -> tuple[float, str] | None:
    ratio = _cpu_ratio(result, "s3fs")
    obstore = _cpu_ratio(result, "obstore")
    if ratio is None or obstore is None:
        return ratio
    return ratio[0], f"{ratio[1]} (through obstore: {obstore[1]})"


def _many_objects(result: dict) -> tuple[float, str] | None:
    runs = {r.get("reader", "s3fs"): r for r in result["runs"] if r["change_feed"] == "auto"}
    run = runs.get("s3fs")
    if run is None:
        return None
    through = "" if "obstore" not in runs else f"; through obstore: {runs['obstore']['p95_s']} s"
    return run["p95_s"], (
        f"{run['p95_s']} s ({run['settled_p95_s']} s after the first {run['settled_after_s']:.0f} s; "
        f"{run['games']:,} games, {run['events']:,} events in {run['seconds']:.0f} s, "
        f"{run['never_shown']} never shown; the flow {run['flow_cpu_share']:.0%} of a core{through})"
    )


#: issue #46's, each against the feed's benchmarks
FEED_TARGETS = (
    Target(
        "S3 write -> box score in MongoDB, one game, with the feed (p95)",
        "<= 50 ms",
        _feed_freshness,
        lambda value: value <= 50,
        "change_feed",
    ),
    Target(
        "idle game, S3 requests per minute: feed / polling at 0.2 s",
        "<= 0.05",
        _idle_ratio("s3_requests_per_min", "requests/min"),
        lambda value: value <= 0.05,
        "change_feed",
    ),
    Target(
        "idle game, CPU per minute: feed / polling at 0.2 s",
        "<= 0.05",
        _idle_ratio("cpu_ms_per_min", "ms/min"),
        lambda value: value <= 0.05,
        "change_feed",
    ),
    Target(
        "S3 write -> 1,000 event-stream subscribers, with the feed (p95)",
        "<= 100 ms",
        _subscribers,
        lambda value: value <= 100,
        "page_load",
    ),
    Target(
        "1,000 games at 10x, threads, the feed with a 5 s fallback: freshness p95",
        "<= 0.25 s",
        _thousand_freshness,
        lambda value: value <= 0.25,
        "many_games",
    ),
    Target(
        "1,000 games at 10x: flow CPU per event, feed / polling",
        "<= 0.5",
        _thousand_cpu,
        lambda value: value <= 0.5,
        "many_games",
    ),
    Target(
        "10,000 objects under one prefix, 1 % changing a second: freshness p95",
        "<= 0.5 s",
        _many_objects,
        lambda value: value <= 0.5,
        "many_objects",
    ),
)


def target_rows(targets: tuple[Target, ...] = TARGETS) -> list[list[str]]:
    """Each target: measure, target, figure, and whether it holds (or that its benchmark has not run)."""
    rows = []
    for target in targets:
        result = load(target.source)
        figure = None if result is None else target.figure(result)
        if figure is None:
            rows.append([target.measure, target.bound, f"not measured (bench/results/{target.source}.json)", "-"])
            continue
        value, shown = figure
        rows.append([target.measure, target.bound, shown, "met" if target.met(value) else "MISSED"])
    return rows


HEADERS = ["measure", "target", "this run", "verdict"]


def targets_markdown(targets: tuple[Target, ...] = TARGETS) -> list[str]:
    """The targets as a markdown table, for bench/results/README.md."""
    return [tabulate(target_rows(targets), headers=HEADERS, tablefmt="github"), ""]


if __name__ == "__main__":
    print("Issue #35's targets")
    print(tabulate(target_rows(), headers=HEADERS))
    print()
    print("Issue #46's targets (the change feed)")
    print(tabulate(target_rows(FEED_TARGETS), headers=HEADERS))
