"""Full reads on Dask: the long-stream tally, and a game's whole read as a task run of its own."""

from __future__ import annotations

import uuid
from pathlib import Path

import prefect_dask
import pytest
from dask.utils import key_split
from distributed import get_task_stream
from prefect import flow

from boxscore import summary
from boxscore.events import parse_block
from boxscore.live import GameRead
from boxscore.running import Progress, full_read
from tasks import aggregate
from tasks.aggregate import DaskReader, stream_blocks, tally_streams, whole_read
from tasks.cluster import DaskRunnerFromSettings, dask_client, release_run_dask_cluster, run_dask_client
from tasks.stream import write_stream
from tests.helpers import GAME, reader, tally_blocks
from tests.recorded_game import EVENTS_FILE


def test_tally_streams_takes_the_merge_for_a_clean_stream_and_the_exact_path_for_a_dirty_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Which path each stream took is read from the tasks Dask ran; planted below: a merge that
    always refuses, which the same check sees as the exact path."""
    clean = tmp_path / "clean.txt"
    clean.write_bytes(EVENTS_FILE.read_bytes())
    dirty = tmp_path / "dirty.txt"  # event 5 again (a duplicate) and a junk line
    dirty.write_bytes(EVENTS_FILE.read_bytes().replace(b"\n6 54:14", b"\n5 54:00 205 8 1\nnot a shot\n6 54:14"))
    with dask_client() as client:
        tallies = tally_streams(client, {"clean": (str(clean), GAME), "dirty": (str(dirty), GAME)}, {}, 256)
        # the path each takes, from the tasks Dask ran: block summaries only, then the exact pass too
        with get_task_stream(client) as clean_run:
            tally_streams(client, {"clean": (str(clean), GAME)}, {}, 256)
        with get_task_stream(client) as dirty_run:
            tally_streams(client, {"dirty": (str(dirty), GAME)}, {}, 256)
    clean_tasks = {key_split(task["key"]) for task in clean_run.data}
    dirty_tasks = {key_split(task["key"]) for task in dirty_run.data}
    assert clean_tasks == {"read_lines_block", "summarise_block"}, clean_tasks
    assert dirty_tasks > clean_tasks, dirty_tasks  # the same, then the exact tally's tasks

    monkeypatch.setattr(summary, "merge_summaries", lambda parts: None)  # the fast merge lost
    with dask_client() as client, get_task_stream(client) as planted:
        assert tally_streams(client, {"clean": (str(clean), GAME)}, {}, 256)["clean"] == tallies["clean"]
    assert {key_split(task["key"]) for task in planted.data} > clean_tasks, "the check sees the lost merge"
    assert tallies["clean"] == tally_blocks([parse_block(clean.read_bytes(), GAME)])
    assert tallies["dirty"] == tally_blocks([parse_block(dirty.read_bytes(), GAME)])
    assert tallies["clean"].team_totals(101)[1] == 14 and tallies["clean"].team_totals(205)[1] == 9  # 14-9 by hand
    assert (tallies["dirty"].quality.rejected, tallies["dirty"].quality.duplicates) == (1, 1)
    assert tallies["dirty"].team_totals(205) == tallies["clean"].team_totals(205)  # the duplicate counts once


def test_a_whole_read_of_s3_reads_the_polled_size_however_much_the_object_grew(s3, storage: dict) -> None:
    data = EVENTS_FILE.read_bytes()
    size = data.index(b"\n", 1000) + 5  # mid-line: that partial line is the tail
    url = f"s3://{s3.bucket}/{uuid.uuid4().hex[:10]}/grown.txt"
    write_stream(url, data.decode(), storage)  # the object is already bigger than the version polled
    parallel = whole_read(stream_blocks(url, storage, size, 128), GAME, 0, "sync")
    one_pass = full_read(reader(data[:size]), size, GAME)
    assert parallel.state == one_pass.state and parallel.tally() == one_pass.tally()
    assert parallel.bytes_read == size and parallel.state.offset == data.rindex(b"\n", 0, size) + 1


def test_the_whole_read_task_retries_a_dask_client_that_fails_to_start(
    s3, storage: dict, prefect_api: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """prefect-dask's get_dask_client has failed on None.address (PrefectHQ/prefect#17334): retried."""
    data = EVENTS_FILE.read_bytes()
    url = f"s3://{s3.bucket}/{uuid.uuid4().hex[:10]}/game.txt"
    write_stream(url, data.decode(), storage)
    attempts = tmp_path / "attempts"  # a file: the task's call travels pickled, a list would be copied
    real = prefect_dask.get_dask_client

    def flaky(*args: object, **kwargs: object):  # the first attempt fails as in the issue
        with attempts.open("a") as log:
            log.write("attempt\n")
        if attempts.read_text().count("attempt") == 1:
            raise AttributeError("'NoneType' object has no attribute 'address'")
        return real(*args, **kwargs)

    monkeypatch.setattr(prefect_dask, "get_dask_client", flaky)

    @flow(task_runner=DaskRunnerFromSettings())  # the live flow's runner: prefect-dask's, made at the submit
    def one_whole_read() -> Progress:
        read = GameRead(url, GAME, None, len(data), 0, whole=True)
        return aggregate.read_whole_stream.with_options(retry_delay_seconds=0).submit(read, storage, 256).result()

    progress = one_whole_read()
    assert attempts.read_text().count("attempt") == 2
    assert progress.tally() == tally_blocks([parse_block(data, GAME)])
    assert progress.tally().team_totals(101)[1] == 14 and progress.tally().team_totals(205)[1] == 9


def test_a_released_local_cluster_starts_again_at_the_next_read_and_the_count_goes_on(
    s3, storage: dict, prefect_api: None
) -> None:
    """The live flow's reader on its runner: read half the game, let go of the cluster, read the rest
    on a new one; a whole read out keeps the cluster. The count is the recorded game's, 14-9."""
    data = EVENTS_FILE.read_bytes()
    half = data.index(b"\n", len(data) // 2) + 1
    url = f"s3://{s3.bucket}/{uuid.uuid4().hex[:10]}/game.txt"
    teams = frozenset(GAME)

    @flow(task_runner=DaskRunnerFromSettings())
    def read_release_read() -> tuple[Progress, list[str], bool]:
        reader = DaskReader(storage, 2**20, 60.0, run_dask_client, let_go=release_run_dask_cluster)
        write_stream(url, data[:half].decode(), storage)
        first = reader.read({"g": GameRead(url, teams, None, half)})["g"]
        assert isinstance(first, Progress)
        clients = [reader._client]
        released = reader.release()
        write_stream(url, data.decode(), storage)
        rest = reader.read({"g": GameRead(url, teams, first.state, len(data))})["g"]
        assert isinstance(rest, Progress)
        clients.append(reader._client)
        reader.submit_whole({"g": GameRead(url, teams, None, len(data), whole=True)})
        kept = reader.release()  # a whole read is out: its cluster stays
        reader._whole["g"].wait()
        assert set(reader.collect_whole(())) == {"g"}
        return rest, [client.status for client in clients], released and not kept

    rest, statuses, released_once = read_release_read()
    assert released_once
    assert statuses == ["closed", "running"]  # the first cluster's client closed; the second ran the rest
    assert rest.tally() == tally_blocks([parse_block(data, GAME)])
    assert rest.tally().team_totals(101)[1] == 14 and rest.tally().team_totals(205)[1] == 9
