"""10,000 game objects under one prefix, 1 % of them changing every second, followed by one live run.

    make bench-objects     (or: .venv/bin/python -m bench.many_objects [--games N] [--seconds S] [--reader R])

A seeded synthetic league of ``--games`` games (default 10,000) stands under one prefix, five
lines each, before the live flow starts (with the change feed and a 5 s fallback, poll 0.2 s, no
finalize). Once the run has a box score of every game (the catch-up, timed), for ``--seconds``
(default 60) the writer appends the next line to 1 % of the games every second, 100 PUTs sent
together, as 100 scorers would. A watcher follows MongoDB's change stream for the box scores as
they are written (``bench.many_games.Watcher``). Reported: freshness p50/p95/max from the end of
each PUT to the first box score covering it (all of them, and those written 10 s or more into
the window, once the catch-up's last work is done), the writes that were never shown, and the
live flow's CPU over the window (ms per event, share of one core).
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import time

import psutil
import pymongo

from bench.common import ROOT, SCRATCH, league_day, load, save
from bench.freshness import percentile
from bench.many_games import SETTLED_AFTER, Watcher, cpu_seconds, last_event
from devstack.servers import LiveFlowProcess, SeaweedS3, SecantusMongo, running

SEED = 31
FIRST_LINES = 5
BATCH = 500  # PUTs sent together while the prefix is filled


def run(games: int, seconds: float, share: float, feed: str, reader: str = "s3fs") -> dict:
    from boxscore.games import stream_url
    from boxscore.synthetic import synthetic_league
    from tasks.stream import write_streams

    workdir = SCRATCH / f"objects-{games}-{feed}"
    shutil.rmtree(workdir, ignore_errors=True)
    print(f"a league of {games:,} games ...", flush=True)
    league = synthetic_league(games, SEED)
    lines = {game: text.splitlines(keepends=True) for game, text in league.recordings.items()}
    upto = dict.fromkeys(lines, FIRST_LINES)
    with running(SeaweedS3(workdir / "s3"), SecantusMongo(workdir / "mongo")) as (s3, mongo):
        env = {**league_day(workdir, league, s3, mongo), "CHANGE_FEED": feed, "LIVE_METRICS_ADDRESS": ""}
        env["S3_READER"] = reader
        prefix, options = env["GAMESTREAM_URL"], s3.storage_options
        names = sorted(lines)
        for start in range(0, len(names), BATCH):
            batch = names[start : start + BATCH]
            write_streams({stream_url(prefix, g): "".join(lines[g][:FIRST_LINES]) for g in batch}, options)
        print(f"{games:,} objects written under {prefix}; the live flow starts ...", flush=True)
        flow = LiveFlowProcess(
            workdir / "flow",
            project_dir=ROOT,
            extra_env=env,
            args=[
                *("--poll-interval", "0.2", "--fallback-interval", "5", "--stall-timeout", "900"),
                *("--no-finalize", "--settle-seconds", "1"),
            ],
        )
        started = time.perf_counter()
        flow.start(timeout=300)
        boxscores = pymongo.MongoClient(mongo.url).sidearm.boxscores
        while len(boxscores.distinct("game_id")) < games:  # asked once a second: it reads every box score
            if time.perf_counter() - started > 900:
                raise TimeoutError(f"the run had no box score of each of {games:,} games after 900 s: {flow.log_path}")
            time.sleep(1.0)
        catch_up = time.perf_counter() - started
        print(f"every game has a box score after {catch_up:.1f} s; {share:.0%} of them change every second ...")
        watcher = Watcher(mongo.url)
        for game in names:
            watcher.covered[game] = watcher.newest[game] = last_event("".join(lines[game][:FIRST_LINES]))
        watcher.start()
        process = psutil.Process(flow.process.pid)
        cpu_before = sum(cpu_seconds(p) for p in (process, *process.children(recursive=True)))
        api_before = sum(cpu_seconds(p) for p in process.children(recursive=True))
        rng = random.Random(SEED)
        window = time.perf_counter()
        events = 0
        for second in range(int(seconds)):
            open_games = [g for g in names if upto[g] < len(lines[g]) - 2]  # leave the 00:00 mark and the sentinel
            chosen = rng.sample(open_games, round(games * share))
            for game in chosen:
                upto[game] += 1
            texts = {game: "".join(lines[game][: upto[game]]) for game in chosen}
            write_streams({stream_url(prefix, g): text for g, text in texts.items()}, options)
            at = time.perf_counter()
            for game, text in texts.items():
                watcher.written(game, last_event(text), at)
            events += len(chosen)
            if second % 10 == 9:
                print(f"  {second + 1} s: {events:,} events written, {watcher.outstanding()} not yet shown", flush=True)
            time.sleep(max(0.0, window + second + 1 - time.perf_counter()))
        window = time.perf_counter() - window
        cpu = sum(cpu_seconds(p) for p in (process, *process.children(recursive=True))) - cpu_before
        api = sum(cpu_seconds(p) for p in process.children(recursive=True)) - api_before
        deadline = time.perf_counter() + 60
        while watcher.outstanding() and time.perf_counter() < deadline:
            time.sleep(0.1)
        watcher.done.set()
        watcher.join(timeout=10)
        unshown = watcher.outstanding()
        flow.stop()
    lags = watcher.lags
    return {
        "games": games,
        "change_feed": feed,
        "reader": reader,
        "share_per_s": share,
        "seconds": round(window, 1),
        "catch_up_s": round(catch_up, 1),
        "events": events,
        "events_timed": len(lags),
        "never_shown": unshown,
        "p50_s": round(statistics.median(lags), 3),
        "p95_s": round(percentile(lags, 0.95), 3),
        "max_s": round(max(lags), 3),
        "settled_after_s": SETTLED_AFTER,
        "settled_p50_s": round(statistics.median(watcher.settled), 3),
        "settled_p95_s": round(percentile(watcher.settled, 0.95), 3),
        "settled_max_s": round(max(watcher.settled), 3),
        "flow_cpu_share": round((cpu - api) / window, 3),
        "flow_ms_per_event": round(1000 * (cpu - api) / events, 2),
        "target_p95_s": 0.5,
    }


def main(games: int, seconds: float, share: float, feeds: list[str], reader: str = "s3fs") -> None:
    runs = []
    for feed in feeds:
        result = run(games, seconds, share, feed, reader)
        print(result, flush=True)
        runs.append(result)
    kept = [
        r
        for r in (load("many_objects") or {}).get("runs", [])
        if (r["change_feed"], r.get("reader", "s3fs")) not in {(feed, reader) for feed in feeds}
    ]
    print("saved", save("many_objects", {"runs": kept + runs}))  # the other modes and readers keep their figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--games", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--share", type=float, default=0.01, help="the share of games that change every second")
    parser.add_argument("--change-feed", choices=["off", "auto"], action="append")
    parser.add_argument("--reader", choices=["s3fs", "obstore"], default="s3fs", help="S3_READER (default s3fs)")
    args = parser.parse_args()
    main(args.games, args.seconds, args.share, args.change_feed or ["auto"], args.reader)
