"""The live flow on a real Dask cluster: a ``dask scheduler`` and two ``dask worker`` processes,
started from the project directory as compose starts them, one of them killed mid-game."""

from __future__ import annotations

from pathlib import Path

import pytest
from distributed import Client

from boxscore.replay import replay_frames
from devstack.follow import Background
from devstack.servers import DaskScheduler, DaskWorker, wait_until
from flows.gamestream import SEED_DIR
from flows.live_boxscore import live_boxscore
from tasks.reference import read_seed, reset_reference
from tasks.stream import write_stream
from tests.helpers import assert_matches_events, boxscores, table_rows
from tests.recorded_game import EVENTS_FILE, FINAL_BOXSCORE, PLAYERS2, TEAMS2

FRAMES = [frame.text for frame in replay_frames(EVENTS_FILE.read_text())]


def executed(address: str) -> dict[str, int]:
    """Tasks each worker of the cluster has run, by worker name (asked of the workers themselves)."""
    with Client(address, set_as_default=False) as client:
        counts = client.run(lambda dask_worker: (dask_worker.name, dask_worker.state.executed_count))
    return dict(counts.values())


@pytest.mark.parametrize("sql_url", ["sqlite"], indirect=True)
def test_the_live_flow_reads_on_the_cluster_workers_and_survives_one_killed_mid_game(
    pipeline_env: dict[str, str], storage: dict, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    reset_reference(pipeline_env["SQL_URL"], *read_seed(SEED_DIR))
    scheduler = DaskScheduler(tmp_path / "scheduler").start(timeout=60)
    workers = [DaskWorker(tmp_path / "workers", scheduler=scheduler.address, worker_name=f"w{i}") for i in (1, 2)]
    try:
        for worker in workers:
            worker.start(timeout=60)
        monkeypatch.setenv("DASK_ADDRESS", scheduler.address)

        def play(start: int, end: int) -> None:
            for k in range(start, end):
                write_stream(pipeline_env["GAMESTREAM_URL"], FRAMES[k], storage)
                latest = min(k, 70)  # the sentinel (line 71) adds no event

                def shown(event: int = latest) -> bool:
                    return (boxscores(pipeline_env) or [{}])[-1].get("_id") == event

                wait_until(shown, 60, f"the box score of event {latest}")

        write_stream(pipeline_env["GAMESTREAM_URL"], FRAMES[0], storage)
        live = Background(
            lambda: live_boxscore(poll_interval=0.05, wait_for_stream=60, stall_timeout=120, settle_seconds=0.5)
        ).start()
        play(1, 30)
        before = executed(scheduler.address)
        assert set(before) == {"w1", "w2"} and sum(before.values()) >= 30, before  # every read ran there
        workers[0].kill()  # SIGKILL, mid-game
        play(30, len(FRAMES))
        assert live.result(timeout=120) == FINAL_BOXSCORE
        after = executed(scheduler.address)
        assert set(after) == {"w2"} and after["w2"] > before["w2"], after  # the survivor took the rest
    finally:
        for worker in workers:
            worker.stop()
        scheduler.stop()
    for document in boxscores(pipeline_env):
        assert_matches_events(document)
    assert table_rows(pipeline_env["SQL_URL"], "teams2") == TEAMS2
    assert table_rows(pipeline_env["SQL_URL"], "players2") == PLAYERS2
