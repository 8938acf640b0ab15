"""Both S3 readers (``S3_READER``: s3fs, obstore) against SeaweedFS: the same versions, bytes and tallies.

Each reader is held to expectations computed without it (the bytes written, their MD5, the
recorded game's score counted by hand), so the two agree with each other by agreeing with those.
"""

from __future__ import annotations

import hashlib
import sys
import uuid

import pytest
from distributed import Client, LocalCluster

from boxscore.events import parse_block
from boxscore.live import GameRead, ReadFailed
from boxscore.running import Progress
from tasks.aggregate import advance_streams, stream_blocks, whole_read
from tasks.settings import S3_READERS, Settings
from tasks.stream import (
    StreamVersion,
    head_stream,
    head_streams,
    list_streams,
    read_ahead_streams,
    read_stream,
    s3_filesystem,
    write_stream,
)
from tests.helpers import GAME, tally_blocks
from tests.recorded_game import EVENTS_FILE

RECORDED = EVENTS_FILE.read_bytes()
FIRST_HALF = b"".join(RECORDED.splitlines(keepends=True)[:40])


def reader_options(s3, reader: str) -> dict:
    """The storage options a user's settings give for this server and reader."""
    environ = {
        "S3_ENDPOINT_URL": s3.endpoint_url,
        "SEAWEEDFS_FILER": s3.filer_address,
        "S3_ACCESS_KEY": s3.access_key,
        "S3_SECRET_KEY": s3.secret_key,
        "S3_READER": reader,
    }
    return Settings.from_env(environ, env_file="").storage_options


@pytest.mark.parametrize("reader", S3_READERS)
def test_a_reader_lists_reads_and_tallies_the_streams_it_is_given(
    s3, reader: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = reader_options(s3, reader)
    prefix = f"s3://{s3.bucket}/{uuid.uuid4().hex[:10]}/"
    streams = {"g0001": RECORDED, "g0002": FIRST_HALF, "g0003": FIRST_HALF}
    for game, body in streams.items():
        write_stream(f"{prefix}{game}.txt", body.decode(), options)

    listed = list_streams(prefix, options)
    assert listed == {
        game: StreamVersion(f'"{hashlib.md5(body).hexdigest()}"', len(body)) for game, body in streams.items()
    }
    assert head_stream(f"{prefix}g0001.txt", options) == listed["g0001"]
    if reader == "s3fs":  # botocore's answers keep their timestamps as text: no dateutil per object listed
        modified = [entry["LastModified"] for entry in s3_filesystem(options).ls(prefix.removeprefix("s3://"), True)]
        assert len(modified) == 3 and all(isinstance(stamp, str) and stamp[:2] == "20" for stamp in modified)
    assert head_stream(f"{prefix}missing.txt", options) is None
    heard = {game: f"{prefix}{game}.txt" for game in [*streams, "g0009"]}  # what a feed hears: one is gone
    assert head_streams(heard, options) == listed
    # a heard game's poll reads ahead from where its read would start: the same version and its
    # bytes to the end; one that ends before its start, or is too long, has no bytes
    starts = {"g0001": 100, "g0002": len(FIRST_HALF), "g0003": 0, "g0009": 7}
    ahead = read_ahead_streams({game: (heard[game], start) for game, start in starts.items()}, options)
    assert {game: answer.version for game, answer in ahead.items()} == listed
    got = {game: answer.data for game, answer in ahead.items()}
    assert got == {"g0001": RECORDED[100:], "g0002": None, "g0003": FIRST_HALF}
    monkeypatch.setattr("tasks.stream.AHEAD_BYTES", 64)
    (longer,) = read_ahead_streams({"g0001": (heard["g0001"], 100)}, options).values()
    assert (longer.version, longer.data) == (listed["g0001"], None)
    assert read_stream(f"{prefix}g0001.txt", options) == RECORDED

    # a worker process of its own, which learns the reader from the options it is sent; one
    # thread, so one task: every game's ranges in one batch
    with (
        LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1") as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        reads = {game: GameRead(f"{prefix}{game}.txt", GAME, None, version.size) for game, version in listed.items()}
        first = advance_streams(client, reads, options)
        assert {game: step.tally() for game, step in first.items() if isinstance(step, Progress)} == {
            game: tally_blocks([parse_block(body, GAME)]) for game, body in streams.items()
        }
        write_stream(f"{prefix}g0002.txt", RECORDED.decode(), options)  # the game goes on
        s3_filesystem(options).rm(f"{prefix}g0003.txt".removeprefix("s3://"))  # this one disappears
        grown = {game: GameRead(reads[game].url, GAME, first[game].state, len(RECORDED)) for game in ("g0002", "g0003")}
        second = advance_streams(client, grown, options)
        loaded = client.run(lambda: "tasks.obstore_s3" in sys.modules)
    assert list(loaded.values()) == [reader == "obstore"]

    followed, gone = second["g0002"], second["g0003"]
    assert isinstance(followed, Progress) and not followed.full_read  # only the new lines were read
    assert followed.bytes_read < len(RECORDED) - len(FIRST_HALF) + 100
    assert followed.tally() == tally_blocks([parse_block(RECORDED, GAME)])
    assert followed.tally().team_totals(101)[1] == 14 and followed.tally().team_totals(205)[1] == 9  # 14-9 by hand
    assert isinstance(gone, ReadFailed) and gone.reason.startswith("FileNotFoundError")

    parallel = whole_read(stream_blocks(f"{prefix}g0001.txt", options, len(RECORDED), 256), GAME, 0, "sync")
    assert parallel.tally() == tally_blocks([parse_block(RECORDED, GAME)])
