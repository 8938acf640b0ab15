"""The change feed against polling, side by side in one run: one game's freshness, an idle game's cost.

    make bench-feed       (or: .venv/bin/python -m bench.change_feed [delay] [idle_seconds])

On local SeaweedFS and SecantusDB, the live flow follows the recorded game twice, with
``CHANGE_FEED=off`` (polling every 0.2 s, what a user has without a feed) and with the feed on
(the filer's metadata stream; every stream polled every 5 s besides), in alternating order:

- **freshness**: the game replayed at ``delay`` real seconds per game second (default 0.02);
  a watcher reads the newest box score every 2 ms; for each event, the time from the end of
  its S3 write to the first box score that covers it;
- **an idle game**: a game stream that does not change: the S3 requests the process sent
  (counted on botocore's ``before-send``, every client of the process) and the process's CPU
  time, both per minute, over ``idle_seconds`` (default 30) once the run has let go of its Dask
  workers, and over the first ``HELD`` seconds before it does.

Prints a table and saves ``bench/results/change_feed.json``.
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tabulate import tabulate

from bench.common import one_game_stack, save
from boxscore.live import LoopRules

MODES = {"polling every 0.2 s (CHANGE_FEED=off)": "off", "change feed (fallback 5 s)": "auto"}
POLL, FALLBACK = 0.2, 5.0
#: an idle game's first stretch, while the run keeps its Dask workers (it lets them go after
#: ``release_workers_after`` without a read): measured apart from the rest of its idle time
HELD = LoopRules().release_workers_after + 1.0
ENDED = "the rest: threads that ended in it (a let-go cluster's), under 1 ms/min, clocks' difference"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class Requests:
    """S3 requests this process sends, counted as botocore sends them. Made before any S3 client:
    a client copies the session's handlers when it is created."""

    def __init__(self) -> None:
        from tasks.stream import botocore_session

        self.count = 0
        botocore_session().register("before-send.s3", self._sent)

    def _sent(self, **_: Any) -> None:
        self.count += 1


def freshness(url: str, storage_options: dict, mongo_url: str, delay: float, follow: Callable[[], Any]) -> dict:
    import pymongo

    from boxscore.replay import replay_frames
    from flows.gamestream import RECORDED_GAME
    from tasks.stream import write_stream

    live = follow()
    written: dict[int, float] = {}
    shown: list[tuple[float, int]] = []
    done = threading.Event()
    client = pymongo.MongoClient(mongo_url)
    collection = client.sidearm[os.environ["MONGO_COLLECTION"]]

    def watch() -> None:
        while not done.is_set():
            latest = collection.find_one(sort=[("_id", -1)], projection={"_id": 1})
            if latest and (not shown or latest["_id"] > shown[-1][1]):
                shown.append((time.perf_counter(), latest["_id"]))
            time.sleep(0.002)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    started, elapsed = time.perf_counter(), 0
    for frame in replay_frames(RECORDED_GAME.read_text()):
        elapsed += frame.wait_game_seconds
        time.sleep(max(0.0, started + elapsed * delay - time.perf_counter()))
        write_stream(url, frame.text, storage_options)
        event = int(frame.text.rstrip("\n").rsplit("\n", 1)[-1].split()[0])
        if event >= 0:
            written[event] = time.perf_counter()
    live.result(timeout=600)
    done.set()
    watcher.join()
    client.close()
    lags = [
        max(0.0, first - at)
        for event, at in written.items()
        if (first := next((t for t, shown_id in shown if shown_id >= event), None)) is not None
    ]
    return {
        "events": len(lags),
        "p50_ms": round(1000 * statistics.median(lags), 1),
        "p95_ms": round(1000 * percentile(lags, 0.95), 1),
        "max_ms": round(1000 * max(lags), 1),
    }


def idle(
    url: str,
    storage_options: dict,
    mongo_url: str,
    seconds: float,
    follow: Callable[[], Any],
    requests: Requests,
) -> dict:
    """A game read to its tenth event, then left alone: the process's S3 requests and CPU per
    minute over its first ``HELD`` seconds (the run keeps its Dask workers) and over the
    ``seconds`` after them (let go: a game idle for longer, a break or between games), with the
    CPU of each of the process's threads then."""
    import pymongo

    from flows.gamestream import RECORDED_GAME
    from tasks.stream import write_stream

    lines = [line for line in RECORDED_GAME.read_text().splitlines() if line.strip()]
    live = follow()  # it polls for the stream, then reads it as a feed writes it
    write_stream(url, "\n".join(lines[:10]) + "\n", storage_options)
    with pymongo.MongoClient(mongo_url) as client:
        collection = client.sidearm[os.environ["MONGO_COLLECTION"]]
        while collection.find_one({"event_id": 9}) is None:  # the run has read the stream as it is
            time.sleep(0.05)
    time.sleep(1.0)  # the tick that wrote it, and the first full poll after it, are over
    held = _cost(requests, HELD)
    steady = _cost(requests, seconds)
    write_stream(url, "\n".join(lines) + "\n", storage_options)  # the game ends: the run stops
    live.result(timeout=300)
    return {**steady, "first_seconds": held}


def _cost(requests: Requests, seconds: float) -> dict:
    """The process's S3 requests and CPU per minute over the next ``seconds``, and each thread's
    CPU per minute (by its name; the threads of a kind summed, those under 1 ms/min left out)."""
    threads, cpu, wall, sent = _thread_cpu(), time.process_time(), time.perf_counter(), requests.count
    time.sleep(seconds)
    cpu, wall, sent = time.process_time() - cpu, time.perf_counter() - wall, requests.count - sent
    by_thread: dict[str, float] = {}
    for tid, (name, ms) in _thread_cpu().items():
        by_thread[name] = by_thread.get(name, 0.0) + ms - threads.get(tid, (name, 0.0))[1]
    threads_cpu = {
        name: round(60 * ms / wall, 1)
        for name, ms in sorted(by_thread.items(), key=lambda item: -item[1])
        if 60 * ms / wall >= 1.0
    }
    # a thread that ended in the window (the let-go cluster's) is gone from /proc with its count
    threads_cpu[ENDED] = round(60_000 * cpu / wall - sum(threads_cpu.values()), 1)
    return {
        "seconds": round(wall, 1),
        "s3_requests_per_min": round(60 * sent / wall, 1),
        "cpu_ms_per_min": round(60_000 * cpu / wall, 1),
        "threads_cpu_ms_per_min": threads_cpu,
    }


def _thread_cpu() -> dict[int, tuple[str, float]]:
    """Each thread of this process: its kind (Python's name without its number, else the kernel's)
    and its CPU time so far in ms (the scheduler's nanosecond count)."""
    names = {thread.native_id: thread.name for thread in threading.enumerate()}
    threads = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            ns = int(Path(f"/proc/self/task/{tid}/schedstat").read_text().split()[0])
            kernel = Path(f"/proc/self/task/{tid}/comm").read_text().strip()
        except OSError:  # it ended meanwhile
            continue
        name = names.get(int(tid), kernel)
        threads[int(tid)] = (re.sub(r"-\d+\b", "", name), ns / 1e6)
    return threads


def main(delay: float = 0.02, idle_seconds: float = 30.0) -> None:
    requests = Requests()
    with one_game_stack("change_feed", LIVE_METRICS_ADDRESS="") as (s3, mongo):
        from devstack.follow import start_polling
        from flows.live_boxscore import live_boxscore

        rows: dict[str, dict[str, Any]] = {label: {} for label in MODES}
        for run, order in enumerate((list(MODES), list(reversed(MODES)))):
            for label in order:
                os.environ["CHANGE_FEED"] = MODES[label]
                prefix = f"s3://{s3.bucket}/{MODES[label]}-{run}"

                def follow() -> Any:
                    return start_polling(
                        lambda: live_boxscore(poll_interval=POLL, fallback_interval=FALLBACK, settle_seconds=0.5)
                    )

                os.environ["GAMESTREAM_URL"] = f"{prefix}-game.txt"
                os.environ["MONGO_COLLECTION"] = f"fresh_{MODES[label]}_{run}"
                print(f"{label}: freshness, run {run + 1}", flush=True)
                fresh = freshness(os.environ["GAMESTREAM_URL"], s3.storage_options, mongo.url, delay, follow)
                os.environ["GAMESTREAM_URL"] = f"{prefix}-idle.txt"
                os.environ["MONGO_COLLECTION"] = f"idle_{MODES[label]}_{run}"
                print(f"{label}: an idle game for {idle_seconds:.0f} s, run {run + 1}", flush=True)
                quiet = idle(
                    os.environ["GAMESTREAM_URL"], s3.storage_options, mongo.url, idle_seconds, follow, requests
                )
                rows[label].setdefault("runs", []).append({"freshness": fresh, "idle": quiet})
                print(f"  {fresh}; idle: {quiet}", flush=True)
    table = []
    for label, row in rows.items():
        runs = row["runs"]
        row["freshness"] = {key: max(r["freshness"][key] for r in runs) for key in ("p50_ms", "p95_ms", "max_ms")}
        row["idle"] = {
            key: round(statistics.mean(r["idle"][key] for r in runs), 1)
            for key in ("s3_requests_per_min", "cpu_ms_per_min")
        }
        row["idle"]["first_seconds"] = {
            key: round(statistics.mean(r["idle"]["first_seconds"][key] for r in runs), 1)
            for key in ("seconds", "s3_requests_per_min", "cpu_ms_per_min")
        }
        table.append(
            [
                label,
                row["freshness"]["p50_ms"],
                row["freshness"]["p95_ms"],
                row["freshness"]["max_ms"],
                row["idle"]["first_seconds"]["cpu_ms_per_min"],
                row["idle"]["s3_requests_per_min"],
                row["idle"]["cpu_ms_per_min"],
            ]
        )
    off, on = (rows[label]["idle"] for label in MODES)
    ratios = {
        key: round(on[key] / off[key], 3) if off[key] else None for key in ("s3_requests_per_min", "cpu_ms_per_min")
    }
    headers = [
        "mode",
        "write -> MongoDB p50 ms",
        "p95 ms",
        "max ms",
        f"idle, first {HELD:.0f} s: CPU ms/min",
        "idle, after: S3 requests/min",
        "CPU ms/min",
    ]
    print(tabulate(table, headers=headers))
    print(
        f"idle game, feed / polling: S3 requests {ratios['s3_requests_per_min']}, CPU {ratios['cpu_ms_per_min']} "
        "(target <= 0.05 each); freshness p95 target <= 50 ms"
    )
    print(
        "saved",
        save(
            "change_feed",
            {"delay": delay, "idle_seconds": idle_seconds, "modes": rows, "idle_feed_over_polling": ratios},
        ),
    )


if __name__ == "__main__":
    main(*(float(arg) for arg in sys.argv[1:]))
