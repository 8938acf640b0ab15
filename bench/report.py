"""Summarise bench/results/*.json as a markdown table (bench/results/README.md) and a chart."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from bench.common import RESULTS


def main() -> None:
    lines = ["# Benchmark results", ""]
    long = json.loads((RESULTS / "long_stream.json").read_text()) if (RESULTS / "long_stream.json").exists() else None
    fresh = json.loads((RESULTS / "freshness.json").read_text()) if (RESULTS / "freshness.json").exists() else None
    many = json.loads((RESULTS / "many_games.json").read_text()) if (RESULTS / "many_games.json").exists() else None
    machine = (long or fresh or {}).get("machine", {})
    lines += [
        f"Machine: {machine.get('cores')} cores, {machine.get('ram_gib')} GiB RAM, Python {machine.get('python')}.",
        "Each time is the best of 3 runs; ratios come from the same run.",
        "",
    ]
    if long:
        lines += [
            "## Long stream: full aggregation (dedup by event id, shots and goals per player)",
            "",
            "| events | ours (Dask, s) | PySpark local[2] (s) | pyarrow + pandas floor (s) "
            "| ours / Spark | ours / floor |",
            "|---:|---:|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {r['events']:,} | {r['ours_s']} | {r['spark_s']} | {r['floor_s']} | {r['ours_over_spark']} | "
            f"{r['ours_over_floor']} |"
            for r in long["runs"]
        ]
        lines += ["", f"PySpark session start-up (not in the times above): {long['spark_startup_s']} s."]
        if long.get("append_tick"):
            tick = long["append_tick"]
            lines += [
                f"One appended line on the {tick['events']:,}-event stream: "
                f"{tick['seconds'] * 1000:.2f} ms from the new bytes to an updated tally (target 50 ms)."
            ]
        lines.append("")
    if fresh:
        lines += [
            "## Freshness: S3 write of event k -> box score k readable in MongoDB",
            "",
            "| replay delay (s/game s) | poll (s) | events | p50 (s) | p95 (s) | max (s) | target p95 (s) |",
            "|---:|---:|---:|---:|---:|---:|---:|",
            f"| {fresh['delay']} | {fresh['poll_interval']} | {fresh['events']} | {fresh['p50_s']} | "
            f"{fresh['p95_s']} | {fresh['max_s']} | {fresh['target_p95_s']} |",
            "",
        ]
    if many:
        lines += many_games_table(many["runs"])
    if (RESULTS / "page_load.json").exists():
        page = json.loads((RESULTS / "page_load.json").read_text())
        lines += [
            f"## The box-score page, {page['readers']} concurrent readers for {page['seconds']} s",
            "",
            "| requests/s | p50 (ms) | p95 (ms) | max (ms) | statuses | MongoDB queries per render |",
            "|---:|---:|---:|---:|---|---|",
            f"| {page['requests_per_s']} | {page['p50_ms']} | {page['p95_ms']} | {page['max_ms']} | "
            f"{page['statuses']} | {page['queries_per_render']} |",
            "",
            f"The page's query alone, sequential with pymongo: {page['mongo_query_alone_ms']} ms.",
            "",
        ]
    if (RESULTS / "tick_cost.json").exists():
        lines += tick_cost_table(json.loads((RESULTS / "tick_cost.json").read_text()))
    if long:
        fig, ax = plt.subplots(figsize=(7, 4))
        sizes = [r["events"] for r in long["runs"]]
        for key, label in (("ours_s", "ours (Dask)"), ("spark_s", "PySpark local[2]"), ("floor_s", "pyarrow + pandas")):
            ax.plot(sizes, [r[key] for r in long["runs"]], marker="o", label=label)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("events in the stream")
        ax.set_ylabel("seconds (best of 3)")
        ax.set_title("Full aggregation of one long stream")
        ax.legend()
        fig.tight_layout()
        fig.savefig(RESULTS / "long_stream.png", dpi=100)
        lines += ["![long stream chart](long_stream.png)", ""]
    if many:
        many_games_chart(many["runs"])
        lines += ["![many games chart](many_games.png)", ""]
    (RESULTS / "README.md").write_text("\n".join(lines))
    print("\n".join(lines))


def tick_cost_table(ticks: dict) -> list[str]:
    """The live flow's CPU per idle poll and per changed game, two versions side by side."""
    lines = [
        f"## Live flow CPU per tick, {ticks['games']} games, poll {ticks['poll_interval']} s "
        "(median of alternating runs)",
        "",
        "| version | ms per idle poll | ms per changed game |",
        "|---|---:|---:|",
    ]
    for label, medians in ticks["medians"].items():
        lines.append(f"| {label} | {medians['idle_poll_ms']:.2f} | {medians['changed_game_ms']:.2f} |")
    ratio = ticks["ratio"]
    lines += [f"| after / before | {ratio['idle_poll_ms']:.2f}x | {ratio['changed_game_ms']:.2f}x |", ""]
    if "whole_read" in ticks:
        price = ticks["whole_read"]
        lines += [
            "One whole read of the recorded game in 512-byte blocks: "
            f"{price['direct_cpu_ms']:.0f} ms CPU called directly, {price['task_run_cpu_ms']:.0f} ms as a "
            "submitted task run (the difference is the price of one task run).",
            "",
        ]
    return lines


def many_games_table(runs: list[dict]) -> list[str]:
    lines = [
        "## Many games: concurrent synthetic games replayed at 40x, poll 0.2 s",
        "",
        "| games | events | replay (s, 90 scheduled) | p50 (s) | p95 (s) | max (s) | target p95 (s) | events/s | "
        "flow CPU s / 1,000 events | flow peak RSS (MiB) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['games']:,} | {r['events']:,} | {r['replay_s']} | {r['p50_s']} | {r['p95_s']} | {r['max_s']} | "
        f"{r['target_p95_s']} | {r['events_per_s']} | {r['flow_cpu_s_per_1000_events']} | {r['flow_peak_rss_mib']} |"
        for r in runs
    ]
    lines += [
        "",
        "Where the CPU seconds of each run went (the flow's figure includes its Prefect API server, "
        "whose own share is shown beside it):",
        "",
        "| games | live flow | of which its Prefect API | S3 server | MongoDB server | simulator + watcher |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['games']:,} | {r['flow_cpu_s']} | {r['prefect_api_cpu_s']} | {r['s3_server_cpu_s']} | "
        f"{r['mongo_server_cpu_s']} | {r['simulator_and_watcher_cpu_s']} |"
        for r in runs
    ]
    return [*lines, ""]


def many_games_chart(runs: list[dict]) -> None:
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    games = [str(r["games"]) for r in runs]
    width = 0.25
    for offset, key, label in ((-width, "p50_s", "p50"), (0, "p95_s", "p95"), (width, "max_s", "max")):
        left.bar([i + offset for i in range(len(runs))], [r[key] for r in runs], width, label=label)
    left.plot(range(len(runs)), [r["target_p95_s"] for r in runs], "k_", markersize=30, label="p95 target")
    left.set_xticks(range(len(runs)), games)
    left.set_xlabel("concurrent games")
    left.set_ylabel("seconds from S3 write to box score")
    left.set_yscale("log")
    left.set_title("Freshness")
    left.legend()
    parts = (
        ("flow_cpu_s", "live flow (incl. its Prefect API)"),
        ("s3_server_cpu_s", "S3 server"),
        ("mongo_server_cpu_s", "MongoDB server"),
        ("simulator_and_watcher_cpu_s", "simulator + watcher"),
    )
    bottom = [0.0] * len(runs)
    for key, label in parts:
        values = [r[key] for r in runs]
        right.bar(games, values, bottom=bottom, label=label)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    right.set_xlabel("concurrent games")
    right.set_ylabel("CPU seconds over the run")
    right.set_title("Where the CPU went")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(RESULTS / "many_games.png", dpi=100)


if __name__ == "__main__":
    main()
