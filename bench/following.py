"""Following one game: the live flow against a hand-written loop on the same feed, side by side.

    make bench-following        (or: .venv/bin/python -m bench.following [--runs N])

The recorded game is written to S3 one event every 0.5 s, as the live feed would; each contender
follows it from its own process, polling every 0.2 s, against the same local SeaweedFS,
SecantusDB and a running ``prefect server start`` (``PREFECT_API_URL`` set, as for a user with a
server or a deployment). Alternately, ``--runs`` times each:

- ours: ``python -m flows.live_boxscore --no-finalize`` (the hand loop writes no season tables);
- hand: ``python -m bench.hand_loop``, the 60-line loop a user could write (the baseline);
- bare: ``python -m bench.bare_flow``, a flow that does nothing: Prefect's own start-up and
  shutdown, which a Prefect user pays whatever the flow does.

Each process's CPU comes from the kernel when it exits (its threads included), plus what the
Prefect server spent meanwhile beyond its own background work (its rate is measured first, with
no client). Half-way through, the feed pauses until the contender's box score of the last event
is in MongoDB and then for 10 s more: the process's CPU in that idle stretch over its polls is
the cost of an idle poll. Both final box scores must give the same score.

Targets (issue #13): ours minus bare at most 2x hand; an idle poll at most 5 ms of CPU. Then one
more run of ours under py-spy says where its CPU goes, over the whole run and in the idle
stretch (``bench.profile``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import pymongo
from tabulate import tabulate

from bench.common import ROOT, SCRATCH, save, tree_cpu
from bench.profile import where_cpu_goes
from devstack.servers import (
    PrefectServer,
    SeaweedS3,
    SecantusMongo,
    local_pipeline_env,
    offline_prefect_env,
    running,
    wait_until,
)

GAME = "following"
POLL = 0.2
EVENT_EVERY = 0.5
IDLE_SECONDS = 10.0
QUIET = 2.0
TARGET_RATIO = 2.0
TARGET_IDLE_MS = 5.0


@dataclass
class Measured:
    """One contender's run: CPU seconds of its process and of the Prefect server meanwhile."""

    cpu_s: float
    prefect_api_cpu_s: float
    idle_poll_ms: float | None
    score: dict[int, int] | None
    wall_s: float

    @property
    def total_s(self) -> float:
        return self.cpu_s + self.prefect_api_cpu_s


def commands(url: str, database: str) -> dict[str, list[str]]:
    flow_args = ["--poll-interval", str(POLL), "--settle-seconds", str(QUIET), "--no-finalize", "--game-id", GAME]
    hand_args = ["--poll", str(POLL), "--quiet", str(QUIET)]
    return {
        "ours": [sys.executable, "-m", "flows.live_boxscore", *flow_args],
        "hand": [sys.executable, "-m", "bench.hand_loop", url, "--game-id", GAME, *hand_args, "--mongo-db", database],
        "bare": [sys.executable, "-m", "bench.bare_flow"],
    }


def profile(pid: int, output: Path, seconds: float | None = None) -> subprocess.Popen:
    """py-spy sampling a process (without pausing it) until it exits or for ``seconds``."""
    command = [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid), "--rate", "200"]
    command += ["--format", "raw", "--output", str(output), "--nonblocking"]
    if seconds is not None:
        command += ["--duration", str(round(seconds))]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def final_score(collection: pymongo.collection.Collection) -> dict[int, int] | None:
    """Goals per team in the contender's last box score, whichever document shape it writes."""
    document = collection.find_one(sort=[("event_id", -1)])
    if document is None:
        return None
    if "home" in document:
        return {side["teamid"]: side["score"] for side in (document["home"], document["away"])}
    return {int(team["team"]): int(team["goals"]) for team in document["teams"]}


def one_run(
    name: str,
    s3: SeaweedS3,
    mongo: SecantusMongo,
    prefect: PrefectServer,
    sql_file: Path,
    lines: list[str],
    background: float,
    profile_to: Path | None = None,
) -> Measured:
    run_id = f"{name}-{time.monotonic_ns()}"
    url = f"s3://{s3.bucket}/following/{run_id}.txt"
    database = f"following_{time.monotonic_ns()}"
    workdir = SCRATCH / "following" / run_id
    workdir.mkdir(parents=True)
    env = {
        **os.environ,
        **offline_prefect_env(workdir / "home", prefect.api_url),
        **local_pipeline_env(s3, mongo, sql_file),
        "GAMESTREAM_URL": url,
        "MONGO_DB": database,
        "PYTHONPATH": str(ROOT),
        "DASK_LOGGING__DISTRIBUTED": "warning",
    }
    collection = pymongo.MongoClient(mongo.url)[database].boxscores
    server = psutil.Process(prefect.process.pid)
    api_before = tree_cpu(server)
    started = time.monotonic()
    with (workdir / "log").open("wb") as log:
        process = subprocess.Popen(commands(url, database)[name], cwd=ROOT, env=env, stdout=log, stderr=log)
    profiler = None if profile_to is None else profile(process.pid, profile_to / "run.txt")
    idle_ms = None
    if name != "bare":
        idle_ms = feed(url, lines, s3.storage_options, psutil.Process(process.pid), collection, profile_to)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if profiler is not None:
        profiler.wait(30)
    if process.returncode != 0:
        raise RuntimeError(f"{name} exited with {process.returncode}: see {workdir / 'log'}")
    return Measured(
        cpu_s=usage.ru_utime + usage.ru_stime,
        # the hand loop has no Prefect client: what the server did meanwhile was its own
        prefect_api_cpu_s=0.0
        if name == "hand"
        else tree_cpu(server) - api_before - background * (time.monotonic() - started),
        idle_poll_ms=idle_ms,
        score=final_score(collection) if name != "bare" else None,
        wall_s=time.monotonic() - started,
    )


def feed(
    url: str,
    lines: list[str],
    storage_options: dict,
    process: psutil.Process,
    collection: pymongo.collection.Collection,
    profile_to: Path | None,
) -> float:
    """Write the game one event per ``EVENT_EVERY`` s; half-way, measure ms of CPU per idle poll."""
    from tasks.stream import write_stream

    half = len(lines) // 2
    started = time.monotonic()
    idle_ms = 0.0
    for count in range(1, len(lines) + 1):
        time.sleep(max(0.0, started + count * EVENT_EVERY - time.monotonic()))  # the feed's pace
        write_stream(url, "".join(lines[:count]), storage_options)
        if count == half:
            event, paused = int(lines[count - 1].split()[0]), time.monotonic()
            wait_until(lambda e=event: collection.count_documents({"event_id": e}) > 0, 120, f"box score {event}")
            if profile_to is not None:
                profile(process.pid, profile_to / "idle.txt", IDLE_SECONDS)
            cpu, wall = tree_cpu(process), time.monotonic()
            time.sleep(IDLE_SECONDS)  # the measured stretch: nothing changes, the contender polls
            polls = (time.monotonic() - wall) / POLL
            idle_ms = 1000 * (tree_cpu(process) - cpu) / polls
            started += time.monotonic() - paused  # the rest of the feed keeps its pace
    return idle_ms


def main(runs: int) -> None:
    from flows.gamestream import SEED_DIR
    from tasks.reference import read_seed, reset_reference

    workdir = SCRATCH / "following"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    sql_file = workdir / "sidearmdb.sqlite"
    teams, players = read_seed(SEED_DIR)
    reset_reference.fn(f"sqlite:///{sql_file}", teams, players, [])
    lines = (ROOT / "data" / "seed" / "game_events.txt").read_text().splitlines(keepends=True)
    names = ["ours", "hand", "bare"]
    measured: dict[str, list[Measured]] = {name: [] for name in names}
    servers = (SeaweedS3(workdir / "s3"), SecantusMongo(workdir / "mongo"), PrefectServer(workdir / "prefect"))
    with running(*servers) as (s3, mongo, prefect):
        server, quiet = psutil.Process(prefect.process.pid), 10.0
        before = tree_cpu(server)
        time.sleep(quiet)  # measured: the Prefect server's own background work, no client at all
        background = (tree_cpu(server) - before) / quiet
        one_run("bare", s3, mongo, prefect, sql_file, lines, background)  # warm: imports in the page cache
        for run in range(runs):
            for name in names:  # alternately, so drift on the shared machine hits all three
                result = one_run(name, s3, mongo, prefect, sql_file, lines, background)
                measured[name].append(result)
                idle = "" if result.idle_poll_ms is None else f", {result.idle_poll_ms:.2f} ms per idle poll"
                print(
                    f"run {run + 1}/{runs} {name}: {result.cpu_s:.2f} CPU s + {result.prefect_api_cpu_s:.2f} "
                    f"in the Prefect server{idle}, score {result.score}",
                    flush=True,
                )
        print("one more run of ours under py-spy ...", flush=True)
        profiles = workdir / "profile"
        profiles.mkdir()
        one_run("ours", s3, mongo, prefect, sql_file, lines, background, profile_to=profiles)
    scores = {str(m.score) for name in ("ours", "hand") for m in measured[name]}
    assert len(scores) == 1, f"the contenders disagree on the final score: {scores}"
    median = {name: statistics.median(m.total_s for m in results) for name, results in measured.items()}
    idle = {name: statistics.median(m.idle_poll_ms or 0.0 for m in measured[name]) for name in ("ours", "hand")}
    beyond = median["ours"] - median["bare"]
    ratio = beyond / median["hand"]
    print(
        tabulate(
            [
                ["ours (live flow)", f"{median['ours']:.2f}", f"{idle['ours']:.2f}"],
                ["bare Prefect flow", f"{median['bare']:.2f}", ""],
                ["ours beyond Prefect's start-up", f"{beyond:.2f}", ""],
                ["hand-written loop", f"{median['hand']:.2f}", f"{idle['hand']:.2f}"],
                ["ours beyond Prefect / hand", f"{ratio:.2f}x (target {TARGET_RATIO:.0f}x)", ""],
            ],
            headers=["following the recorded game (median)", "CPU s", "ms per idle poll"],
        )
    )
    profile = {part: where_cpu_goes(profiles / f"{part}.txt", ROOT) for part in ("run", "idle")}
    for part, shares in profile.items():
        rows = [[group, f"{share:.1%}"] for group, share in shares.items()]
        print(tabulate(rows, headers=[f"ours under py-spy ({part})", "share of samples"]))
    save(
        "following",
        {
            "poll_interval": POLL,
            "event_every_s": EVENT_EVERY,
            "events": len(lines),
            "runs": {name: [vars(m) | {"total_s": m.total_s} for m in results] for name, results in measured.items()},
            "median_total_cpu_s": median,
            "ours_beyond_prefect_s": beyond,
            "ratio_to_hand": ratio,
            "idle_poll_ms": idle,
            "target_ratio": TARGET_RATIO,
            "target_idle_poll_ms": TARGET_IDLE_MS,
            "final_score": scores.pop(),
            "prefect_server_background_cpu_per_s": background,
            "profile": profile,
        },
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    main(parser.parse_args().runs)
