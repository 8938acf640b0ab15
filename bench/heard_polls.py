"""A heard game's poll, each way the flow can make it, side by side: this process's CPU per game.

    make bench-heard            (or: .venv/bin/python -m bench.heard_polls [games] [rounds])

The change feed hears of a game read before; its poll must bring the stream's version and its
new lines. ``games`` streams (default 200) on a fresh local SeaweedFS, each with the recorded
game's first 40 lines, polled all at once as one tick's heard games are, ``rounds`` times:

- HEAD, then range GET: what a heard game cost before the read-ahead (the version, then the
  tick's read of the new lines), through s3fs and through obstore's fsspec store;
- read-ahead: one GET from the last line folded whose answer gives both
  (:func:`tasks.stream.read_ahead_streams`), through s3fs and through obstore's own ``get``.

Every way must bring the same versions and bytes. CPU is this process's (all its threads,
fsspec's event loop among them), median of the rounds, per game.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tabulate import tabulate

from bench.common import save
from devstack.servers import SeaweedS3, running

LINES = 40


def ways(options: dict[str, dict]) -> dict[str, Callable[[dict[str, tuple[str, int]]], dict[str, Any]]]:
    """Each way to poll heard games (game -> (url, byte its read starts at)): game -> (version, bytes)."""
    from fsspec.asyn import sync

    from tasks.stream import head_streams, read_ahead_streams, reader_filesystem, stream_path

    def head_then_get(reader: str) -> Callable[[dict[str, tuple[str, int]]], dict[str, Any]]:
        def poll(starts: dict[str, tuple[str, int]]) -> dict[str, Any]:
            versions = head_streams({game: url for game, (url, _) in starts.items()}, options[reader])
            fs = reader_filesystem(options[reader])

            async def gets() -> list[bytes]:
                return await asyncio.gather(
                    *(
                        fs._cat_file(stream_path(url), start=start, end=versions[game].size)
                        for game, (url, start) in starts.items()
                    )
                )

            return {game: (versions[game], data) for game, data in zip(starts, sync(fs.loop, gets), strict=True)}

        return poll

    def read_ahead(reader: str) -> Callable[[dict[str, tuple[str, int]]], dict[str, Any]]:
        def poll(starts: dict[str, tuple[str, int]]) -> dict[str, Any]:
            return {
                game: (answer.version, answer.data)
                for game, answer in read_ahead_streams(starts, options[reader]).items()
            }

        return poll

    return {
        "s3fs: HEAD, then range GET": head_then_get("s3fs"),
        "obstore (fsspec store): HEAD, then range GET": head_then_get("obstore"),
        "s3fs: read-ahead GET": read_ahead("s3fs"),
        "obstore (own get): read-ahead GET": read_ahead("obstore"),
    }


def main(games: int = 200, rounds: int = 9) -> None:
    from flows.gamestream import RECORDED_GAME
    from tasks.settings import READER_OPTION
    from tasks.stream import ensure_bucket, write_streams

    body = "".join(RECORDED_GAME.read_text().splitlines(True)[:LINES])
    start = len(body) - len(body.splitlines(True)[-1])  # the last line folded: where a read resumes
    with running(SeaweedS3(Path(tempfile.mkdtemp(prefix="heard-")))) as (s3,):
        options = {reader: {**s3.storage_options, READER_OPTION: reader} for reader in ("s3fs", "obstore")}
        prefix = f"s3://{s3.bucket}/heard/"
        starts = {f"g{n:04d}": (f"{prefix}g{n:04d}.txt", start) for n in range(games)}
        ensure_bucket(prefix + "g0000.txt", s3.storage_options)
        write_streams({url: body for url, _ in starts.values()}, s3.storage_options)
        rows, answers = {}, {}
        for label, poll in ways(options).items():
            answers[label] = poll(starts)  # clients made, connections opened
            spent = []
            for n in range(rounds):
                print(f"{label}: round {n + 1} of {rounds}", end="\r", flush=True)
                cpu = time.process_time()
                poll(starts)
                spent.append(time.process_time() - cpu)
            rows[label] = round(1000 * statistics.median(spent) / games, 3)
            print(f"{label}: {rows[label]} ms of CPU a game" + " " * 20, flush=True)
    expected = answers["s3fs: HEAD, then range GET"]
    assert all(got == expected for got in answers.values()), "every way brings the same versions and bytes"
    assert all(data == body.encode()[start:] for _, data in expected.values())
    least = rows["s3fs: HEAD, then range GET"]
    print(
        tabulate(
            [(label, ms, f"{ms / least:.2f}") for label, ms in rows.items()],
            headers=["a heard game's poll", "CPU ms a game", "/ s3fs HEAD + GET"],
            tablefmt="github",
        )
    )
    save("heard_polls", {"games": games, "rounds": rounds, "cpu_ms_per_game": rows})


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:]))
