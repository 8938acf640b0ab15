"""Many games: a tick's CPU against the S3 requests it cannot avoid, at 10, 100 and 1,000 games.

    make bench-floor            (or: .venv/bin/python -m bench.tick_floor [games ...])

For each size, N synthetic games under one prefix on local SeaweedFS and SecantusDB:

- ours: ``python -m flows.live_boxscore`` follows them (threads Dask cluster in its process, poll
  0.2 s; 1 s at 1,000 games, whose LIST alone takes longer than 0.2 s). Once every game has its
  first box score: 40 polls with no change, then rounds five polls apart in which 15 % of the
  games (at least one) get one new event each, until every round's box scores show, then 40
  polls with no change again; the CPU per idle poll is the mean of the two idle windows.
  A tick with k changed games costs the idle poll plus k times the CPU per changed game (the
  rounds' CPU less their idle polls, over the changed games). The model holds while the flow
  keeps its cadence, which rounds five polls apart and the longer poll at 1,000 games leave it.
- floor: the requests such a tick cannot avoid, from this process with one reused client, on
  the same objects: one LIST of the prefix and one range GET per changed game (its last line),
  with s3fs (the reader our users named) and with obstore's fsspec store (Rust), which must
  return the same bytes. CPU is this process's (all threads), median of the rounds.
- the same flow reading through obstore (``S3_READER=obstore``), measured the way ours is, right
  after it on the same servers: issue #13 offers obstore only if it cuts the tick 3x or more.

Reported: ms of CPU per tick for each, ours / s3fs floor (target 2x), s3fs / obstore, the
flow's tick with s3fs over the flow's tick with obstore, and where the flow's CPU went during
the rounds (py-spy, ``bench.profile``).
"""

from __future__ import annotations

import argparse
import shutil
import signal
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import psutil
import pymongo
from tabulate import tabulate

from bench.common import ROOT, SCRATCH, save
from bench.following import profile
from bench.many_games import cpu_seconds
from bench.profile import where_cpu_goes
from devstack.servers import LiveFlowProcess, SeaweedS3, SecantusMongo, local_pipeline_env, running, wait_until

POLL = 0.2
POLLS = {1000: 1.0}  # a LIST of 1,000 objects takes longer than 0.2 s: the flow could not keep that cadence
IDLE_POLLS = 40  # polls with no change: the per-poll cost every round's CPU is corrected by
ROUNDS = 12
POLLS_PER_ROUND = 5  # rounds of changes this many polls apart
FIRST_EVENTS = 20
CHANGED_SHARE = 0.15
TARGET_RATIO = 2.0
SIZES = [10, 100, 1000]
OFFER_OBSTORE_FROM = 3.0  # the bar: offer obstore if it cuts the tick this much


def write_events(prefix: str, recordings: dict[str, str], counts: dict[str, int], storage_options: dict) -> None:
    """The streams of ``counts``' games as their first ``counts[game]`` lines (events 0 .. count - 1)."""
    from tasks.stream import write_streams

    texts = {
        f"{prefix}{game}.txt": "".join(recordings[game].splitlines(True)[:count]) for game, count in counts.items()
    }
    write_streams(texts, storage_options)


def changed_per_tick(games: int) -> int:
    return max(1, round(games * CHANGED_SHARE))


class Follower(NamedTuple):
    """A live flow process, not started yet, to follow a fresh prefix into a fresh database."""

    prefix: str
    flow: LiveFlowProcess
    collection: Any  # the database's boxscores collection, where the benchmark watches for box scores


def follower(
    label: str,
    tree: Path,
    servers: tuple[SeaweedS3, SecantusMongo],
    sql_file: Path,
    poll: float,
    reader: str = "s3fs",
    change_feed: str = "off",
) -> Follower:
    """The live flow of ``tree`` on a new prefix and database, reading through ``reader``
    (``S3_READER``), polling every ``poll`` s (``change_feed`` off: these benchmarks measure
    polling; a tree before the feed ignores the setting), no finalize."""
    s3, mongo = servers
    prefix = f"s3://{s3.bucket}/{label}-{time.monotonic_ns()}/"
    database = f"ticks_{time.monotonic_ns()}"
    env = {
        **local_pipeline_env(s3, mongo, sql_file),
        "GAMESTREAM_URL": prefix,
        "MONGO_DB": database,
        "S3_READER": reader,
        "DASK_LOGGING__DISTRIBUTED": "warning",
        "CHANGE_FEED": change_feed,
    }
    flow = LiveFlowProcess(
        SCRATCH / f"ticks-{label}-{time.monotonic_ns()}",
        project_dir=tree,
        extra_env=env,
        args=["--poll-interval", str(poll), "--stall-timeout", "600", "--no-finalize"],
    )
    return Follower(prefix, flow, pymongo.MongoClient(mongo.url)[database].boxscores)


def flow_tick_cost(
    label: str,
    tree: Path,
    servers: tuple[SeaweedS3, SecantusMongo],
    sql_file: Path,
    recordings: dict[str, str],
    changed: int,
    rounds: int = ROUNDS,
    idle_polls: int = IDLE_POLLS,
    poll: float = POLL,
    profile_to: Path | None = None,
    reader: str = "s3fs",
) -> dict[str, Any]:
    """The live flow of ``tree`` following ``recordings``: ms of CPU per idle poll and per changed game.

    With ``profile_to``, py-spy samples the flow during the rounds (it reads the process's memory
    without pausing it; its own CPU is not the flow's).
    """
    s3 = servers[0]
    prefix, flow, collection = follower(label, tree, servers, sql_file, poll, reader)
    counts = dict.fromkeys(recordings, FIRST_EVENTS)
    write_events(prefix, recordings, counts, s3.storage_options)

    def shown(games: list[str]) -> bool:
        wanted = [f"{game}/{counts[game] - 1}" for game in games]
        return collection.count_documents({"_id": {"$in": wanted}}) == len(wanted)

    games = sorted(recordings)
    try:
        flow.start(timeout=300)
        process = psutil.Process(flow.process.pid)
        wait_until(lambda: shown(games), 600, "every game's first box score")

        def idle_poll_cpu() -> float:
            """CPU per poll while nothing changes: the measured phase itself, the flow polling."""
            start, wall = cpu_seconds(process), time.monotonic()
            time.sleep(idle_polls * poll)
            return (cpu_seconds(process) - start) / ((time.monotonic() - wall) / poll)

        idle_before = idle_poll_cpu()
        profiler = None if profile_to is None else profile(process.pid, profile_to)
        changed_start, changed_wall = cpu_seconds(process), time.monotonic()
        for step in range(rounds):
            # rounds five polls apart: the flow's ticks keep their cadence, one in five sees the changes
            time.sleep(max(0.0, changed_wall + step * POLLS_PER_ROUND * poll - time.monotonic()))
            movers = [games[(step * changed + i) % len(games)] for i in range(changed)]
            for game in movers:
                counts[game] += 1
            write_events(prefix, recordings, {game: counts[game] for game in movers}, s3.storage_options)
        wait_until(lambda: shown(games), 120, "every round's box scores")
        changed_cpu = cpu_seconds(process) - changed_start
        polls_meanwhile = (time.monotonic() - changed_wall) / poll
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)  # py-spy writes what it sampled and exits
            profiler.wait(60)
        idle_after = idle_poll_cpu()
    finally:
        flow.stop()
    # idle polls measured on both sides of the rounds: one window alone drifted by 2x between runs
    per_poll = (idle_before + idle_after) / 2
    per_game = (changed_cpu - per_poll * polls_meanwhile) / (changed * rounds)
    return {
        "prefix": prefix,
        "idle_poll_ms": 1000 * per_poll,
        "idle_poll_ms_before_after": [round(1000 * idle_before, 2), round(1000 * idle_after, 2)],
        "changed_game_ms": 1000 * per_game,
        "tick_ms": 1000 * (per_poll + changed * per_game),
    }


def s3fs_client(s3: SeaweedS3) -> Any:
    import s3fs

    return s3fs.S3FileSystem(skip_instance_cache=True, **s3.storage_options)


def obstore_client(s3: SeaweedS3) -> Any:
    from tasks.obstore_s3 import obstore_filesystem

    return obstore_filesystem(s3.storage_options)


def floor_tick_ms(client: Any, prefix: str, changed: int, rounds: int = ROUNDS) -> tuple[float, list[bytes]]:
    """Median ms of this process's CPU for one LIST and ``changed`` range GETs; and the bytes read."""
    path = prefix.removeprefix("s3://").rstrip("/")
    sizes = {entry["name"]: int(entry["size"]) for entry in client.ls(path, detail=True)}
    names = sorted(sizes)
    cpu: list[float] = []
    read: list[bytes] = []
    for step in range(rounds):
        movers = [names[(step * changed + i) % len(names)] for i in range(changed)]
        started = time.process_time()
        client.invalidate_cache(path)
        listed = client.ls(path, detail=True)
        read = client.cat_ranges(movers, [sizes[name] - 20 for name in movers], [sizes[name] for name in movers])
        cpu.append(time.process_time() - started)
        assert len(listed) == len(names)
    return 1000 * statistics.median(cpu), read


def run(games: int, workdir: Path, tree: Path = ROOT) -> dict[str, Any]:
    from boxscore.synthetic import synthetic_league
    from flows.gamestream import SEED_DIR
    from tasks.reference import read_seed, reset_reference

    league = synthetic_league(games, seed=13, shots=(60, 80))
    sql_file = workdir / f"sidearmdb-{games}.sqlite"
    teams, players = read_seed(SEED_DIR)
    reset_reference.fn(f"sqlite:///{sql_file}", teams + league.teams, players + league.players, league.matchups)
    changed = changed_per_tick(games)
    with running(SeaweedS3(workdir / f"s3-{games}"), SecantusMongo(workdir / f"mongo-{games}")) as (s3, mongo):
        raw = workdir / f"profile-{games}.txt"
        poll = POLLS.get(games, POLL)
        recordings = league.recordings
        ours = flow_tick_cost(
            f"floor{games}", tree, (s3, mongo), sql_file, recordings, changed, poll=poll, profile_to=raw
        )
        with_obstore = flow_tick_cost(
            f"obstore{games}", tree, (s3, mongo), sql_file, recordings, changed, poll=poll, reader="obstore"
        )
        floors: dict[str, float] = {}
        read: dict[str, list[bytes]] = {}
        clients: dict[str, Callable[[SeaweedS3], Any]] = {"s3fs": s3fs_client, "obstore": obstore_client}
        for name, make in clients.items():
            floors[name], read[name] = floor_tick_ms(make(s3), ours["prefix"], changed)
        assert read["s3fs"] == read["obstore"], "obstore and s3fs read different bytes"
    return {
        "games": games,
        "poll_interval": poll,
        "changed_per_tick": changed,
        "ours_idle_poll_ms": round(ours["idle_poll_ms"], 2),
        "ours_idle_poll_ms_before_after": ours["idle_poll_ms_before_after"],
        "ours_changed_game_ms": round(ours["changed_game_ms"], 2),
        "ours_tick_ms": round(ours["tick_ms"], 2),
        "s3fs_floor_ms": round(floors["s3fs"], 2),
        "obstore_floor_ms": round(floors["obstore"], 2),
        "ours_over_s3fs_floor": round(ours["tick_ms"] / floors["s3fs"], 2),
        "s3fs_over_obstore": round(floors["s3fs"] / floors["obstore"], 2),
        "obstore_flow_idle_poll_ms": round(with_obstore["idle_poll_ms"], 2),
        "obstore_flow_idle_poll_ms_before_after": with_obstore["idle_poll_ms_before_after"],
        "obstore_flow_changed_game_ms": round(with_obstore["changed_game_ms"], 2),
        "obstore_flow_tick_ms": round(with_obstore["tick_ms"], 2),
        "ours_over_obstore_flow": round(ours["tick_ms"] / with_obstore["tick_ms"], 2),
        "idle_poll_over_obstore_flow": round(ours["idle_poll_ms"] / with_obstore["idle_poll_ms"], 2),
        "profile": where_cpu_goes(raw, ROOT),
    }


def main(sizes: list[int]) -> None:
    workdir = SCRATCH / "tick-floor"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    results = []
    for games in sizes:
        print(f"{games} games, {changed_per_tick(games)} changed per tick ...", flush=True)
        results.append(run(games, workdir))
        print(f"  {results[-1]}", flush=True)
    headers = ["games", "changed/tick", "ours ms/tick", "s3fs floor ms", "ours / floor", "obstore ms", "s3fs / obstore"]
    keys = ["games", "changed_per_tick", "ours_tick_ms", "s3fs_floor_ms", "ours_over_s3fs_floor", "obstore_floor_ms"]
    rows = [[*(r[key] for key in keys), r["s3fs_over_obstore"]] for r in results]
    print(tabulate(rows, headers=headers))
    print(f"target: ours at most {TARGET_RATIO:.0f}x the s3fs floor")
    headers = ["games", "idle poll: s3fs / obstore flow", "tick ms: s3fs flow", "obstore flow", "s3fs / obstore"]
    keys = ["games", "idle_poll_over_obstore_flow", "ours_tick_ms", "obstore_flow_tick_ms", "ours_over_obstore_flow"]
    print(tabulate([[r[key] for key in keys] for r in results], headers=headers))
    print(f"issue #13: obstore behind a setting (S3_READER) if it cuts the tick {OFFER_OBSTORE_FROM:.0f}x or more")
    save("tick_floor", {"target_ratio": TARGET_RATIO, "offer_obstore_from": OFFER_OBSTORE_FROM, "runs": results})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("games", nargs="*", type=int, default=SIZES)
    main(parser.parse_args().games)
