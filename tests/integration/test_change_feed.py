"""The live run hears SeaweedFS's changes through the filer's metadata stream, and survives losing it.

One game is written line by line into real SeaweedFS while the live flow follows it with a
poll interval of 0.5 s and a fallback of 60 s; the filer's gRPC is reached through a TCP relay
the test cuts mid-game and restores. The run's own metrics (scraped during the run, from its
``LIVE_METRICS_ADDRESS``) say how it polled. Expected values: the recorded game's final box score
and tables (``tests/recorded_game``, counted by hand), and each stored box score re-counted from
the events it claims.
"""

from __future__ import annotations

import asyncio
import gc
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pymongo
import pytest
from s3fs import S3FileSystem

from devstack.follow import start_polling
from devstack.servers import GRPC_OFFSET, HOST, SeaweedS3, free_ports, wait_until
from flows.gamestream import SEED_DIR
from flows.live_boxscore import live_boxscore
from tasks.reference import read_seed, seed_reference
from tasks.stream import botocore_session, check_bucket, write_stream, write_streams
from tests.helpers import assert_matches_events, boxscores
from tests.integration.tcp_cut import TcpRelay
from tests.integration.test_page_api import scrape
from tests.recorded_game import FINAL_BOXSCORE, event_lines


@pytest.mark.parametrize("sql_url", ["sqlite"], indirect=True)
def test_the_feed_follows_a_game_through_a_cut_ignoring_other_objects_and_a_flood(
    pipeline_env: dict[str, str], s3: SeaweedS3, monkeypatch: pytest.MonkeyPatch
) -> None:
    filer = free_ports(1, with_grpc=True)[0]
    relay = TcpRelay(filer + GRPC_OFFSET, (HOST, s3.filer_port + GRPC_OFFSET)).restore()
    address = f"{HOST}:{free_ports(1)[0]}"
    monkeypatch.setenv("SEAWEEDFS_FILER", f"{HOST}:{filer}")
    monkeypatch.setenv("LIVE_METRICS_ADDRESS", address)
    seed_reference(pipeline_env["SQL_URL"], *read_seed(SEED_DIR), ())
    url, options = pipeline_env["GAMESTREAM_URL"], s3.storage_options
    lines = [line for line in event_lines() if line.strip()]
    requests: list[tuple[str, str]] = []  # (operation, path) of each S3 request of the run's clients

    def sent(request: Any, event_name: str, **_: Any) -> None:
        requests.append((event_name.rsplit(".", 1)[-1], urlsplit(request.url).path))

    botocore_session().register("before-send.s3", sent)  # copied into each client made from now on
    # fsspec keeps an s3fs instance, and its client, per thread id, and ids are reused once a
    # thread ends: drop them, so the run's clients are all made from now on, with the counter
    S3FileSystem.clear_instance_cache()
    live = start_polling(
        lambda: live_boxscore(
            poll_interval=0.5, fallback_interval=60.0, wait_for_stream=60, stall_timeout=60, settle_seconds=6.0
        )
    )
    with pymongo.MongoClient(pipeline_env["MONGO_URL"]) as client:
        stored = client[pipeline_env["MONGO_DB"]][pipeline_env["MONGO_COLLECTION"]]

        def written(upto: int) -> Callable[[], bool]:
            event = int(lines[upto - 1].split()[0])  # -1: the game is over
            return lambda: stored.find_one({"final": True} if event < 0 else {"event_id": event}) is not None

        def write(upto: int) -> None:
            write_stream(url, "\n".join(lines[:upto]) + "\n", options)

        try:
            # the feed listens: each line is heard and read; other objects and a flood change nothing
            elsewhere = url.rsplit("/", 1)[0]
            for upto in range(1, 25):
                write(upto)
                write_streams({f"{elsewhere}/gamestream.txt.tmp": "x", f"{url}.bak": "y"}, options)
                wait_until(written(upto), 60, f"the box score of line {upto}")
            for _ in range(20):
                write(24)  # the same stream, rewritten again and again: nothing new to count
            healthy, healthy_requests = scrape(address), list(requests)
            # the feed is cut: the run polls every 0.5 s, and the game goes on being followed
            relay.cut()
            for upto in range(25, 35):
                write(upto)
                wait_until(written(upto), 60, f"the box score of line {upto}, with the feed cut")
            cut = scrape(address)
            relay.restore()

            def listening_again() -> bool:
                write(34)  # the same text again: a notification once the feed listens (its backoff's pace)
                return scrape(address)[("boxscore_live_change_feed_listening", ())] == 1.0

            wait_until(listening_again, 60, "the feed listening again")
            for upto in range(35, len(lines) + 1):
                write(upto)
                wait_until(written(upto), 60, f"the box score of line {upto}, with the feed back")
            back = scrape(address)
        finally:
            relay.cut()
            botocore_session().unregister("before-send.s3", sent)
        final = live.result(timeout=120)

    assert final == FINAL_BOXSCORE
    docs = boxscores(pipeline_env)
    assert docs[-1] == FINAL_BOXSCORE and len({d["_id"] for d in docs}) == len(docs)
    for doc in docs:
        assert_matches_events(doc)

    def polls(figures: dict, of: str) -> float:
        return figures[("boxscore_live_polls_total", (("of", of),))]

    # listening: one poll of every stream (the first), then a poll per change heard, no more
    assert polls(healthy, "every") == 1.0
    assert 24 <= polls(healthy, "heard") <= 24 + 21  # each line, and at most one per rewrite of the flood
    assert healthy[("boxscore_live_change_notifications_total", (("kind", "ignored"),))] >= 24
    assert healthy[("boxscore_live_change_feed_listening", ())] == 1.0
    # each change heard after the first read is one GET from the last line read, which brings its
    # version and its bytes: no HEAD (only the first poll's and the first heard change's)
    stream = "/" + url.removeprefix("s3://")
    asked = Counter(operation for operation, path in healthy_requests if path == stream)
    assert asked["HeadObject"] <= 2
    assert 24 <= asked["GetObject"] <= polls(healthy, "heard") + 2
    # cut: polled every 0.5 s, as without a feed
    assert cut[("boxscore_live_change_feed_listening", ())] == 0.0
    assert polls(cut, "every") - polls(healthy, "every") >= 5
    # back: listening, a full poll at the new listen, then a poll per change heard again
    assert polls(back, "heard") - polls(cut, "heard") >= len(lines) - 34
    assert back[("boxscore_live_service_failures_total", (("service", "s3"),))] == 0.0


def test_a_probe_client_freed_on_the_feeds_own_loop_closes_without_error(s3: SeaweedS3) -> None:
    """The start's bucket check makes an s3fs client outside fsspec's cache, in a reference cycle
    like every s3fs client: the garbage collector frees it in whichever thread it runs in, the
    feed's included, while the feed's own event loop runs there. s3fs's finalizer closes it on
    that running loop, where the close of a client of fsspec's loop fails; the check closes it
    first, so the finalizer has nothing left to close."""
    gc.collect()  # what earlier tests left behind is freed here, not on the loop below
    gc.disable()
    try:
        check_bucket(f"s3://{s3.bucket}/probe.txt", s3.storage_options, say=lambda line: None)
        failures = _freed_on_a_loop_of_its_own()
    finally:
        gc.enable()
    assert failures == []


def _freed_on_a_loop_of_its_own() -> list[str]:
    """Collect garbage inside a coroutine on a new event loop in a new thread, as the feed's
    thread does, and wait for every task the finalizers started there: what each raised."""
    failures: list[str] = []

    async def collect() -> None:
        gc.collect()
        started = asyncio.all_tasks() - {asyncio.current_task()}
        for outcome in await asyncio.gather(*started, return_exceptions=True):
            if isinstance(outcome, BaseException):
                failures.append(repr(outcome))

    def feed_thread() -> None:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(collect())
        finally:
            loop.close()

    thread = threading.Thread(target=feed_thread)
    thread.start()
    thread.join()
    return failures
