"""The way users run it: a real `prefect server start`, a process worker and `prefect deployment run`.

Also checks what the UI shows: the artifacts through the API, and the flow-run page itself in
headless Chromium (the screenshot in README is made by this test, see ``SCREENSHOT_TO``).
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymongo
import pytest
from distributed import Client

from devstack.servers import (
    DaskScheduler,
    DaskWorker,
    PrefectServer,
    PrefectWorker,
    offline_prefect_env,
    wait_until,
)
from tests.helpers import table_rows, task_runs, valid
from tests.integration.browser import CHROMIUM
from tests.integration.browser import FLAGS as CHROMIUM_FLAGS
from tests.recorded_game import FINAL_BOXSCORE, PLAYERS2, TEAMS2

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


def test_deployed_live_flow_writes_the_right_results(deployed_game: dict) -> None:
    env = deployed_game["env"]
    assert "Flow run finished successfully in 'Completed'" in deployed_game["cli_output"]
    with pymongo.MongoClient(env["MONGO_URL"]) as client:
        latest = valid(client[env["MONGO_DB"]][env["MONGO_COLLECTION"]].find_one(sort=[("_id", -1)]))
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
    assert others == ["ensure_game_index", "finalize-game", "read_game_records", "read_reference"], runs


def test_plain_prefect_deploy_records_the_project_directory_for_every_run(deployed_game: dict) -> None:
    assert "prefect.deployments.steps.set_working_directory" in deployed_game["inspected"]
    assert f"'directory': '{ROOT}'" in deployed_game["inspected"]


def test_ui_artifacts_exist(deployed_game: dict) -> None:
    artifacts = asyncio.run(_artifacts(deployed_game["server"].api_url))
    assert artifacts["boxscore"].type == "table"
    assert "syracuse 14 - 9 johns hopkins" in artifacts["boxscore"].description
    assert "| syracuse | 6 | 4 | 3 | 1 | 14 | 48 |" in artifacts["boxscore"].description  # the line score
    assert artifacts["game-clock"].type == "progress" and float(artifacts["game-clock"].data) == 100.0
    assert artifacts["final-result"].type == "markdown"
    assert "| syracuse | 11-2 | 12-2 |" in artifacts["final-result"].data


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
            ["syracuse 14 - 9 johns hopkins", "sarah", "julie"],
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


def test_the_live_deployment_runs_on_a_real_dask_cluster_that_loses_a_worker(
    deployed_game: dict, tmp_path: Path
) -> None:
    """`prefect deployment run` with DASK_ADDRESS in the worker's environment, as a user runs it on
    the cluster they have: the reads run on its `dask worker` processes, one of which dies mid-game."""
    server = deployed_game["server"]
    env = {
        **deployed_game["env"],
        "GAMESTREAM_URL": deployed_game["env"]["GAMESTREAM_URL"].replace("/deployed/", "/on-cluster/"),
        "MONGO_DB": "sidearm_on_cluster",
        "SQL_URL": f"sqlite:///{tmp_path / 'sidearmdb.sqlite'}",
    }
    scheduler = DaskScheduler(tmp_path / "scheduler").start(timeout=60)
    dask_workers = [DaskWorker(tmp_path / "workers", scheduler=scheduler.address, worker_name=f"w{i}") for i in (1, 2)]
    worker = PrefectWorker(
        tmp_path / "worker",
        api_url=server.api_url,
        extra_env={**env, "DASK_ADDRESS": scheduler.address},
    )
    try:
        for dask_worker in dask_workers:
            dask_worker.start(timeout=60)
        worker.start(timeout=120)
        prefect_cli(
            server,
            "prefect",
            "deployment",
            "run",
            "live-boxscore/live",
            "--param",
            "poll_interval=0.1",
            "--param",
            "settle_seconds=1",
        )
        prefect_cli(server, "prefect", "deployment", "run", "gamestream/replay", "--param", "delay=0.02")

        def latest() -> dict | None:
            with pymongo.MongoClient(env["MONGO_URL"]) as client:
                return valid(client[env["MONGO_DB"]][env["MONGO_COLLECTION"]].find_one(sort=[("_id", -1)]))

        wait_until(lambda: (latest() or {}).get("_id", -1) >= 10, 180, "the box score of event 10")
        with Client(scheduler.address, set_as_default=False) as client:
            counts = client.run(lambda dask_worker: (dask_worker.name, dask_worker.state.executed_count))
        ran = dict(counts.values())
        assert set(ran) == {"w1", "w2"} and sum(ran.values()) >= 1, ran
        busiest = max(ran, key=lambda name: ran[name])
        next(w for w in dask_workers if w.worker_name == busiest).kill()  # the worker doing the reads dies
        wait_until(lambda: table_rows(env["SQL_URL"], "teams2") == TEAMS2, 240, "the season tables after the game")
    finally:
        worker.stop()
        for dask_worker in dask_workers:
            dask_worker.stop()
        scheduler.stop()
    assert latest() == FINAL_BOXSCORE
    assert table_rows(env["SQL_URL"], "players2") == PLAYERS2
