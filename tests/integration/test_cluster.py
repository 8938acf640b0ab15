"""The live flow on a real Dask cluster: a ``dask scheduler`` and two ``dask worker`` processes,
started from the project directory as compose starts them, one of them killed mid-game.

The flow starts mid-game and a scorer corrects a line, with Dask blocks of 256 bytes: the first
read and the reads after each rewrite are whole reads, task runs of their own on the cluster.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from distributed import Client
from prefect.settings import PREFECT_API_URL

from boxscore.replay import replay_frames
from devstack.follow import Background
from devstack.servers import DaskScheduler, DaskWorker, wait_until
from flows.gamestream import SEED_DIR
from flows.live_boxscore import live_boxscore
from tasks.reference import read_seed, reset_reference
from tasks.stream import write_stream
from tests.helpers import assert_matches_events, boxscores, latest_stored, table_rows, task_runs
from tests.recorded_game import EVENTS_FILE, FINAL_BOXSCORE, PLAYERS2, TEAMS2, recount

FRAMES = [frame.text for frame in replay_frames(EVENTS_FILE.read_text())]


def executed(address: str) -> dict[str, int]:
    """Tasks each worker of the cluster has run, by worker name (asked of the workers themselves)."""
    with Client(address, set_as_default=False) as client:
        counts = client.run(lambda dask_worker: (dask_worker.name, dask_worker.state.executed_count))
    return dict(counts.values())


def whole_read_runs(flow_run_id: object) -> list[tuple[str, str]]:
    """The live run's whole-read task runs (name, state), as the Prefect API recorded them."""
    return [run for run in task_runs(flow_run_id) if run[0].startswith("read whole")]


def corrected(frame: str) -> str:
    """The frame with its last line's goal flipped: a scorer's correction of the latest shot."""
    *before, last = frame.rstrip("\n").split("\n")
    fields = last.split()
    fields[-1] = "0" if fields[-1] == "1" else "1"
    return "\n".join([*before, " ".join(fields)]) + "\n"


@pytest.mark.parametrize("sql_url", ["sqlite"], indirect=True)
def test_the_live_flow_reads_on_the_cluster_workers_and_survives_one_killed_mid_game(
    pipeline_env: dict[str, str], storage: dict, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    reset_reference(pipeline_env["SQL_URL"], *read_seed(SEED_DIR))
    scheduler = DaskScheduler(tmp_path / "scheduler").start(timeout=60)
    api = PREFECT_API_URL.value()
    workers = [
        DaskWorker(tmp_path / "workers", scheduler=scheduler.address, worker_name=f"w{i}", prefect_api_url=api)
        for i in (1, 2)
    ]
    try:
        for worker in workers:
            worker.start(timeout=60)
        monkeypatch.setenv("DASK_ADDRESS", scheduler.address)

        def shown(event: int, score: dict[int, int] | None = None) -> None:
            def ready() -> bool:
                latest = latest_stored(pipeline_env) or {}
                scores = {side["teamid"]: side["score"] for side in (latest.get("home"), latest.get("away")) if side}
                return latest.get("_id") == event and (score is None or scores == score)

            wait_until(ready, 60, f"the box score of event {event}")

        def play(start: int, end: int) -> None:
            for k in range(start, end):
                write_stream(pipeline_env["GAMESTREAM_URL"], FRAMES[k], storage)
                shown(min(k, 70))  # the sentinel (line 71) adds no event

        write_stream(pipeline_env["GAMESTREAM_URL"], FRAMES[20], storage)  # the flow starts mid-game
        live = Background(
            lambda: live_boxscore(
                poll_interval=0.05,
                wait_for_stream=60,
                stall_timeout=120,
                settle_seconds=0.5,
                dask_block_bytes=256,
                return_state=True,
            )
        ).start()
        shown(20)
        play(21, 30)
        correction = corrected(FRAMES[29])
        write_stream(pipeline_env["GAMESTREAM_URL"], correction, storage)
        shown(29, recount(correction.splitlines(), 29)["score"])
        before = executed(scheduler.address)
        assert set(before) == {"w1", "w2"} and sum(before.values()) >= 10, before  # every read ran there
        workers[0].kill()  # SIGKILL, mid-game
        play(30, len(FRAMES))  # event 29 as recorded again: a rewrite, read whole
        state = live.result(timeout=120)
        assert state.result() == FINAL_BOXSCORE
        after = executed(scheduler.address)
        assert set(after) == {"w2"} and after["w2"] > before["w2"], after  # the survivor took the rest
    finally:
        for worker in workers:
            worker.stop()
        scheduler.stop()
    url = pipeline_env["GAMESTREAM_URL"]
    assert whole_read_runs(state.state_details.flow_run_id) == [(f"read whole {url}", "Completed")] * 3
    for document in boxscores(pipeline_env):
        if document["_id"] != 29:  # the corrected one
            assert_matches_events(document)
    assert table_rows(pipeline_env["SQL_URL"], "teams2") == TEAMS2
    assert table_rows(pipeline_env["SQL_URL"], "players2") == PLAYERS2
