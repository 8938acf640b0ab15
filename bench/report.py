"""Summarise bench/results/*.json as a markdown table (bench/results/README.md) and a chart."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from bench.common import RESULTS, load
from bench.targets import FEED_TARGETS, targets_markdown


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
        "## Targets (issue #35), each against its benchmark's last figure",
        "",
        *targets_markdown(),
        "Why a target is missed, and where the time goes: "
        "[docs/benchmarks.md](../../docs/benchmarks.md#issue-35s-targets).",
        "",
        "## Targets (issue #46: the change feed), each against its benchmark's last figure",
        "",
        *targets_markdown(FEED_TARGETS),
        "What each compares, and why a target is missed: "
        "[docs/benchmarks.md](../../docs/benchmarks.md#the-change-feed-46).",
        "",
    ]
    if long:
        lines += [
            "## Long stream: full aggregation (dedup by event id, shots and goals per player)",
            "",
            "| events | ours (Dask, s) | PySpark local[2] 4g (s) | Spark without dedup (s) | pyarrow + pandas (s) "
            "| pyarrow group-by alone (s) | Spark / ours | ours / pyarrow group-by |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {r['events']:,} | {r['ours_s']} | {r['spark_s']} | {r.get('spark_no_dedup_s', '-')} | {r['floor_s']} "
            f"| {r.get('arrow_floor_s', '-')} | {r.get('spark_over_ours', '-')} "
            f"| {r.get('ours_over_arrow_floor', '-')} |"
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
        versions = [r for r in long["runs"] if "before_s" in r]
        if versions:
            lines += [
                f"Ours as this tree against `{versions[0]['before']}` (the same file, each version run from a "
                "copy of its own in a process of its own, in the same run):",
                "",
                "| events | before (s) | this tree (s) | this tree / before |",
                "|---:|---:|---:|---:|",
                *(
                    f"| {r['events']:,} | {r['before_s']} | {r['after_s']} | {r['after_over_before']}x |"
                    for r in versions
                ),
                "",
            ]
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
    if feed := load("change_feed"):
        lines += change_feed_table(feed)
    if following := load("following"):
        lines += following_table(following)
    if floor := load("tick_floor"):
        lines += tick_floor_table(floor)
    if many:
        lines += many_games_table(many["runs"])
    if worker_reads := load("worker_reads"):
        lines += worker_reads_table(worker_reads)
    if heard := load("heard_polls"):
        lines += heard_polls_table(heard)
    if (page := load("page_load")) and "results" in page:
        lines += page_load_table(page)
    if (RESULTS / "tick_cost.json").exists():
        lines += tick_cost_table(json.loads((RESULTS / "tick_cost.json").read_text()))
    if startup := load("startup"):
        lines += startup_table(startup)
    if day := load("game_day"):
        lines += game_day_table(day)
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
    if floor or many:
        cpu_per_event_chart(floor["runs"] if floor else [], many["runs"] if many else [])
        lines += ["![CPU per event against games](cpu_per_event.png)", ""]
    (RESULTS / "README.md").write_text("\n".join(lines))
    print("\n".join(lines))


def game_day_table(day: dict) -> list[str]:
    """A game day compressed: the table of ``bench.game_day.report`` and a chart of the live run over the day."""
    from bench.game_day import report

    samples = day["samples"]
    fig, left = plt.subplots(figsize=(8, 4))
    minutes = [s["at"] / 60 for s in samples]
    left.plot(minutes, [s["rss_mib"] for s in samples], label="memory (RSS, MiB)")
    left.plot(minutes, [s["open_files"] for s in samples], label="open files")
    left.plot(minutes, [s["threads"] for s in samples], label="threads")
    left.set_xlabel("minutes into the day")
    left.set_ylim(bottom=0)
    right = left.twinx()
    right.plot(minutes, [s["finished"] for s in samples], color="grey", linestyle="--", label="games over")
    right.set_ylabel("games over")
    right.set_ylim(bottom=0)
    handles = left.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    left.legend(handles=handles, loc="center right")
    left.set_title(f"The live run over a game day: {day['games']} games, ~{day['live_at_once']} live at once")
    fig.tight_layout()
    fig.savefig(RESULTS / "game_day.png", dpi=100)
    return [
        "## A game day, compressed (`make bench-gameday`)",
        "",
        "One live run in prefix mode, Prometheus scraping it and the page, a crowd on the page all day "
        "(docs/benchmarks.md says how it is made).",
        "",
        report(day),
        "",
        "The run's lag histogram counts from the poll that saw a change to MongoDB's acknowledgement; a box "
        "score's `stored_at` is stamped as its write is sent, so the box scores' figure leaves the bulk write "
        "itself out (on SecantusDB, serving the crowd meanwhile). 'Kept per finished game' is the run's RSS "
        "growth from the day's second quarter to its end over the games that finished in between: of the "
        "live loop's own objects a settled game keeps its final box score only (the run's result; its tally "
        "goes): docs/benchmarks.md says what the figure was before and what changed it.",
        "",
        "![the live run over a game day](game_day.png)",
        "",
    ]


def following_table(result: dict) -> list[str]:
    """One game: the live flow, a bare Prefect flow and the hand-written loop on the same feed."""
    median, idle = result["median_total_cpu_s"], result["idle_poll_ms"]
    lines = [
        f"## Following one game: {result['events']} events, one per {result['event_every_s']} s, "
        f"poll {result['poll_interval']} s, a running Prefect server (median of alternating runs)",
        "",
        "| process | CPU s (with its Prefect API calls) | ms per idle poll |",
        "|---|---:|---:|",
        f"| ours: `python -m flows.live_boxscore` | {median['ours']:.2f} | {idle['ours']:.2f} |",
        f"| a bare Prefect flow (Prefect's start-up and shutdown) | {median['bare']:.2f} | |",
        f"| ours beyond Prefect's start-up | {result['ours_beyond_prefect_s']:.2f} | |",
        f"| the hand-written loop (`bench/hand_loop.py`) | {median['hand']:.2f} | {idle['hand']:.2f} |",
        f"| ours beyond Prefect / hand | {result['ratio_to_hand']:.2f}x (target {result['target_ratio']:.0f}x) "
        f"| target {result['target_idle_poll_ms']:.0f} ms |",
        "",
        f"Both end at {result['final_score']}. Where our flow's CPU went (py-spy, share of samples):",
        "",
        "| over the whole run | share | in the idle stretch | share |",
        "|---|---:|---|---:|",
    ]
    run, idle_profile = (list(result["profile"][part].items()) for part in ("run", "idle"))
    for i in range(max(len(run), len(idle_profile))):
        left = run[i] if i < len(run) else ("", None)
        right = idle_profile[i] if i < len(idle_profile) else ("", None)
        cells = [f"{name} | {share:.1%}" if share is not None else " | " for name, share in (left, right)]
        lines.append(f"| {cells[0]} | {cells[1]} |")
    return [*lines, ""]


def tick_floor_table(result: dict) -> list[str]:
    """Many games: ms of CPU per tick, ours against the S3 requests a tick cannot avoid."""
    lines = [
        "## Many games: CPU per tick against its S3 floor (15 % of the games changed per tick)",
        "",
        "| games | poll (s) | changed per tick | ours: ms per idle poll | ours: ms per changed game "
        "| ours: ms per tick "
        "| s3fs floor: LIST + range GETs (ms) | ours / s3fs floor | obstore floor (ms) | s3fs / obstore |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['games']:,} | {r.get('poll_interval', 0.2)} | {r['changed_per_tick']} | {r['ours_idle_poll_ms']} | "
        f"{r['ours_changed_game_ms']} | "
        f"{r['ours_tick_ms']} | {r['s3fs_floor_ms']} | {r['ours_over_s3fs_floor']}x (target "
        f"{result['target_ratio']:.0f}x) | {r['obstore_floor_ms']} | {r['s3fs_over_obstore']}x |"
        for r in result["runs"]
    ]
    groups = list(dict.fromkeys(group for r in result["runs"] for group in r.get("profile", {})))
    if groups:
        lines += [
            "",
            "Where the flow's CPU went during the rounds (py-spy, share of samples):",
            "",
            "| games | " + " | ".join(groups) + " |",
            "|---:|" + "---:|" * len(groups),
        ]
        lines += [
            f"| {r['games']:,} | " + " | ".join(f"{r['profile'].get(g, 0):.0%}" for g in groups) + " |"
            for r in result["runs"]
        ]
    return [*lines, ""]


def worker_reads_table(result: dict) -> list[str]:
    """A tick's reads on a process cluster's two workers, timed alone, per reader."""
    lines = [
        f"## A tick's reads on two `dask worker` processes ({result['games']} games, "
        f"{result['changed_per_tick']} changed every {result['poll_s']} s)",
        "",
        "| reader | ticks | task on the worker p50 / p95 / p99 / max (ms) | round trip p50 / p95 / p99 / max (ms) |",
        "|---|---:|---|---|",
    ]
    for reader, r in result["readers"].items():
        task = " / ".join(str(r[f"task_{stat}_ms"]) for stat in ("p50", "p95", "p99", "max"))
        trip = " / ".join(str(r[f"round_trip_{stat}_ms"]) for stat in ("p50", "p95", "p99", "max"))
        lines.append(f"| {reader} | {r['samples']} | {task} | {trip} |")
    return [*lines, ""]


def heard_polls_table(result: dict) -> list[str]:
    """A heard game's poll each way, this process's CPU per game, against s3fs's HEAD + range GET."""
    spent = result["cpu_ms_per_game"]
    first = next(iter(spent.values()))
    return [
        f"## A heard game's poll: its version and new lines ({result['games']} streams polled at once, "
        f"median of {result['rounds']} rounds)",
        "",
        "| how | CPU ms a game | against the first row |",
        "|---|---:|---:|",
        *(f"| {how} | {ms} | {ms / first:.2f} |" for how, ms in spent.items()),
        "",
    ]


def startup_table(result: dict) -> list[str]:
    lines = [
        "## Start-up: `python -m flows.live_boxscore` to its first poll, beside a bare Prefect flow",
        "",
        "Prefect home migrated, bytecode cached; the bare flow (`bench.bare_flow`) is timed to its",
        '"Beginning flow run" line, the floor every flow pays before its body.',
        "",
        "| start-up | median s | runs (s) |",
        "|---|---:|---|",
    ]
    lines += [
        f"| {name} | {median:.2f} | {', '.join(f'{v:.2f}' for v in result['runs'][name])} |"
        for name, median in result["median_s"].items()
    ]
    if "beyond_bare_s" in result:
        lines += ["", f"The live flow's first poll beyond the bare flow's body: {result['beyond_bare_s']:.2f} s."]
    return [*lines, "", f"Target: {result['target_s']:.1f} s with a running server.", ""]


def cpu_per_event_chart(floor: list[dict], many: list[dict]) -> None:
    """ms of CPU per event against the number of games: ours, the S3 floors, flow and workers."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    if floor:
        games = [r["games"] for r in floor]
        per_event = {
            "ours, one tick (tick floor bench)": [r["ours_tick_ms"] / r["changed_per_tick"] for r in floor],
            "ours with S3_READER=obstore, one tick": [
                r["obstore_flow_tick_ms"] / r["changed_per_tick"] for r in floor if "obstore_flow_tick_ms" in r
            ],
            "s3fs floor: LIST + range GETs": [r["s3fs_floor_ms"] / r["changed_per_tick"] for r in floor],
            "obstore floor: the same requests": [r["obstore_floor_ms"] / r["changed_per_tick"] for r in floor],
        }
        for label, values in per_event.items():
            if len(values) == len(games):  # results from before a series existed lack it
                ax.plot(games, values, "-o" if label.startswith("ours") else "--", label=label)
    for cluster in ("threads", "processes"):
        runs = [r for r in many if r.get("cluster", "threads") == cluster and "flow_ms_per_event" in r]
        if runs:
            games = [r["games"] for r in runs]
            where = "threads LocalCluster inside" if cluster == "threads" else "Dask workers outside"
            ax.plot(games, [r["flow_ms_per_event"] for r in runs], "-s", label=f"live flow process ({where}), replay")
            if cluster == "processes":
                ax.plot(
                    games, [r["workers_ms_per_event"] for r in runs], "-^", label="the 2 Dask worker processes, replay"
                )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("concurrent games")
    ax.set_ylabel("ms of CPU per event")
    ax.set_title("CPU per event against the number of games")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(RESULTS / "cpu_per_event.png", dpi=100)


def page_load_table(page: dict) -> list[str]:
    """Fans of one live game refreshing once a second, and event-stream subscribers, two versions."""
    lines = [
        f"## The box-score page on game day: one live game, {page['seconds']:.0f} s per load, this tree against "
        f"`{page['before']}`",
        "",
        "| viewers | version | requests/s | p50 (ms) | p95 (ms) | max (ms) | errors | MongoDB queries/s |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for key in sorted({key for r in page["results"].values() for key in r if key.startswith("viewers_")}):
        for label, result in page["results"].items():
            m = result[key]
            lines.append(
                f"| {m['viewers']:,} | {label} | {m['requests_per_s']} | {m['p50_ms']} | {m['p95_ms']} | "
                f"{m['max_ms']} | {m['errors']} | {m['mongo_queries_per_s']} |"
            )
    lines.append("")
    for label, result in page["results"].items():
        for key in ("fast", "flat_out"):
            if m := result.get(key):
                how = f"refreshing every {m['every']} s" if "every" in m else "asking again as soon as answered"
                lines += [
                    f"{label}: {m['viewers']:,} fans {how}: {m['requests_per_s']} requests/s, p50 {m['p50_ms']} ms, "
                    f"p95 {m['p95_ms']} ms, {m['errors']} errors, {m['mongo_queries_per_s']} MongoDB queries/s.",
                    "",
                ]
    for label, result in page["results"].items():
        for key in sorted(key for key in result if "subscribers" in key):
            for pushed in result[key] if isinstance(result[key], list) else [result[key]]:
                source = "MongoDB write"
                if key.startswith("s3"):
                    feed = pushed.get("change_feed", "off") == "auto"
                    source = f"S3 write (live flow {'with the change feed' if feed else 'polling every 0.2 s'})"
                lines += [
                    f"{label}, refresh {pushed.get('refresh_seconds', 0.5)} s: {pushed['subscribers']:,} event-stream "
                    f"subscribers got {pushed['messages']:,} box scores, {source} to subscriber p50 "
                    f"{pushed['p50_ms']} ms, p95 {pushed['p95_ms']} ms ({pushed['failed']} failed).",
                    "",
                ]
    return lines


def tick_cost_table(ticks: dict) -> list[str]:
    """The live flow's CPU per idle poll and per changed game, two versions side by side."""
    lines = [
        f"## Live flow CPU per tick, {ticks['games']} games, poll {ticks['poll_interval']} s "
        "(median of alternating runs)",
        "",
        "| version | ms per idle poll | ms per changed game | ms per changed game, all in |",
        "|---|---:|---:|---:|",
    ]
    keys = ("idle_poll_ms", "changed_game_ms", "changed_all_in_ms")
    for label, medians in ticks["medians"].items():
        lines.append(f"| {label} | " + " | ".join(f"{medians.get(key, 0):.2f}" for key in keys) + " |")
    ratio = ticks["ratio"]
    lines += ["| after / before | " + " | ".join(f"{ratio.get(key, 0):.2f}x" for key in keys) + " |", ""]
    lines += [
        "All in: the whole CPU of the phase in which every game changed, per changed game. The column",
        "before it subtracts the idle polls' share, counted as wall time / poll interval.",
        "",
    ]
    if profiles := ticks.get("profiles"):
        groups = sorted(
            {group for shares in profiles.values() for group in shares},
            key=lambda g: -max(shares.get(g, 0) for shares in profiles.values()),
        )
        lines += [
            "Where each version's CPU went in the changed phase (py-spy, share of samples, one more run of each):",
            "",
            "| | " + " | ".join(profiles) + " |",
            "|---|" + "---:|" * len(profiles),
            *(
                f"| {g} | " + " | ".join(f"{shares.get(g, 0):.0%}" for shares in profiles.values()) + " |"
                for g in groups
            ),
            "",
        ]
    if "whole_read" in ticks:
        price = ticks["whole_read"]
        lines += [
            "One whole read of the recorded game in 512-byte blocks: "
            f"{price['direct_cpu_ms']:.0f} ms CPU called directly, {price['task_run_cpu_ms']:.0f} ms as a "
            "submitted task run (the difference is the price of one task run).",
            "",
        ]
    return lines


def _per_event(run: dict) -> str:
    """The flow's CPU per event over its whole run, and while the games were written where measured."""
    whole = run.get("flow_ms_per_event", "-")
    following = run.get("following_ms_per_event")
    return f"{whole} ({following} while written)" if following is not None else str(whole)


def many_games_table(runs: list[dict]) -> list[str]:
    lines = [
        "## Many games: concurrent synthetic games replayed, poll 0.2 s",
        "",
        "| games | Dask | change feed | speed | events | replay (s / scheduled) | p50 (s) | p95 (s) | max (s) "
        "| p95 / max after the first 10 s | target p95 (s) "
        "| events/s | flow ms / event | flow ms / poll | workers ms / event | flow peak RSS (MiB) |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['games']:,} | {_dask(r)} | {_feed(r)} | {r['speed']}x | {r['events']:,} | "
        f"{r['replay_s']} / "
        f"{r['replay_s_scheduled']} | {r['p50_s']} | {r['p95_s']} | {r['max_s']} | "
        f"{r.get('settled_p95_s', '-')} / {r.get('settled_max_s', '-')} | {r['target_p95_s']} | "
        f"{r['events_per_s']} | {_per_event(r)} | {r.get('flow_ms_per_poll', '-')} | "
        f"{r.get('workers_ms_per_event') or '-'} | {r['flow_peak_rss_mib']} |"
        for r in runs
    ]
    lines += [
        "",
        "Where the CPU seconds of each run went (the flow's figure includes its Prefect API server, "
        "whose own share is shown beside it):",
        "",
        "| games | Dask | change feed | live flow | of which its Prefect API | Dask scheduler | Dask workers "
        "| S3 server | MongoDB server | simulator + watcher |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['games']:,} | {_dask(r)} | {_feed(r)} | {r['flow_cpu_s']} | "
        f"{r['prefect_api_cpu_s']} | "
        f"{r.get('scheduler_cpu_s') or '-'} | {r.get('workers_cpu_s') or '-'} | {r['s3_server_cpu_s']} | "
        f"{r['mongo_server_cpu_s']} | {r['simulator_and_watcher_cpu_s']} |"
        for r in runs
    ]
    return [*lines, ""]


def _dask(run: dict) -> str:
    """The run's Dask cluster, and its S3 reader where it is not the default."""
    reader = run.get("reader", "s3fs")
    return run.get("cluster", "threads") + ("" if reader == "s3fs" else f", `S3_READER={reader}`")


def _feed(run: dict) -> str:
    """How a many-games run heard of changes: polling only, or the feed with its fallback."""
    feed = run.get("change_feed", "off")
    return "off (polling)" if feed == "off" else f"on, fallback {run['fallback_interval']:g} s"


def change_feed_table(result: dict) -> list[str]:
    modes = result["modes"]
    held = next(iter(modes.values()))["idle"].get("first_seconds", {}).get("seconds", 0)
    lines = [
        "## The change feed against polling at 0.2 s (one game; an idle game)",
        "",
        f"The recorded game at {result['delay']} s per game second, then a game left idle: its first "
        f"{held:.0f} s (the run keeps its Dask workers), then {result['idle_seconds']:.0f} s more (the "
        "run has let them go); each mode twice in alternating order (freshness: the worse run; idle: "
        "the mean). Freshness: end of the S3 write -> the box score readable in MongoDB (a watcher "
        "reading every 2 ms).",
        "",
        f"| mode | p50 (ms) | p95 (ms) | max (ms) | idle, first {held:.0f} s: CPU ms / min "
        "| idle after: S3 requests / min | idle after: CPU ms / min |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, row in modes.items():
        fresh, idle = row["freshness"], row["idle"]
        first = idle.get("first_seconds", {}).get("cpu_ms_per_min", "-")
        lines.append(
            f"| {label} | {fresh['p50_ms']} | {fresh['p95_ms']} | {fresh['max_ms']} | {first} | "
            f"{idle['s3_requests_per_min']} | {idle['cpu_ms_per_min']} |"
        )
    ratios = result["idle_feed_over_polling"]
    lines += [
        "",
        f"Idle game, feed / polling: S3 requests {ratios['s3_requests_per_min']}, CPU {ratios['cpu_ms_per_min']} "
        "(target: at most 0.05 each).",
        "",
    ]
    windows = [
        (f"{label}, {when}", window.get("threads_cpu_ms_per_min", {}))
        for label, row in modes.items()
        for when, window in (
            (f"first {held:.0f} s", row["runs"][-1]["idle"].get("first_seconds", {})),
            ("after", row["runs"][-1]["idle"]),
        )
    ]
    if all(cpu for _, cpu in windows):
        names = list(dict.fromkeys(name for _, cpu in windows for name in cpu))
        lines += [
            "Where the idle process's CPU goes (each thread's CPU, ms per minute, the last run of each "
            "mode; `fsspecIO` is the S3 client's event loop, `Thread (_run)` the flow's loop, "
            "`event_engine` gRPC's own threads):",
            "",
            "| thread | " + " | ".join(label for label, _ in windows) + " |",
            "|---|" + "---:|" * len(windows),
            *(f"| {name} | " + " | ".join(str(cpu.get(name, "-")) for _, cpu in windows) + " |" for name in names),
            "",
        ]
    return lines


def many_games_chart(runs: list[dict]) -> None:
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    games = [
        f"{r['games']} {r.get('cluster', 'threads')[0]}{' feed' if r.get('change_feed', 'off') != 'off' else ''}"
        for r in runs
    ]
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
