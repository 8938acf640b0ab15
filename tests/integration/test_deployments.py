"""The way users run it: a real `prefect server start`, a process worker and `prefect deployment run`.

Also checks what the UI shows: the artifacts through the API, and the flow-run page itself in
headless Chromium (the screenshot in README is made by this test, see ``SCREENSHOT_TO``). That a
live run that dies comes back by itself is test_restarts.py's, which uses the helpers here.
"""

from __future__ import annotations

import asyncio
import functools
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pymongo
import pytest

from devstack.servers import (
    PrefectServer,
    PrefectWorker,
    offline_prefect_env,
    wait_until,
)
from tests.helpers import MEASURED, as_stored, table_rows, task_runs
from tests.integration.browser import CHROMIUM
from tests.integration.browser import FLAGS as CHROMIUM_FLAGS
from tests.recorded_game import FINAL_BOXSCORE, PLAYERS2, TEAMS2

if TYPE_CHECKING:
    from prefect.client.orchestration import SyncPrefectClient

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    server = PrefectServer(tmp_path_factory.mktemp("prefect-server")).start(timeout=180)
    yield server
    server.stop()


def prefect_cli(server: PrefectServer, *args: str, env: dict[str, str] | None = None, timeout: float = 300) -> str:
    """Run the `prefect` CLI (or a script) against the server; fail with its output."""
    run_env = offline_prefect_env(server.workdir / "cli-home", server.api_url)
    run_env.update(env or {})
    done = subprocess.run(list(args), cwd=ROOT, env=run_env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, (
        f"{' '.join(args)} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done.stdout


@pytest.fixture(scope="module")
def deployed_game(prefect_server: PrefectServer, s3, mongo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Deploy everything, start a worker, run the simulator and the live flow as deployments."""
    workdir = tmp_path_factory.mktemp("deployed-game")
    env = {
        "GAMESTREAM_URL": f"s3://{s3.bucket}/deployed/gamestream.txt",
        "S3_ENDPOINT_URL": s3.endpoint_url,
        "SEAWEEDFS_FILER": s3.filer_address,
        "S3_ACCESS_KEY": s3.access_key,
        "S3_SECRET_KEY": s3.secret_key,
        "MONGO_URL": mongo.url,
        "MONGO_DB": "sidearm_deployed",
        "MONGO_COLLECTION": "boxscores",
        "SQL_URL": f"sqlite:///{workdir / 'sidearmdb.sqlite'}",
        "DASK_ADDRESS": "",
    }
    # the plain Prefect commands a user types in the project directory (deploy.sh does the same)
    prefect_cli(prefect_server, "prefect", "work-pool", "create", "gamestreams", "--type", "process")
    prefect_cli(prefect_server, "prefect", "--no-prompt", "deploy", "--all")
    # the worker runs elsewhere, without PYTHONPATH: only the directory `prefect deploy` recorded
    # (the project's) lets the flow runs import the project
    worker = PrefectWorker(workdir / "worker", api_url=prefect_server.api_url, extra_env=env)
    worker.start(timeout=120)
    try:
        # the game is in the bucket when the live run starts (as after a restart): its first read is
        # a whole read of a stream bigger than one (512-byte) Dask block, a task run of its own
        prefect_cli(
            prefect_server, "prefect", "deployment", "run", "gamestream/replay", "--param", "delay=0", "--watch"
        )
        live = prefect_cli(
            prefect_server,
            "prefect",
            "deployment",
            "run",
            "live-boxscore/live",
            "--param",
            "poll_interval=0.2",
            "--param",
            "settle_seconds=1",
            "--param",
            "dask_block_bytes=512",
            "--watch",
            "--watch-timeout",
            "300",
        )
    finally:
        worker.stop()
    flow_run_id = re.search(r"UUID: ([0-9a-f-]{36})", live).group(1)
    inspected = prefect_cli(prefect_server, "prefect", "deployment", "inspect", "live-boxscore/live")
    yield {"env": env, "flow_run_id": flow_run_id, "server": prefect_server, "cli_output": live, "inspected": inspected}


#: the heartbeat automation's window in these tests (a user's default is 90 s); heartbeats come
#: every 30 s, Prefect's least, as the live deployment sets them
TEST_WINDOW_SECONDS = 40
RESTART_AUTOMATION = "restart a crashed live run"


@functools.cache
def prefect_client(api_url: str) -> SyncPrefectClient:
    """One client per server for the tests' polls, kept open: a new client's start (its HTTP
    client and TLS context, the server's version asked) would be most of a poll's cost."""
    from prefect.client.orchestration import SyncPrefectClient

    return SyncPrefectClient(api=api_url).__enter__()


def flow_runs(api_url: str, since: datetime, flow: str = "live-boxscore", deployment: str | None = "live") -> list:
    """The runs of ``flow`` (of its ``deployment``, unless ``None``) created since ``since``, oldest first."""
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId, FlowFilter, FlowFilterName

    client = prefect_client(api_url)
    deployments = None
    if deployment is not None:
        found = client.read_deployment_by_name(f"{flow}/{deployment}")
        deployments = DeploymentFilter(id=DeploymentFilterId(any_=[found.id]))
    runs = client.read_flow_runs(
        flow_filter=FlowFilter(name=FlowFilterName(any_=[flow])), deployment_filter=deployments
    )
    return sorted((run for run in runs if run.created >= since), key=lambda run: run.created)


def states(api_url: str, since: datetime, **which: str) -> list[str]:
    return [run.state_name for run in flow_runs(api_url, since, **which)]


def run_pid(api_url: str, run_id: object) -> int:
    """The pid of a running flow run's process, as its worker recorded it."""

    def pid() -> int | None:
        run = prefect_client(api_url).read_flow_run(run_id)
        running = run.state_name == "Running" and run.infrastructure_pid
        return int(str(run.infrastructure_pid).rsplit(":", 1)[-1]) if running else None

    wait_until(lambda: pid() is not None, 120, "the live run's process")
    return pid()


def kill_run(api_url: str, run_id: object) -> float:
    """SIGKILL a running flow run's process; when it was killed."""
    os.kill(run_pid(api_url, run_id), signal.SIGKILL)
    return time.monotonic()


def report_restart(what: str, killed_at: float) -> None:
    MEASURED[f"kill to the next box score: {what}"] = f"{time.monotonic() - killed_at:.1f} s"


def assert_restarted_once(api_url: str, since: datetime, crash_message: str) -> None:
    """Two runs of the live deployment: the first Crashed (with ``crash_message``), the second,
    started by the restart automation, Completed and linked to the first."""
    first, second = flow_runs(api_url, since)
    assert (first.state_name, second.state_name) == ("Crashed", "Completed")
    assert first.state.message.startswith(crash_message), first.state.message
    assert second.name == f"{first.name}, restart 1"
    assert {"restarted", f"restart-of:{first.id}"} <= set(second.tags), second.tags
    assert second.parameters == first.parameters
    (restart,) = flow_runs(api_url, since, flow="restart-live-run", deployment=None)
    assert restart.state_name == "Completed" and restart.parameters["crashed_run"] == f"prefect.flow-run.{first.id}"
    assert (restart.created_by.type, restart.created_by.display_value) == ("AUTOMATION", RESTART_AUTOMATION)


def test_deployed_live_flow_writes_the_right_results(deployed_game: dict) -> None:
    env = deployed_game["env"]
    assert "Flow run finished successfully in 'Completed'" in deployed_game["cli_output"]
    with pymongo.MongoClient(env["MONGO_URL"]) as client:
        latest = as_stored(client[env["MONGO_DB"]][env["MONGO_COLLECTION"]].find_one(sort=[("_id", -1)]))
    assert latest == FINAL_BOXSCORE
    assert table_rows(env["SQL_URL"], "teams2") == TEAMS2
    assert table_rows(env["SQL_URL"], "players2") == PLAYERS2


async def _artifacts(api_url: str) -> dict[str, Any]:
    from prefect.client.orchestration import PrefectClient
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    async with PrefectClient(api=api_url) as client:
        found = await client.read_latest_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["boxscore", "game-clock", "final-result"]))
        )
    return {artifact.key: artifact for artifact in found}


def test_the_first_read_of_a_big_stream_is_one_whole_read_task_run(deployed_game: dict) -> None:
    runs = task_runs(deployed_game["flow_run_id"], deployed_game["server"].api_url)
    whole = [run for run in runs if run[0].startswith("read whole")]
    assert whole == [(f"read whole {deployed_game['env']['GAMESTREAM_URL']}", "Completed")]
    others = sorted(name.rsplit("-", 1)[0] for name, _state in runs if not name.startswith("read whole"))
    # the once-per-run reads and the finalize subflow: a tick is no task run
    assert others == ["finalize-game", "read_game_records", "read_reference"], runs


def test_plain_prefect_deploy_records_the_project_directory_for_every_run(deployed_game: dict) -> None:
    assert "prefect.deployments.steps.set_working_directory" in deployed_game["inspected"]
    assert f"'directory': '{ROOT}'" in deployed_game["inspected"]


def test_ui_artifacts_exist(deployed_game: dict) -> None:
    artifacts = asyncio.run(_artifacts(deployed_game["server"].api_url))
    assert artifacts["boxscore"].type == "table"
    assert "Johns Hopkins 9 - 14 Syracuse, Final (event 70)" in artifacts["boxscore"].description
    assert "| Syracuse | 6 | 4 | 3 | 1 | 14 | 48 |" in artifacts["boxscore"].description  # the line score
    assert artifacts["game-clock"].type == "progress" and float(artifacts["game-clock"].data) == 100.0
    assert artifacts["final-result"].type == "markdown"
    assert "| Syracuse | 11-2 | 12-2 |" in artifacts["final-result"].data


def chromium(url: str, profile: Path, *args: str) -> str:
    """Headless Debian Chromium on a page of ours; returns what it printed (the DOM for --dump-dom)."""
    done = subprocess.run(
        [
            CHROMIUM,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--window-size=1400,1000",
            "--virtual-time-budget=20000",
            *args,
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.stdout


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (make test installs it)")
def test_ui_shows_the_flow_run_and_the_boxscore_artifact(deployed_game: dict, tmp_path: Path) -> None:
    """Screenshots of the live flow run and of its latest box-score table, as a person sees them.

    ``SCREENSHOT_DIR=docs`` keeps them (README shows those two pictures).
    """
    server = deployed_game["server"]
    artifact_id = asyncio.run(_artifacts(server.api_url))["boxscore"].latest_id
    pages = {
        "ui-flow-run.png": (
            f"{server.url}/runs/flow-run/{deployed_game['flow_run_id']}",
            ["live-boxscore", "Completed"],
        ),
        "ui-boxscore-artifact.png": (
            f"{server.url}/artifacts/artifact/{artifact_id}",
            ["Johns Hopkins 9 - 14 Syracuse", "sarah", "julie"],
        ),
    }
    target_dir = Path(os.environ.get("SCREENSHOT_DIR", tmp_path))
    for name, (url, visible) in pages.items():
        chromium(url, tmp_path / f"profile-{name}", f"--screenshot={target_dir / name}")
        png = (target_dir / name).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
        dom = chromium(url, tmp_path / f"dom-{name}", "--dump-dom")
        for text in visible:
            assert text in dom, f"{text!r} is not on {url}"
