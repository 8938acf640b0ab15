"""Faults mid-game, against real servers this module starts, stops, restarts and kills.

MongoDB or S3 down for a while, the stream missing or empty, the live flow SIGKILLed and
started again, a Dask worker dying mid-computation: every box score written is the naive
recount of the events up to its id, the final one is the hand-counted literal, and
teams2/players2 are counted once.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from distributed import Client, LocalCluster, WorkerPlugin

from boxscore.replay import replay_frames
from devstack.follow import start_polling
from devstack.servers import FerretMongo, LiveFlowProcess, MongoServer, SeaweedS3, SecantusMongo, wait_until
from flows.finalize import finalize_game
from flows.gamestream import SEED_DIR, gamestream
from flows.live_boxscore import live_boxscore
from tasks.reference import read_seed, reset_reference
from tasks.settings import S3_READERS
from tasks.stream import s3_filesystem, stream_path, write_stream
from tests.helpers import assert_matches_events, boxscores, latest_stored, table_rows
from tests.recorded_game import EVENTS_FILE, FINAL_BOXSCORE, PLAYERS2, TEAMS2

ROOT = Path(__file__).resolve().parents[2]
#: FRAMES[k]: the stream object once line k is written (line k is event k; 71 is the sentinel)
FRAMES = [frame.text for frame in replay_frames(EVENTS_FILE.read_text())]
LAST = len(FRAMES) - 1


class FlowLog(logging.Handler):
    """The live flow's log lines, so a test can wait until the flow has noticed a fault."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.changed = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        with self.changed:
            self.lines.append(record.getMessage())
            self.changed.notify_all()

    def wait_for(self, *parts: str, timeout: float = 90.0) -> str:
        def found() -> str | None:
            return next((line for line in self.lines if all(part in line for part in parts)), None)

        with self.changed:
            if not self.changed.wait_for(found, timeout):
                raise TimeoutError(f"the live flow never logged {parts}; it logged: {self.lines[-10:]}")
            return found()


@pytest.fixture
def flow_log() -> Iterator[FlowLog]:
    handler = FlowLog()
    logger = logging.getLogger("prefect.flow_runs")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


@dataclass
class Stack:
    s3: SeaweedS3
    mongo: MongoServer
    env: dict[str, str]

    def write(self, line: int) -> None:
        """The stream as the feed has it once ``line`` is written."""
        write_stream(self.env["GAMESTREAM_URL"], FRAMES[line] if line >= 0 else "", self.s3.storage_options)

    def latest_id(self) -> int | None:
        latest = latest_stored(self.env)
        return None if latest is None else latest["_id"]

    def wait_for_boxscore(self, event: int) -> None:
        wait_until(lambda: self.latest_id() == event, 90, f"the box score of event {event}")


#: the MongoDB servers a test's own stack may run (``parametrize("stack", [...], indirect=True)``)
STACK_MONGO = {"secantusdb": SecantusMongo, "ferretdb": FerretMongo}


@pytest.fixture
def stack(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefect_api: None
) -> Iterator[Stack]:
    """Servers of this test's own, so stopping them disturbs no other test: SecantusDB, or the
    MongoDB server the test is parametrized with."""
    s3, mongo = SeaweedS3(tmp_path / "s3"), STACK_MONGO[getattr(request, "param", "secantusdb")](tmp_path / "mongo")
    s3.start()
    mongo.start()
    env = {
        "GAMESTREAM_URL": f"s3://{s3.bucket}/gamestream.txt",
        "S3_ENDPOINT_URL": s3.endpoint_url,
        "SEAWEEDFS_FILER": s3.filer_address,
        "S3_ACCESS_KEY": s3.access_key,
        "S3_SECRET_KEY": s3.secret_key,
        "MONGO_URL": mongo.url,
        "MONGO_DB": "sidearm",
        "MONGO_COLLECTION": "boxscores",
        "SQL_URL": f"sqlite:///{tmp_path / 'sidearmdb.sqlite'}",
    }
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DASK_ADDRESS", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    reset_reference.fn(env["SQL_URL"], *read_seed(SEED_DIR))
    try:
        yield Stack(s3, mongo, env)
    finally:
        mongo.stop()
        s3.stop()


def assert_game_right(env: dict[str, str], must_have: set[int]) -> None:
    """Every box score is the recount up to its id, the last is the final literal; tables counted once."""
    docs = boxscores(env)
    assert must_have <= {doc["_id"] for doc in docs}
    for doc in docs:
        assert_matches_events(doc)
    assert docs[-1] == FINAL_BOXSCORE
    assert table_rows(env["SQL_URL"], "teams2") == TEAMS2
    assert table_rows(env["SQL_URL"], "players2") == PLAYERS2


@pytest.mark.parametrize("stack", list(STACK_MONGO), indirect=True)
def test_mongodb_down_mid_game_keeps_the_box_score_until_it_is_back(stack: Stack, flow_log: FlowLog) -> None:
    live = start_polling(
        lambda: live_boxscore(poll_interval=0.1, wait_for_stream=60, stall_timeout=180, settle_seconds=0.5)
    )
    stack.write(30)
    stack.wait_for_boxscore(30)
    stack.mongo.stop()
    stack.write(50)
    flow_log.wait_for("MongoDB", "failed", "1 box score(s) kept")
    stack.mongo.start()
    flow_log.wait_for("MongoDB", "answers again")
    stack.wait_for_boxscore(50)  # the box score read during the outage, written once MongoDB is back
    stack.write(LAST)
    assert live.result(timeout=180) == FINAL_BOXSCORE
    assert_game_right(stack.env, {30, 50, 70})


@pytest.mark.parametrize("reader", S3_READERS)
def test_s3_down_then_stream_missing_then_empty_never_loses_a_box_score(
    stack: Stack, flow_log: FlowLog, reader: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("S3_READER", reader)  # either client reports S3 down within the wait, by name
    live = start_polling(
        lambda: live_boxscore(poll_interval=0.1, wait_for_stream=60, stall_timeout=180, settle_seconds=0.5)
    )
    flow_log.wait_for("following the game", f"reader={reader}")
    stack.write(20)
    stack.wait_for_boxscore(20)
    stack.s3.stop()
    flow_log.wait_for("S3 (", "failed", "keeping the box scores as they are")
    stack.s3.start()
    flow_log.wait_for("S3 (", "answers again")
    stack.write(40)
    stack.wait_for_boxscore(40)
    before = boxscores(stack.env)

    s3_filesystem(stack.s3.storage_options).rm(stream_path(stack.env["GAMESTREAM_URL"]))
    flow_log.wait_for("is missing; waiting for it to come back")
    stack.write(-1)  # the object is back, briefly empty
    flow_log.wait_for("has no event; its box score stays as it was")
    assert boxscores(stack.env) == before, "an empty or missing stream must not change any box score"

    stack.write(LAST)
    assert live.result(timeout=180) == FINAL_BOXSCORE
    assert_game_right(stack.env, {20, 40, 70})


@pytest.mark.parametrize("stack", list(STACK_MONGO), indirect=True)
def test_killed_live_flow_resumes_and_the_season_tables_count_the_game_once(stack: Stack, tmp_path: Path) -> None:
    from prefect.settings import PREFECT_API_URL

    api = {"PREFECT_API_URL": str(PREFECT_API_URL.value())}  # the session's API: no server per process
    args = ["--poll-interval", "0.1", "--wait-for-stream", "60", "--stall-timeout", "120", "--settle-seconds", "0.5"]
    stack.write(30)
    first = LiveFlowProcess(tmp_path / "first", project_dir=ROOT, extra_env=api, args=args).start(timeout=180)
    stack.wait_for_boxscore(30)
    first.kill()  # SIGKILL: no clean-up of any kind
    stack.write(55)
    second = LiveFlowProcess(tmp_path / "second", project_dir=ROOT, extra_env=api, args=args).start(timeout=180)
    stack.wait_for_boxscore(55)
    stack.write(LAST)
    code, _ = second.finish(timeout=180)
    assert code == 0, second.log_path.read_text()[-3000:]
    assert_game_right(stack.env, {30, 55, 70})

    finalize_game()  # again, by hand: the same tables, not the game counted twice
    assert table_rows(stack.env["SQL_URL"], "teams2") == TEAMS2
    assert table_rows(stack.env["SQL_URL"], "players2") == PLAYERS2


class DieOnFirstTask(WorkerPlugin):
    """Kills its worker process the first time a task starts executing (once per marker file)."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def transition(self, key: object, start: str, finish: str, **kwargs: object) -> None:
        if finish == "executing" and not os.path.exists(self.marker):
            Path(self.marker).write_text(str(os.getpid()))
            os._exit(1)


@pytest.mark.parametrize("sql_url", ["sqlite"], indirect=True)
def test_a_dask_worker_dying_mid_computation_costs_a_recompute_not_the_tick(
    pipeline_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    marker = tmp_path / "worker-died"
    with (
        LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        client.register_plugin(DieOnFirstTask(str(marker)))
        monkeypatch.setenv("DASK_ADDRESS", cluster.scheduler_address)
        gamestream(delay=0)
        assert live_boxscore(poll_interval=0.05, stall_timeout=120, settle_seconds=0.5) == FINAL_BOXSCORE
    assert marker.exists(), "the worker was expected to die during the tick"
    assert_game_right(pipeline_env, {70})
