"""The box-score page under load: 100 concurrent readers of one live game's page.

    make bench-page            (or: .venv/bin/python -m bench.page_load [--readers N] [--seconds S])

``python -m web`` runs as its own process on a fresh SecantusDB holding the recorded game's
final box score (the page a crowd reads); ``--readers`` clients each request ``/`` again as soon
as the last answer arrived, for ``--seconds``, over keep-alive connections (httpx). Reported:
requests per second, latency p50/p95/max, errors, and the MongoDB queries per render as the
page counted them (its ``X-MongoDB-Queries`` header: must be 1). The same run measures the
MongoDB query alone (pymongo, one client, sequential) as the floor of a render.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import time
from collections import Counter

import httpx
import pymongo
from tabulate import tabulate

from bench.common import SCRATCH, save
from bench.freshness import percentile
from devstack.servers import BoxScorePage, SecantusMongo, running

READERS = 100
SECONDS = 20.0


async def readers(url: str, count: int, seconds: float) -> tuple[list[float], Counter[str], Counter[int]]:
    """Latencies of every answer, the queries-per-render header values and the status codes."""
    latencies: list[float] = []
    queries: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        deadline = time.perf_counter() + seconds

        async def reader() -> None:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                answer = await client.get(url)
                latencies.append(time.perf_counter() - started)
                statuses[answer.status_code] += 1
                queries[answer.headers.get("X-MongoDB-Queries", "?")] += 1

        await asyncio.gather(*(reader() for _ in range(count)))
    return latencies, queries, statuses


def final_boxscore() -> dict:
    """The recorded game's final box score, as the pipeline builds it (the page a crowd reads)."""
    from boxscore.document import build_boxscore
    from boxscore.roster import League
    from boxscore.running import full_read
    from flows.gamestream import SEED_DIR
    from tasks.reference import read_seed

    data = (SEED_DIR / "game_events.txt").read_bytes()
    tally = full_read(lambda start, end: data[start:end], len(data), frozenset({101, 205})).tally()
    home, away, players = League.of(*read_seed(SEED_DIR)).sides(101, 205)
    return dict(build_boxscore(tally, home, away, players, "recorded"))


def main(count: int, seconds: float) -> None:
    workdir = SCRATCH / "page"
    shutil.rmtree(workdir, ignore_errors=True)
    with running(SecantusMongo(workdir / "mongo")) as (mongo,):
        collection = pymongo.MongoClient(mongo.url).sidearm.boxscores
        collection.insert_one(final_boxscore())
        floor_started = time.perf_counter()
        for _ in range(200):
            next(iter(collection.find({}).sort("_id", -1).limit(1)))
        query_ms = 1000 * (time.perf_counter() - floor_started) / 200
        with running(BoxScorePage(workdir / "page", mongo_url=mongo.url)) as (page,):
            print(f"{count} readers of {page.url}/ for {seconds:.0f} s ...", flush=True)
            started = time.perf_counter()
            latencies, queries, statuses = asyncio.run(readers(f"{page.url}/", count, seconds))
            wall = time.perf_counter() - started
    result = {
        "readers": count,
        "seconds": round(wall, 1),
        "requests": len(latencies),
        "requests_per_s": round(len(latencies) / wall, 1),
        "p50_ms": round(1000 * statistics.median(latencies), 1),
        "p95_ms": round(1000 * percentile(latencies, 0.95), 1),
        "max_ms": round(1000 * max(latencies), 1),
        "statuses": dict(statuses),
        "queries_per_render": dict(queries),
        "mongo_query_alone_ms": round(query_ms, 2),
    }
    rows = [[key, value] for key, value in result.items()]
    print(tabulate(rows, headers=["box-score page under load", "value"]))
    save("page_load", result)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--readers", type=int, default=READERS)
    parser.add_argument("--seconds", type=float, default=SECONDS)
    args = parser.parse_args()
    main(args.readers, args.seconds)
