"""Many games: 10, 100 and 1,000 concurrent synthetic games, on threads and on a process cluster.

    make bench-many            (or: .venv/bin/python -m bench.many_games [--cluster threads|processes]
                                [--reader s3fs|obstore] [games ...])

Replayed at 40x (60 game minutes in 90 s), 1,000 games at 10x: at 40x the simulator's 720 PUTs
a second and the servers saturated this machine's two cores before the flow did. The Dask
cluster is the flow's own threads ``LocalCluster``, or (``processes``) a ``dask scheduler`` and
two ``dask worker`` processes of one thread each, named by ``DASK_ADDRESS`` as a user's would be.

For each size, on fresh local SeaweedFS and SecantusDB servers: the live flow runs as its own
process (``python -m flows.live_boxscore`` on a prefix), the simulator replays a seeded league
(every game starting at once, 60 game minutes in 90 s), and a watcher follows MongoDB's change
stream for the box scores it has not seen yet (by ``_id``, which names the game and event).
Reported per size:

- freshness p50/p95/max: from the end of the PUT that wrote event k of a game to the first box
  score of that game covering k;
- events/s: events replayed / seconds from the first write to the last box score seen, and
  how long the replay itself took against its 90 s schedule (the simulator's 720 PUTs a
  second at 1,000 games compete for the same 2 cores, so it can fall behind its pace);
- CPU seconds per 1,000 events and peak memory of the live flow process (Dask threads
  included), from the kernel when it exits; CPU of its Prefect API server, of the S3 and
  MongoDB servers and of the simulator, sampled, so it shows where the machine's time goes;
  and the flow's CPU while the games are written only (``following_ms_per_event``: without its
  start and the end of the day's finals and finalize, which are the same in both modes).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import threading
import time
from collections import defaultdict

import psutil
import pymongo

from bench.common import ROOT, SCRATCH, league_day, load, save, tree_cpu
from bench.freshness import percentile
from devstack.servers import DaskScheduler, DaskWorker, LiveFlowProcess, SeaweedS3, SecantusMongo, running

SPEED = 40  # game seconds per real second
SPEEDS = {1000: 10}  # sizes this machine cannot feed at SPEED
POLL = 0.2
FALLBACK = 5.0  # with the change feed: every stream polled this often besides
SEED = 29
WATCH_EVERY = 0.05  # the watcher's change stream waits this long at most before it asks whether to stop
#: Freshness is also reported for events written this long after the first write: the Dask
#: workers' first task (imports, S3 clients) is paid once per worker process, in the first seconds.
SETTLED_AFTER = 10.0


def last_event(text: str) -> int:
    return int(text.rstrip("\n").rsplit("\n", 1)[-1].split()[0])


class Watcher(threading.Thread):
    """Notes when each written event first shows in a box score of its game.

    Every document the flow writes for a game is ``<game>/<k>``, k its last event; the watcher
    follows the collection's change stream (as the page does) and takes each new ``_id`` as it
    comes, so watching adds no query load to the server it measures (asking it every 50 ms for
    the ids it could predict cost SecantusDB more the further the flow fell behind).
    """

    def __init__(self, mongo_url: str) -> None:
        super().__init__(daemon=True)
        self.collection = pymongo.MongoClient(mongo_url).sidearm.boxscores
        self.lock = threading.Lock()
        self.pending: dict[str, list[tuple[int, float]]] = defaultdict(list)  # game -> [(event, written at)]
        self.covered: dict[str, int] = defaultdict(lambda: -1)  # each game's newest event shown
        self.newest: dict[str, int] = defaultdict(lambda: -1)  # and written
        self.lags: list[float] = []
        self.settled: list[float] = []  # the lags of events written SETTLED_AFTER s or more after the first write
        self.first_write = self.last_shown = 0.0
        self.done = threading.Event()
        self._listening = threading.Event()

    def start(self) -> None:
        """Start following, and return once the change stream is open: no write after it is missed."""
        super().start()
        if not self._listening.wait(30):
            raise TimeoutError("the watcher's change stream did not open within 30 s")

    def written(self, game: str, event: int, at: float) -> None:
        """Event ``event`` of ``game`` was written at ``at`` (the end of its batch of PUTs); a box
        score covering it already shown (a tick faster than the batch's other PUTs) is a lag of 0."""
        with self.lock:
            self.first_write = self.first_write or at
            new, self.newest[game] = event > self.newest[game], max(event, self.newest[game])
            if event > self.covered[game]:
                self.pending[game].append((event, at))
            elif new:
                self.lags.append(0.0)
                if at >= self.first_write + SETTLED_AFTER:
                    self.settled.append(0.0)

    def run(self) -> None:
        written = {"$match": {"operationType": {"$in": ["insert", "replace", "update"]}}}
        pipeline = [written, {"$project": {"documentKey": 1}}]
        with self.collection.watch(pipeline, max_await_time_ms=int(WATCH_EVERY * 1000)) as stream:
            self._listening.set()
            while True:
                change = stream.try_next()
                if change is None:
                    if self.done.is_set():  # the flow has written all it will: nothing is left to come
                        return
                    continue
                game, k = change["documentKey"]["_id"].rsplit("/", 1)
                self._shown(game, int(k), time.perf_counter())

    def _shown(self, game: str, k: int, now: float) -> None:
        with self.lock:
            self.covered[game] = max(self.covered[game], k)
            events = self.pending[game]
            self.lags += [now - at for event, at in events if event <= k]
            settled = self.first_write + SETTLED_AFTER
            self.settled += [now - at for event, at in events if event <= k and at >= settled]
            self.pending[game] = [(event, at) for event, at in events if event > k]
            self.last_shown = now

    def outstanding(self) -> int:
        with self.lock:
            return sum(len(events) for events in self.pending.values())


def cpu_seconds(process: psutil.Process) -> float:
    try:
        times = process.cpu_times()
    except psutil.Error:
        return 0.0
    return times.user + times.system


def quiet_dask_env() -> dict[str, str]:
    """:data:`tasks.cluster.QUIET_LOCAL_CLUSTER` as the environment of ``dask`` processes (README)."""
    from tasks.cluster import QUIET_LOCAL_CLUSTER

    return {
        "DASK_" + key.upper().replace(".", "__").replace("-", "_"): str(value)
        for key, value in QUIET_LOCAL_CLUSTER.items()
    }


def run(games: int, poll: float = POLL, cluster: str = "threads", feed: str = "off", reader: str = "s3fs") -> dict:
    from boxscore.replay import replay_schedule
    from boxscore.synthetic import synthetic_league
    from flows.gamestream import play

    workdir = SCRATCH / f"many-{games}-{cluster}-{feed}-{reader}"
    speed = SPEEDS.get(games, SPEED)
    shutil.rmtree(workdir, ignore_errors=True)
    league = synthetic_league(games, SEED)
    schedule = replay_schedule(league.recordings, stagger=0)
    events = sum(1 for write in schedule if last_event(write.text) >= 0)
    os.environ.update(quiet_dask_env())  # the scheduler and workers, configured as README recommends
    scheduler = DaskScheduler(workdir / "dask")
    dask = [scheduler, *(DaskWorker(workdir / "dask", scheduler.address, f"worker-{i}") for i in (1, 2))]
    servers = (SeaweedS3(workdir / "s3"), SecantusMongo(workdir / "mongo"), *(dask if cluster == "processes" else ()))
    with running(*servers) as (s3, mongo, *workers):
        env = {**league_day(workdir, league, s3, mongo), "PREFECT_LOGGING_LEVEL": "INFO", "CHANGE_FEED": feed}
        env["S3_READER"] = reader
        prefix = env["GAMESTREAM_URL"]
        if workers:
            env["DASK_ADDRESS"] = scheduler.address
        dask_processes = [psutil.Process(w.process.pid) for w in workers if w.process is not None]
        dask_before = [tree_cpu(p) for p in dask_processes]
        flow = LiveFlowProcess(
            workdir / "flow",
            project_dir=ROOT,
            extra_env=env,
            args=[
                *("--poll-interval", str(poll), "--settle-seconds", "1", "--stall-timeout", "120"),
                *("--fallback-interval", str(FALLBACK)),
            ],
        )
        flow.start(timeout=300)
        flow_process = psutil.Process(flow.process.pid)
        servers = [psutil.Process(s3.process.pid), psutil.Process(mongo.process.pid)]
        cpu_before = {"s3": cpu_seconds(servers[0]), "mongo": cpu_seconds(servers[1])}
        watcher = Watcher(mongo.url)
        watcher.start()
        api_cpu: dict[int, float] = {}

        def sample() -> None:  # the flow's Prefect API server is a child process: sample its CPU
            for child in flow_process.children(recursive=True):
                api_cpu[child.pid] = cpu_seconds(child)

        def on_written(writes, at: float) -> None:
            for write in writes:
                if (event := last_event(write.text)) >= 0:
                    watcher.written(write.game_id, event, at)

        def progress(done: int) -> None:
            sample()
            print(
                f"  {games} games: wrote {done}/{len(schedule)}, {watcher.outstanding()} events not yet shown",
                flush=True,
            )

        own_before = resource.getrusage(resource.RUSAGE_SELF)
        following_before = cpu_seconds(flow_process)  # its own threads: its API server is a child
        replay_started = time.perf_counter()
        play(schedule, prefix, s3.storage_options, 1 / speed, on_written=on_written, progress=progress)
        own_after = resource.getrusage(resource.RUSAGE_SELF)
        replay_seconds = time.perf_counter() - replay_started
        sample()
        # the flow's own CPU while the games are written, its start and the day's finalize left out
        following_cpu = cpu_seconds(flow_process) - following_before
        code, usage = flow.finish(timeout=300)
        watcher.done.set()
        watcher.join()
        cpu_after = {"s3": cpu_seconds(servers[0]), "mongo": cpu_seconds(servers[1])}
        dask_cpu = [tree_cpu(p) - before for p, before in zip(dask_processes, dask_before, strict=True)]
        following_s = time.perf_counter() - replay_started
    if code != 0:
        raise RuntimeError(f"the live flow exited with {code}: see {flow.log_path}")
    lags = watcher.lags
    flow_cpu = usage.ru_utime + usage.ru_stime
    workers_cpu = sum(dask_cpu[1:])
    return {
        "games": games,
        "cluster": cluster,
        "change_feed": feed,
        "reader": reader,
        "fallback_interval": FALLBACK if feed != "off" else None,
        "speed": speed,
        "poll_interval": poll,
        "events": events,
        "writes": len(schedule),
        "events_timed": len(lags),
        "replay_s": round(replay_seconds, 1),
        "replay_s_scheduled": round(schedule[-1].at / speed, 1),
        "p50_s": round(statistics.median(lags), 3),
        "p95_s": round(percentile(lags, 0.95), 3),
        "max_s": round(max(lags), 3),
        "settled_after_s": SETTLED_AFTER,
        "settled_p50_s": round(statistics.median(watcher.settled), 3),
        "settled_p95_s": round(percentile(watcher.settled, 0.95), 3),
        "settled_max_s": round(max(watcher.settled), 3),
        "events_per_s": round(events / (watcher.last_shown - watcher.first_write), 1),
        "flow_cpu_s": round(flow_cpu, 2),
        "flow_cpu_s_per_1000_events": round(1000 * flow_cpu / events, 3),
        "flow_peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
        "flow_ms_per_event": round(1000 * (flow_cpu - sum(api_cpu.values())) / events, 3),
        "flow_ms_per_poll": round(1000 * (flow_cpu - sum(api_cpu.values())) * poll / following_s, 2),
        "following_ms_per_event": round(1000 * following_cpu / events, 3),
        "scheduler_cpu_s": round(dask_cpu[0], 2) if dask_cpu else None,
        "workers_cpu_s": round(workers_cpu, 2) if dask_cpu else None,
        "workers_ms_per_event": round(1000 * workers_cpu / events, 3) if dask_cpu else None,
        "prefect_api_cpu_s": round(sum(api_cpu.values()), 2),
        "s3_server_cpu_s": round(cpu_after["s3"] - cpu_before["s3"], 2),
        "mongo_server_cpu_s": round(cpu_after["mongo"] - cpu_before["mongo"], 2),
        "simulator_and_watcher_cpu_s": round(
            own_after.ru_utime + own_after.ru_stime - own_before.ru_utime - own_before.ru_stime, 2
        ),
        "target_p95_s": 2.0 if games >= 1000 else round(poll + 0.3, 3),
    }


def main(sizes: list[int], clusters: list[str], feeds: list[str], reader: str = "s3fs") -> None:
    (SCRATCH / "many-prefect").mkdir(parents=True, exist_ok=True)
    os.environ.update(
        {
            "PREFECT_HOME": str(SCRATCH / "many-prefect"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
        }
    )
    results = []
    for cluster in clusters:
        for games in sizes:
            for feed in feeds:
                print(
                    f"{games} concurrent games at {SPEEDS.get(games, SPEED)}x, poll {POLL} s, {cluster}, "
                    f"CHANGE_FEED={feed}, S3_READER={reader} ...",
                    flush=True,
                )
                started = time.perf_counter()
                result = run(games, cluster=cluster, feed=feed, reader=reader)
                print(f"  {result} ({time.perf_counter() - started:.0f} s)", flush=True)
                results.append(result)
    measured = {(r["games"], r["cluster"], r["change_feed"], r["reader"]) for r in results}
    kept = [
        r
        for r in (load("many_games") or {}).get("runs", [])
        if (r["games"], r.get("cluster", "threads"), r.get("change_feed", "off"), r.get("reader", "s3fs"))
        not in measured
    ]
    print("saved", save("many_games", {"runs": kept + results}))  # the sizes not run again keep their figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("games", nargs="*", type=int, default=[10, 100, 1000])
    parser.add_argument("--cluster", choices=["threads", "processes"], action="append")
    parser.add_argument(
        "--change-feed", choices=["off", "auto"], action="append", help="polling only, or the store's feed (both)"
    )
    parser.add_argument("--reader", choices=["s3fs", "obstore"], default="s3fs", help="S3_READER (default s3fs)")
    args = parser.parse_args()
    main(args.games, args.cluster or ["threads", "processes"], args.change_feed or ["off", "auto"], args.reader)
