"""Freshness: seconds from the S3 write of event k to a box score covering k readable in MongoDB.

    make bench-freshness       (or: .venv/bin/python -m bench.freshness [delay] [poll])

The recorded game is replayed at ``delay`` real seconds per game second (default 0.05, so
3 minutes) while the live flow polls every ``poll`` seconds (default 0.2), on local SeaweedFS
and SecantusDB. A watcher reads the latest box score every 5 ms; for each event the
freshness is the time from the end of its write to the first box score with ``_id >= k``.
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time

from bench.common import one_game_stack, save


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main(delay: float = 0.05, poll: float = 0.2) -> None:
    with one_game_stack("freshness", CHANGE_FEED="off") as (s3, mongo):  # polling: bench-feed sets both side by side
        import pymongo

        from boxscore.replay import replay_frames
        from devstack.follow import start_polling
        from flows.gamestream import RECORDED_GAME
        from flows.live_boxscore import live_boxscore
        from tasks.stream import write_stream

        live = start_polling(lambda: live_boxscore(poll_interval=poll, settle_seconds=0.5))
        written: dict[int, float] = {}
        shown: list[tuple[float, int]] = []
        done = threading.Event()

        def watch() -> None:
            collection = pymongo.MongoClient(mongo.url).sidearm.boxscores
            while not done.is_set():
                latest = collection.find_one(sort=[("_id", -1)], projection={"_id": 1})
                if latest and (not shown or latest["_id"] > shown[-1][1]):
                    shown.append((time.perf_counter(), latest["_id"]))
                time.sleep(0.005)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        started = time.perf_counter()
        elapsed = 0
        for frame in replay_frames(RECORDED_GAME.read_text()):
            elapsed += frame.wait_game_seconds
            time.sleep(max(0.0, started + elapsed * delay - time.perf_counter()))
            write_stream(os.environ["GAMESTREAM_URL"], frame.text, s3.storage_options)
            event = int(frame.text.rstrip("\n").rsplit("\n", 1)[-1].split()[0])
            if event >= 0:
                written[event] = time.perf_counter()
        live.result(timeout=600)
        time.sleep(0.1)
        done.set()
        watcher.join()
    lags = []
    for event, at in written.items():
        first = next((t for t, shown_id in shown if shown_id >= event), None)
        if first is not None:
            lags.append(max(0.0, first - at))
    result = {
        "delay": delay,
        "poll_interval": poll,
        "events": len(lags),
        "p50_s": round(statistics.median(lags), 3),
        "p95_s": round(percentile(lags, 0.95), 3),
        "max_s": round(max(lags), 3),
        "target_p95_s": round(poll + 0.3, 3),
    }
    print(result)
    print("saved", save("freshness", result))


if __name__ == "__main__":
    main(*(float(arg) for arg in sys.argv[1:]))
