"""CPU per idle poll and per changed game: this tree against an earlier commit, side by side.

    make bench-ticks            (or: .venv/bin/python -m bench.tick_cost [--before REV] [--runs N])

The earlier commit (default: the one before the line score and the scoring summary) and this
working tree are each copied out (``bench.common.export``); each version runs from its copy as
``python -m flows.live_boxscore`` on the same servers, following the same 100 synthetic games
under one prefix, ``--runs`` times each, alternately and in ABBA order. For each run, the flow
process's CPU (its Dask threads included) is read from the kernel in two phases once every game
has its first box score:

- idle: nothing changes for 20 s; CPU / polls (one LIST of 100 objects per 0.1 s poll);
- changed: 15 rounds of one new event in every game, each round waited out until all 100 box
  scores show it; (CPU - the idle polls' share) / changed games, and the whole CPU of the phase
  / changed games ("all in"). The first counts the phase's polls as wall time / poll interval,
  which is more polls than a flow whose ticks outlast the interval makes, so a version with a
  cheaper idle poll has less subtracted; "all in" subtracts nothing.

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
import signal
import statistics
import time
from pathlib import Path

import psutil
from tabulate import tabulate

from bench.common import BEFORE, ROOT, SCRATCH, export, save
from bench.following import profile
from bench.many_games import cpu_seconds
from bench.profile import where_cpu_goes
from bench.tick_floor import follower, write_events
from devstack.servers import SeaweedS3, SecantusMongo, running, wait_until

GAMES = 100  # enough changed games per round that a tick's fixed costs do not decide the figure
POLL = 0.1
IDLE_SECONDS = 20.0
ROUNDS = 15
FIRST_EVENTS = 20


def one_run(
    label: str,
    tree: Path,
    s3: SeaweedS3,
    mongo: SecantusMongo,
    sql_file: Path,
    recordings: dict,
    profile_to: Path | None = None,
) -> dict:
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
        sampler = profile(process.pid, profile_to) if profile_to else None
        changed_start, changed_wall = cpu_seconds(process), time.monotonic()
        for step in range(ROUNDS):
            count = FIRST_EVENTS + step + 1
            write_events(prefix, recordings, dict.fromkeys(recordings, count), s3.storage_options)
            wait_until(lambda count=count: shown(count - 1), 60, f"every game's box score of event {count - 1}")
        changed_cpu = cpu_seconds(process) - changed_start
        polls_meanwhile = (time.monotonic() - changed_wall) / POLL
        if sampler:
            sampler.send_signal(signal.SIGINT)  # py-spy writes its profile on SIGINT
            sampler.wait(30)
    finally:
        flow.stop()
    per_poll = idle_cpu / idle_polls
    per_game = (changed_cpu - per_poll * polls_meanwhile) / (len(recordings) * ROUNDS)
    all_in = changed_cpu / (len(recordings) * ROUNDS)
    return {"idle_poll_ms": 1000 * per_poll, "changed_game_ms": 1000 * per_game, "changed_all_in_ms": 1000 * all_in}


#: what each run reports, in ms of the flow's CPU
KEYS = ("idle_poll_ms", "changed_game_ms", "changed_all_in_ms")


def task_run_cost(s3: SeaweedS3) -> dict[str, float]:
    """ms of wall and CPU per whole read of the recorded game: called directly, and submitted."""
    from bench.task_run_price import whole_read_price
    from boxscore.live import GameRead
    from tasks.stream import write_stream

    data = (ROOT / "data" / "seed" / "game_events.txt").read_bytes()
    url = f"s3://{s3.bucket}/task-run-cost/game.txt"
    write_stream(url, data.decode(), s3.storage_options)
    return whole_read_price(GameRead(url, frozenset({101, 205}), None, len(data), 0, whole=True), s3.storage_options)


def changed_phase_profiles(
    trees: dict[str, Path], s3: SeaweedS3, mongo: SecantusMongo, sql_file: Path, recordings: dict, workdir: Path
) -> dict[str, dict[str, float]]:
    """One more run of each tree with py-spy sampling its changed phase: the share of samples per
    library (``bench.profile``); the raw profiles stay in ``workdir`` for a closer look."""
    shares = {}
    for label, tree in trees.items():
        raw = workdir / f"changed-{label.split()[0]}.txt"
        one_run(label.split()[0], tree, s3, mongo, sql_file, recordings, profile_to=raw)
        shares[label] = where_cpu_goes(raw, tree)
        print(f"profiled {label}: {raw}", flush=True)
    return shares


def main(before: str, runs: int, games: int = GAMES, profiled: bool = False) -> None:
    from boxscore.synthetic import synthetic_league
    from flows.gamestream import SEED_DIR
    from tasks.reference import read_seed, reset_reference

    trees = {f"before ({before})": export(before), "after (this tree)": export(None)}
    league = synthetic_league(games, seed=13, shots=(60, 80))
    workdir = SCRATCH / "ticks"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    sql_file = workdir / "sidearmdb.sqlite"
    teams, players = read_seed(SEED_DIR)
    reset_reference.fn(f"sqlite:///{sql_file}", teams + league.teams, players + league.players, league.matchups)
    measured: dict[str, list[dict]] = {label: [] for label in trees}
    with running(SeaweedS3(workdir / "s3"), SecantusMongo(workdir / "mongo")) as (s3, mongo):
        for run in range(runs):
            # the order alternates between runs (ABBA), so whatever favours the first or the second of
            # a pair reaches both versions alike
            pairs = list(trees.items())
            for label, tree in pairs if run % 2 == 0 else reversed(pairs):
                result = one_run(label.split()[0], tree, s3, mongo, sql_file, league.recordings)
                measured[label].append(result)
                print(
                    f"run {run + 1}/{runs} {label}: {result['idle_poll_ms']:.2f} ms per idle poll, "
                    f"{result['changed_game_ms']:.2f} ms per changed game, {result['changed_all_in_ms']:.2f} all in",
                    flush=True,
                )
        if profiled:
            profiles = changed_phase_profiles(trees, s3, mongo, sql_file, league.recordings, workdir)
        print("one whole read of the recorded game (1.1 KB, 512-byte blocks): direct vs submitted task run", flush=True)
        submit = task_run_cost(s3)
    medians = {
        label: {key: statistics.median(r[key] for r in results) for key in KEYS} for label, results in measured.items()
    }
    first, second = medians.values()
    ratio = {key: second[key] / first[key] for key in first}
    rows = [[label, *(f"{m[key]:.2f}" for key in KEYS)] for label, m in medians.items()]
    rows.append(["after / before", *(f"{ratio[key]:.2f}x" for key in KEYS)])
    print(tabulate(rows, headers=["flow CPU (median)", "ms per idle poll", "ms per changed game", "all in"]))
    print(
        tabulate(
            [
                ["called directly", f"{submit['direct_wall_ms']:.0f}", f"{submit['direct_cpu_ms']:.0f}"],
                ["submitted task run", f"{submit['task_run_wall_ms']:.0f}", f"{submit['task_run_cpu_ms']:.0f}"],
            ],
            headers=["whole read", "wall ms", "CPU ms"],
        )
    )
    if profiled:
        groups = sorted({group for shares in profiles.values() for group in shares})
        rows = [[group, *(f"{shares.get(group, 0):.0%}" for shares in profiles.values())] for group in groups]
        print(tabulate(rows, headers=["changed phase under py-spy", *profiles]))
    results = {"games": games, "poll_interval": POLL, "runs": measured, "medians": medians, "ratio": ratio}
    if profiled:
        results["profiles"] = profiles
    save("tick_cost", {**results, "whole_read": submit})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default=BEFORE, help="the commit to compare with")
    parser.add_argument("--games", type=int, default=GAMES, help="games under the prefix, all changed every round")
    parser.add_argument("--profile", action="store_true", help="then one run of each under py-spy")
    parser.add_argument("--runs", type=int, default=3, help="runs of each version, alternately")
    args = parser.parse_args()
    # this process's own flow run (the task-run price) keeps Prefect offline, in a home of its own
    (SCRATCH / "prefect-home").mkdir(parents=True, exist_ok=True)
    os.environ.update({"PREFECT_HOME": str(SCRATCH / "prefect-home"), "DO_NOT_TRACK": "1"})
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    main(args.before, args.runs, args.games, args.profile)
