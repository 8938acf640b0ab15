"""A tick's reads on a process cluster's workers, timed alone: where the cluster's freshness tail is.

    make bench-worker-reads    (or: .venv/bin/python -m bench.worker_reads [ticks])

``make bench-many`` finds a p95 freshness of seconds on a process cluster where the threads
cluster has a fraction of one. This takes the flow, MongoDB and Prefect away and keeps the
rest as bench-many has it: a ``dask scheduler`` and two ``dask worker`` processes of one thread,
SeaweedFS, 10 games of which 2 get a new line every 0.2 s. Each tick, the benchmark writes the
lines, then sends the reads as the flow does (:func:`tasks.aggregate.advance_streams`: one task
per worker thread, each reading and folding its games with ``_advance_batch``), and times the
task inside the worker and the round trip from here. The same ticks run through each reader
(``S3_READER``: s3fs, obstore), alternating in blocks, on the same servers.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
from typing import Any

from distributed import Client

from bench.common import SCRATCH, save
from bench.freshness import percentile
from boxscore.live import GameRead
from boxscore.running import Progress, RunningTally
from devstack.servers import DaskScheduler, DaskWorker, SeaweedS3, running
from flows.gamestream import SEED_DIR
from tasks.aggregate import _advance_batch
from tasks.settings import READER_OPTION, S3_READERS
from tasks.stream import write_streams

GAMES, CHANGED, POLL, BLOCK = 10, 2, 0.2, 25  # BLOCK: ticks per reader before switching
TEAMS = frozenset({101, 205})
LINES = (SEED_DIR / "game_events.txt").read_text().splitlines(keepends=True)


def timed_batch(batch: dict[str, GameRead], storage_options: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    """``_advance_batch`` on a worker, with the seconds it took there."""
    start = time.perf_counter()
    steps = _advance_batch(batch, storage_options, None)
    return time.perf_counter() - start, steps


def run(ticks: int) -> dict[str, Any]:
    workdir = SCRATCH / "worker-reads"
    shutil.rmtree(workdir, ignore_errors=True)
    scheduler = DaskScheduler(workdir / "dask")
    workers = [DaskWorker(workdir / "dask", scheduler.address, f"worker-{i}") for i in (1, 2)]
    timings: dict[str, dict[str, list[float]]] = {reader: {"task": [], "round_trip": []} for reader in S3_READERS}
    with running(SeaweedS3(workdir / "s3"), scheduler, *workers) as (s3, *_):
        options = {reader: {**s3.storage_options, READER_OPTION: reader} for reader in S3_READERS}
        written = {game: 1 for game in range(GAMES)}
        states: dict[str, dict[int, RunningTally | None]] = {r: dict.fromkeys(range(GAMES)) for r in S3_READERS}

        def url(reader: str, game: int) -> str:
            return f"s3://{s3.bucket}/{reader}/g{game:04d}.txt"

        for reader in S3_READERS:
            write_streams({url(reader, game): LINES[0] for game in range(GAMES)}, s3.storage_options)
        with Client(scheduler.address, set_as_default=False) as client:
            next_tick = time.monotonic()
            for tick in range(ticks):
                reader = S3_READERS[(tick // BLOCK) % len(S3_READERS)]
                movers = [(tick * CHANGED + i) % GAMES for i in range(CHANGED)]
                for game in movers:
                    written[game] = written[game] % (len(LINES) - 1) + 1
                texts = {url(reader, game): "".join(LINES[: written[game]]) for game in movers}
                write_streams(texts, s3.storage_options)
                reads = {
                    str(game): GameRead(url(reader, game), TEAMS, states[reader][game], len(texts[url(reader, game)]))
                    for game in movers
                }
                start = time.perf_counter()
                futures = [
                    client.submit(timed_batch, {str(g): reads[str(g)]}, options[reader], pure=False) for g in movers
                ]
                done = client.gather(futures)
                timings[reader]["round_trip"].append(time.perf_counter() - start)
                for seconds, steps in done:
                    timings[reader]["task"].append(seconds)
                    for game, step in steps.items():
                        assert isinstance(step, Progress), f"{reader} failed a read: {step}"
                        states[reader][int(game)] = step.state
                next_tick += POLL
                time.sleep(max(0.0, next_tick - time.monotonic()))  # the poll's cadence, as the flow keeps it
    return {reader: summary(values) for reader, values in timings.items()}


def summary(values: dict[str, list[float]]) -> dict[str, Any]:
    return {
        f"{name}_{stat}_ms": round(1000 * fn(series), 1)
        for name, series in values.items()
        for stat, fn in (
            ("p50", statistics.median),
            ("p95", lambda s: percentile(s, 0.95)),
            ("p99", lambda s: percentile(s, 0.99)),
            ("max", max),
        )
    } | {"samples": len(values["round_trip"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ticks", type=int, nargs="?", default=600)
    ticks = parser.parse_args().ticks
    results = run(ticks)
    for reader, figures in results.items():
        print(f"{reader}: {figures}")
    save("worker_reads", {"games": GAMES, "changed_per_tick": CHANGED, "poll_s": POLL, "readers": results})


if __name__ == "__main__":
    main()
