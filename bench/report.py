"""Summarise bench/results/*.json as a markdown table (bench/results/README.md) and a chart."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from bench.common import RESULTS  # noqa: E402


def main() -> None:
    lines = ["# Benchmark results", ""]
    long = json.loads((RESULTS / "long_stream.json").read_text()) if (RESULTS / "long_stream.json").exists() else None
    fresh = json.loads((RESULTS / "freshness.json").read_text()) if (RESULTS / "freshness.json").exists() else None
    machine = (long or fresh or {}).get("machine", {})
    lines += [f"Machine: {machine.get('cores')} cores, {machine.get('ram_gib')} GiB RAM, Python {machine.get('python')}.",
              "Each time is the best of 3 runs; ratios come from the same run.", ""]
    if long:
        lines += ["## Long stream: full aggregation (dedup by event id, shots and goals per player)", "",
                  "| events | ours (Dask, s) | PySpark local[2] (s) | pyarrow + pandas floor (s) | ours / Spark | ours / floor |",
                  "|---:|---:|---:|---:|---:|---:|"]
        lines += [f"| {r['events']:,} | {r['ours_s']} | {r['spark_s']} | {r['floor_s']} | {r['ours_over_spark']} | "
                  f"{r['ours_over_floor']} |" for r in long["runs"]]
        lines += ["", f"PySpark session start-up (not in the times above): {long['spark_startup_s']} s."]
        if long.get("append_tick"):
            tick = long["append_tick"]
            lines += [f"One appended line on the {tick['events']:,}-event stream: "
                      f"{tick['seconds'] * 1000:.1f} ms from the new bytes to an updated tally (target 50 ms)."]
        lines.append("")
    if fresh:
        lines += ["## Freshness: S3 write of event k -> box score k readable in MongoDB", "",
                  "| replay delay (s/game s) | poll (s) | events | p50 (s) | p95 (s) | max (s) | target p95 (s) |",
                  "|---:|---:|---:|---:|---:|---:|---:|",
                  f"| {fresh['delay']} | {fresh['poll_interval']} | {fresh['events']} | {fresh['p50_s']} | "
                  f"{fresh['p95_s']} | {fresh['max_s']} | {fresh['target_p95_s']} |", ""]
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
    (RESULTS / "README.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
