"""CPU per idle poll and per changed game: this tree against an earlier commit, side by side.

    make bench-ticks            (or: .venv/bin/python -m bench.tick_cost [--before REV] [--runs N])

The earlier commit (default: the one before full reads became task runs of their own) is
exported with ``git archive``; each version runs as ``python -m flows.live_boxscore`` on the
same servers, following the same 20 synthetic games under one prefix, alternately, ``--runs``
times each. For each run, the flow process's CPU (its Dask threads included) is read from the
kernel in two phases once every game has its first box score:

- idle: nothing changes for 20 s; CPU / polls (one LIST of 20 objects per 0.1 s poll);
- changed: 15 rounds of one new event in every game, each round waited out until all 20 box
  scores show it; (CPU - the idle polls' share) / changed games.

Reported: the median of each version's runs, and after / before. Then the price of one
submitted task run (PrefectHQ/prefect#18191: each ``.submit()`` pickles the flow run context):
the recorded game's whole read in 512-byte blocks, called directly with the run's Dask client
against submitted as the ``read-whole-stream`` task run, wall and CPU of this process (its
threads Dask cluster included; the Prefect API server's own CPU is not).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import time
from pathlib import Path

import psutil
from tabulate import tabulate

from bench.common import ROOT, SCRATCH, save
from bench.many_games import cpu_seconds
from bench.tick_floor import follower, write_events
from devstack.servers import SeaweedS3, SecantusMongo, running, wait_until

GAMES = 20
POLL = 0.1
IDLE_SECONDS = 20.0
ROUNDS = 15
FIRST_EVENTS = 20
BEFORE = "cd7ebcb"  # the live flow before whole reads became task runs of their own


def export(rev: str) -> Path:
    """The project as it was at ``rev``, in a scratch directory (its flows run from there)."""
    tree = SCRATCH / f"tree-{rev}"
    shutil.rmtree(tree, ignore_errors=True)
    tree.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def one_run(label: str, tree: Path, s3: SeaweedS3, mongo: SecantusMongo, sql_file: Path, recordings: dict) -> dict:
    prefix, flow, collection = follower(label, tree, (s3, mongo), sql_file, POLL)
    write_events(prefix, recordings, dict.fromkeys(recordings, FIRST_EVENTS), s3.storage_options)

    def shown(event: int) -> bool:
        wanted = [f"{game}/{event}" for game in recordings]
        return collection.count_documents({"_id": {"$in": wanted}}) == len(wanted)

    try:
        flow.start(timeout=300)
        process = psutil.Process(flow.process.pid)
        wait_until(lambda: shown(FIRST_EVENTS - 1), 120, "every game's first box score")
        idle_start = cpu_seconds(process)
        idle_wall = time.monotonic()
        time.sleep(IDLE_SECONDS)  # the measured phase itself: nothing changes, the flow polls
        idle_cpu = cpu_seconds(process) - idle_start
        idle_polls = (time.monotonic() - idle_wall) / POLL
        changed_start, changed_wall = cpu_seconds(process), time.monotonic()
        for step in range(ROUNDS):
            count = FIRST_EVENTS + step + 1
            write_events(prefix, recordings, dict.fromkeys(recordings, count), s3.storage_options)
            wait_until(lambda count=count: shown(count - 1), 60, f"every game's box score of event {count - 1}")
        changed_cpu = cpu_seconds(process) - changed_start
        polls_meanwhile = (time.monotonic() - changed_wall) / POLL
    finally:
        flow.stop()
    per_poll = idle_cpu / idle_polls
    per_game = (changed_cpu - per_poll * polls_meanwhile) / (GAMES * ROUNDS)
    return {"idle_poll_ms": 1000 * per_poll, "changed_game_ms": 1000 * per_game}


def task_run_cost(s3: SeaweedS3) -> dict[str, float]:
    """ms of wall and CPU per whole read of the recorded game: called directly, and submitted."""
    from bench.task_run_price import whole_read_price
    from boxscore.live import GameRead
    from tasks.stream import write_stream

    data = (ROOT / "data" / "seed" / "game_events.txt").read_bytes()
    url = f"s3://{s3.bucket}/task-run-cost/game.txt"
    write_stream(url, data.decode(), s3.storage_options)
    return whole_read_price(GameRead(url, frozenset({101, 205}), None, len(data), 0, whole=True), s3.storage_options)


def main(before: str, runs: int) -> None:
    from boxscore.synthetic import synthetic_league
    from flows.gamestream import SEED_DIR
    from tasks.reference import read_seed, reset_reference

    trees = {f"before ({before})": export(before), "after (this tree)": ROOT}
    league = synthetic_league(GAMES, seed=13, shots=(60, 80))
    workdir = SCRATCH / "ticks"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    sql_file = workdir / "sidearmdb.sqlite"
    teams, players = read_seed(SEED_DIR)
    reset_reference.fn(f"sqlite:///{sql_file}", teams + league.teams, players + league.players, league.matchups)
    measured: dict[str, list[dict]] = {label: [] for label in trees}
    with running(SeaweedS3(workdir / "s3"), SecantusMongo(workdir / "mongo")) as (s3, mongo):
        for run in range(runs):
            for label, tree in trees.items():  # alternately, so drift on the shared machine hits both
                result = one_run(label.split()[0], tree, s3, mongo, sql_file, league.recordings)
                measured[label].append(result)
                print(
                    f"run {run + 1}/{runs} {label}: {result['idle_poll_ms']:.2f} ms per idle poll, "
                    f"{result['changed_game_ms']:.2f} ms per changed game",
                    flush=True,
                )
        print("one whole read of the recorded game (1.1 KB, 512-byte blocks): direct vs submitted task run", flush=True)
        submit = task_run_cost(s3)
    medians = {
        label: {key: statistics.median(r[key] for r in results) for key in ("idle_poll_ms", "changed_game_ms")}
        for label, results in measured.items()
    }
    first, second = medians.values()
    ratio = {key: second[key] / first[key] for key in first}
    rows = [[label, f"{m['idle_poll_ms']:.2f}", f"{m['changed_game_ms']:.2f}"] for label, m in medians.items()]
    rows.append(["after / before", f"{ratio['idle_poll_ms']:.2f}x", f"{ratio['changed_game_ms']:.2f}x"])
    print(tabulate(rows, headers=["flow CPU (median)", "ms per idle poll", "ms per changed game"]))
    print(
        tabulate(
            [
                ["called directly", f"{submit['direct_wall_ms']:.0f}", f"{submit['direct_cpu_ms']:.0f}"],
                ["submitted task run", f"{submit['task_run_wall_ms']:.0f}", f"{submit['task_run_cpu_ms']:.0f}"],
            ],
            headers=["whole read", "wall ms", "CPU ms"],
        )
    )
    results = {"games": GAMES, "poll_interval": POLL, "runs": measured, "medians": medians, "ratio": ratio}
    save("tick_cost", {**results, "whole_read": submit})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default=BEFORE, help="the commit to compare with")
    parser.add_argument("--runs", type=int, default=3, help="runs of each version, alternately")
    args = parser.parse_args()
    # this process's own flow run (the task-run price) keeps Prefect offline, in a home of its own
    (SCRATCH / "prefect-home").mkdir(parents=True, exist_ok=True)
    os.environ.update({"PREFECT_HOME": str(SCRATCH / "prefect-home"), "DO_NOT_TRACK": "1"})
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    main(args.before, args.runs)
