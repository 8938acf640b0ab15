"""The box-score page on game day: many fans of one live game, this tree against an earlier commit.

    make bench-page            (or: .venv/bin/python -m bench.page_load [--before REV] [--seconds S])

Each version's ``python -m web`` runs from a copy of its own (``bench.common.export``) as one
process on the same SecantusDB, while a writer stores a new box score of the live game every
second (a goal or a shot: what the live flow writes). Then, for each version:

- ``viewers``: 100 and then 1,000 fans each ask for the game's page once a second for
  ``--seconds``, with ``If-None-Match`` from their last answer (a browser's refresh); then the
  1,000 refreshing every 0.4 s, and asking again as soon as answered (the most each version
  can serve);
- ``subscribers``: 1,000 event-stream subscribers of the game (versions that have one), each
  timing from the writer's MongoDB write of a box score to receiving it, with the page's
  ``WEB_REFRESH_SECONDS`` at its default 0.5 s and at 0.2 s.

Reported: requests/s, latency p50/p95/max, errors, and the MongoDB queries per second the page
sent (the sum of its ``X-MongoDB-Queries`` headers, its own command count); for subscribers,
messages received and write-to-subscriber p50/p95. Last, end to end: the live flow (poll 0.2 s)
follows a game written to S3 one event a second while 1,000 subscribers of its page receive
each box score, timed from each event's S3 write.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import re
import shutil
import statistics
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import pymongo
from tabulate import tabulate

from bench.common import SCRATCH, export, load, save
from bench.freshness import percentile
from devstack.servers import BoxScorePage, SeaweedS3, SecantusMongo, running, wait_until

#: the page before it kept a copy per game, sent ETags and pushed updates
BEFORE = "f3a1a64"
VIEWERS = (100, 1000)
#: seconds between a fast fan's refreshes: 1,000 of them ask 2,500 times a second, several times
#: what the page before this change could serve flat out
FAST = 0.4
SUBSCRIBERS = 1000
#: WEB_REFRESH_SECONDS for the subscribers: the default, and the shortest a site might pick
REFRESHES = (0.5, 0.2)
#: the live flow's poll interval in the S3-to-subscriber run (the issue's target is stated at it)
PUSH_POLL = 0.2
SECONDS = 10.0
GAME = "g00000000beef"


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
    return dict(build_boxscore(tally, home, away, players, GAME, per_game=True))


class LiveGame:
    """Stores a new box score of the game every second, as the live flow would; remembers when."""

    def __init__(self, collection: pymongo.collection.Collection, template: dict) -> None:
        self.collection, self.template = collection, template
        self.written: dict[int, float] = {}
        latest = collection.find_one({"game_id": GAME}, sort=[("event_id", -1)])
        self.event = latest["event_id"] if latest else 1000  # a game goes on from where it stands
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def write(self) -> None:
        self.event += 1
        document = copy.deepcopy(self.template)
        document.update(_id=f"{GAME}/{self.event}", event_id=self.event, final=False)
        document["home"]["score"] = self.event % 20
        self.collection.insert_one(document)
        self.written[self.event] = time.time()

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            self.write()

    def __enter__(self) -> LiveGame:
        self.write()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(10)


async def viewers(url: str, count: int, seconds: float, every: float = 1.0) -> dict[str, Any]:
    """``count`` fans refreshing every ``every`` seconds (0: as soon as answered) with conditional
    requests, for ``seconds``.

    The clients are aiohttp's: httpx spent a whole core making 240 requests a second here, and
    the figures were the load generator's, not the page's.
    """
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    queries = 0
    connector = aiohttp.TCPConnector(limit=count)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as client:
        deadline = time.perf_counter() + seconds

        async def fan(index: int) -> None:
            nonlocal queries
            await asyncio.sleep(every * index / count)  # fans refresh at their own moments of each second
            tag = None
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    async with client.get(url, headers={"If-None-Match": tag} if tag else {}) as answer:
                        await answer.read()
                        status, headers = answer.status, answer.headers
                except (aiohttp.ClientError, TimeoutError):
                    statuses[0] += 1
                    await asyncio.sleep(1.0)
                    continue
                latencies.append(time.perf_counter() - started)
                statuses[status] += 1
                queries += int(headers.get("X-MongoDB-Queries", "0"))
                tag = headers.get("etag", tag)
                await asyncio.sleep(max(0.0, every - (time.perf_counter() - started)))

        started = time.perf_counter()
        await asyncio.gather(*(fan(i) for i in range(count)))
        wall = time.perf_counter() - started
    errors = sum(n for status, n in statuses.items() if status not in (200, 304))
    return {
        "viewers": count,
        "requests_per_s": round(len(latencies) / wall, 1),
        "p50_ms": round(1000 * statistics.median(latencies), 1) if latencies else None,
        "p95_ms": round(1000 * percentile(latencies, 0.95), 1) if latencies else None,
        "max_ms": round(1000 * max(latencies), 1) if latencies else None,
        "errors": errors,
        "statuses": {str(status): n for status, n in sorted(statuses.items())},
        "mongo_queries_per_s": round(queries / wall, 1),
    }


END_OF_MESSAGE = re.compile(rb"\r?\n\r?\n")  # an event stream's blank line, CRLF or LF


def event_id(message: bytes) -> int | None:
    """An event-stream message's ``id:`` line, as a number. The subscribers read raw chunks and split
    them by bytes: a thousand of them share one process and one core here, and decoding each line
    of each box score (some 10 KB) was their own delay, which a fan's browser does not add to others."""
    for line in message.split(b"\n"):
        if line.startswith(b"id:"):
            return int(line[3:])
    return None


async def subscribers(url: str, count: int, seconds: float, written: dict[int, float]) -> dict[str, Any]:
    """``count`` event-stream subscribers: each box score's delay from when its event was written."""
    delays: list[float] = []
    failed = 0
    connector = aiohttp.TCPConnector(limit=count)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as client:
        deadline = time.perf_counter() + seconds

        async def subscriber() -> None:
            nonlocal failed
            try:
                async with client.get(url) as answer:
                    first, pending = True, b""
                    async for chunk in answer.content.iter_any():
                        at = time.time()
                        *messages, pending = END_OF_MESSAGE.split(pending + chunk)
                        for event in map(event_id, messages):
                            if event is None:  # a ping
                                continue
                            if not first and event in written:  # the first is the current one
                                delays.append(at - written[event])
                            first = False
                        if time.perf_counter() > deadline:
                            return
            except (aiohttp.ClientError, TimeoutError):
                failed += 1

        await asyncio.gather(*(subscriber() for _ in range(count)))
    return {
        "subscribers": count,
        "messages": len(delays),
        "failed": failed,
        "p50_ms": round(1000 * statistics.median(delays), 1) if delays else None,
        "p95_ms": round(1000 * percentile(delays, 0.95), 1) if delays else None,
    }


class StreamedGame:
    """A synthetic game written to S3 one event a second, as the feed does (the whole object
    rewritten); remembers when each event's write completed."""

    def __init__(self, prefix: str, recordings: dict[str, str], storage_options: dict, first: int) -> None:
        self.prefix, self.recordings, self.storage_options = prefix, recordings, storage_options
        self.count = first
        self.written: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from bench.tick_floor import write_events

        while not self._stop.wait(1.0):
            self.count += 1
            write_events(self.prefix, self.recordings, dict.fromkeys(self.recordings, self.count), self.storage_options)
            self.written[self.count - 1] = time.time()

    def __enter__(self) -> StreamedGame:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(10)


def s3_to_subscribers(
    tree: Path, s3: SeaweedS3, mongo: SecantusMongo, workdir: Path, seconds: float, refresh: float, feed: str = "off"
) -> dict:
    """The live flow (poll 0.2 s; with ``feed`` ``auto``, the store's change feed) follows a game
    written to S3 while 1,000 subscribers of its page receive each box score: the delay from each
    event's S3 write to the subscribers."""
    from bench.tick_floor import follower, write_events
    from boxscore.synthetic import synthetic_league
    from flows.gamestream import SEED_DIR
    from tasks.reference import read_seed, reset_reference

    league = synthetic_league(1, seed=5, shots=(90, 90))
    sql_file = workdir / f"push-{refresh}-{feed}.sqlite"
    teams, players = read_seed(SEED_DIR)
    reset_reference.fn(f"sqlite:///{sql_file}", teams + league.teams, players + league.players, league.matchups)
    game = next(iter(league.recordings))
    prefix, flow, collection = follower(
        f"push{refresh * 10:.0f}{feed}", tree, (s3, mongo), sql_file, PUSH_POLL, change_feed=feed
    )
    write_events(prefix, league.recordings, {game: 10}, s3.storage_options)
    database = collection.database.name
    page = BoxScorePage(workdir / f"push-{refresh}-{feed}", mongo_url=mongo.url, mongo_db=database, project_dir=tree)
    page.refresh_seconds = refresh
    try:
        flow.start(timeout=300)
        wait_until(lambda: collection.count_documents({"_id": f"{game}/9"}) == 1, 120, "the game's first box score")
        with running(page), StreamedGame(prefix, league.recordings, s3.storage_options, 10) as streamed:
            pushed = asyncio.run(subscribers(f"{page.url}/games/{game}/events", SUBSCRIBERS, seconds, streamed.written))
    finally:
        flow.stop()
    return {"poll_seconds": PUSH_POLL, "refresh_seconds": refresh, "change_feed": feed, **pushed}


def push_only(seconds: float) -> None:
    """Only the end-to-end push, polling against the change feed, side by side in one run; the
    other figures of ``page_load.json`` are kept."""
    workdir = SCRATCH / "page-push"
    shutil.rmtree(workdir, ignore_errors=True)
    saved = load("page_load") or {"before": BEFORE, "seconds": seconds, "results": {}}
    after = saved["results"].setdefault("after (this tree)", {})
    for feed in ("off", "auto"):  # this run's figures replace the last run's
        after[f"s3_to_subscribers_feed_{feed}"] = []
    with running(SeaweedS3(workdir / "s3"), SecantusMongo(workdir / "mongo")) as (s3, mongo):
        tree = export(None)
        for feed in ("off", "auto", "auto", "off"):  # ABBA: each mode once early, once late
            print(f"the live flow, CHANGE_FEED={feed}, and {SUBSCRIBERS} subscribers, refresh 0.5 s ...", flush=True)
            pushed = {**s3_to_subscribers(tree, s3, mongo, workdir, seconds, 0.5, feed), "seconds": seconds}
            print(json.dumps(pushed), flush=True)
            after.setdefault(f"s3_to_subscribers_feed_{feed}", []).append(pushed)
    save("page_load", saved)


def has_events(tree: Path) -> bool:
    return (tree / "web" / "events.py").exists()


def main(before: str, seconds: float) -> None:
    workdir = SCRATCH / "page"
    shutil.rmtree(workdir, ignore_errors=True)
    trees = {f"before ({before})": export(before), "after (this tree)": export(None)}
    results: dict[str, dict[str, Any]] = {label: {} for label in trees}
    with running(SeaweedS3(workdir / "s3"), SecantusMongo(workdir / "mongo")) as (s3, mongo):
        for label, tree in trees.items():
            database = f"page_{label.split()[0]}"
            collection = pymongo.MongoClient(mongo.url)[database].boxscores
            page = BoxScorePage(workdir / label.split()[0], mongo_url=mongo.url, mongo_db=database, project_dir=tree)
            with running(page), LiveGame(collection, final_boxscore()) as game:
                for count in VIEWERS:
                    print(f"{label}: {count} viewers of /games/{GAME} for {seconds:.0f} s ...", flush=True)
                    measured = asyncio.run(viewers(f"{page.url}/games/{GAME}", count, seconds))
                    results[label][f"viewers_{count}"] = measured
                    print(json.dumps(measured), flush=True)
                print(f"{label}: {VIEWERS[-1]} viewers refreshing every {FAST} s ...", flush=True)
                measured = asyncio.run(viewers(f"{page.url}/games/{GAME}", VIEWERS[-1], seconds, every=FAST))
                results[label]["fast"] = {"every": FAST, **measured}
                print(json.dumps(measured), flush=True)
                print(f"{label}: {VIEWERS[-1]} viewers asking as soon as answered ...", flush=True)
                measured = asyncio.run(viewers(f"{page.url}/games/{GAME}", VIEWERS[-1], seconds, every=0.0))
                results[label]["flat_out"] = measured
                print(json.dumps(measured), flush=True)
            if not has_events(tree):
                continue
            for refresh in REFRESHES:  # the default, and a shorter one: one read per game per refresh
                page = BoxScorePage(
                    workdir / f"{label.split()[0]}-{refresh}",
                    mongo_url=mongo.url,
                    mongo_db=database,
                    project_dir=tree,
                    refresh_seconds=refresh,
                )
                with running(page), LiveGame(collection, final_boxscore()) as game:
                    print(f"{label}: {SUBSCRIBERS} event-stream subscribers, refresh {refresh} s ...", flush=True)
                    url = f"{page.url}/games/{GAME}/events"
                    pushed = asyncio.run(subscribers(url, SUBSCRIBERS, seconds, game.written))
                    results[label][f"subscribers_{refresh}"] = {"refresh_seconds": refresh, **pushed}
                    print(json.dumps(pushed), flush=True)
        after = trees["after (this tree)"]
        for refresh in REFRESHES:
            print(
                f"the live flow, poll {PUSH_POLL} s, and {SUBSCRIBERS} subscribers, refresh {refresh} s ...", flush=True
            )
            pushed = s3_to_subscribers(after, s3, mongo, workdir, seconds, refresh)
            results["after (this tree)"][f"s3_to_subscribers_{refresh}"] = pushed
            print(json.dumps(pushed), flush=True)
    rows = []
    for count in VIEWERS:
        for label in trees:
            m = results[label][f"viewers_{count}"]
            rows.append(
                [
                    count,
                    label,
                    m["requests_per_s"],
                    m["p50_ms"],
                    m["p95_ms"],
                    m["max_ms"],
                    m["errors"],
                    m["mongo_queries_per_s"],
                ]
            )
    print(
        tabulate(
            rows,
            headers=["viewers", "version", "requests/s", "p50 ms", "p95 ms", "max ms", "errors", "MongoDB queries/s"],
        )
    )
    save("page_load", {"before": before, "seconds": seconds, "results": results})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default=BEFORE, help="the commit to compare with")
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument(
        "--push-only", action="store_true", help="only S3 write -> subscribers, polling against the change feed"
    )
    args = parser.parse_args()
    if args.push_only:
        push_only(args.seconds)
    else:
        main(args.before, args.seconds)
