"""A live run that dies comes back by itself, on a real `prefect server start` with the project's
deploy script: its process killed on a real Dask cluster, its machine gone (worker and run
killed, a worker started again), or crashing at start every time (restarted at most three
times). The seconds from a kill to the next box score are printed in the run's "measured" section.

The game is written into the bucket by the simulator's own writer in a thread of the test (the
replay deployment is test_deployments.py's): it goes on whatever a kill takes away.

A module of its own (its own Prefect server, deployed by ``deployments/deploy.sh``), so that it
runs beside test_deployments.py on another pytest-xdist worker.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from distributed import Client

from boxscore.replay import replay_schedule
from deployments.automations import GAME_BEHIND, SERVICE_DOWN
from devstack.follow import Background
from devstack.servers import DaskScheduler, DaskWorker, PrefectServer, PrefectWorker, wait_until
from flows.gamestream import SEED_DIR, play
from tasks.reference import read_seed, reset_reference
from tests.helpers import latest_stored, table_rows
from tests.integration.test_deployments import (
    RESTART_AUTOMATION,
    TEST_WINDOW_SECONDS,
    assert_restarted_once,
    flow_runs,
    kill_run,
    prefect_cli,
    report_restart,
    run_pid,
    states,
)
from tests.recorded_game import EVENTS_FILE, FINAL_BOXSCORE, PLAYERS2, RECORDED_GAME_ID, TEAMS2


@pytest.fixture(scope="module")
def deployed_game(s3, mongo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A Prefect server of this module's, with every deployment and both automations of the
    project's deploy script, and the settings each test's games start from."""
    workdir = tmp_path_factory.mktemp("restarts")
    server = PrefectServer(workdir / "prefect-server").start(timeout=180)
    env = {
        "GAMESTREAM_URL": f"s3://{s3.bucket}/deployed/gamestream.txt",  # each test replaces /deployed/
        "S3_ENDPOINT_URL": s3.endpoint_url,
        "SEAWEEDFS_FILER": s3.filer_address,
        "S3_ACCESS_KEY": s3.access_key,
        "S3_SECRET_KEY": s3.secret_key,
        "MONGO_URL": mongo.url,
        "MONGO_DB": "sidearm_restarts",
        "MONGO_COLLECTION": "boxscores",
        "SQL_URL": f"sqlite:///{workdir / 'sidearmdb.sqlite'}",
        "DASK_ADDRESS": "",
    }
    try:
        yield {"env": env, "server": server, "storage": s3.storage_options}
    finally:
        server.stop()


@pytest.fixture(scope="module")
def restarts(deployed_game: dict) -> None:
    """The project's deploy script on the module's server: the deployments again, with the
    restart automation (a deployment trigger) and the heartbeat automation."""
    server = deployed_game["server"]
    out = prefect_cli(
        server, "sh", "deployments/deploy.sh", env={"SIDEARM_HEARTBEAT_WINDOW_SECONDS": str(TEST_WINDOW_SECONDS)}
    )
    assert f"({TEST_WINDOW_SECONDS} s)" in out, out
    from prefect.client.orchestration import SyncPrefectClient

    with SyncPrefectClient(api=server.api_url) as client:
        names = sorted(automation.name for automation in client.read_automations())
    expected = [GAME_BEHIND, SERVICE_DOWN, "mark a live run Crashed when its heartbeats stop", RESTART_AUTOMATION]
    assert names == sorted(expected), names


def test_the_live_deployment_runs_on_a_real_dask_cluster_that_loses_a_worker_and_its_own_process(
    deployed_game: dict, restarts: None, tmp_path: Path
) -> None:
    """`prefect deployment run` with DASK_ADDRESS in the worker's environment, as a user runs it on
    the cluster they have: the reads run on its `dask worker` processes, one of which dies mid-game;
    later the run's own process is SIGKILLed, and the restart automation starts it again."""
    server = deployed_game["server"]
    env = {
        **deployed_game["env"],
        "GAMESTREAM_URL": deployed_game["env"]["GAMESTREAM_URL"].replace("/deployed/", "/on-cluster/"),
        "MONGO_DB": "sidearm_on_cluster",
        "SQL_URL": f"sqlite:///{tmp_path / 'sidearmdb.sqlite'}",
    }
    since = datetime.now(UTC)
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
        # the 60-minute game in 36 s: both kills come by event 20, in its first third, and the
        # restarted run is back within about 20 s, before the game ends
        simulator = replay(deployed_game, env, delay=0.01)

        wait_until(lambda: (latest_stored(env) or {}).get("_id", -1) >= 10, 180, "the box score of event 10")
        with Client(scheduler.address, set_as_default=False) as client:
            counts = client.run(lambda dask_worker: (dask_worker.name, dask_worker.state.executed_count))
        ran = dict(counts.values())
        assert set(ran) == {"w1", "w2"} and sum(ran.values()) >= 1, ran
        busiest = max(ran, key=lambda name: ran[name])
        next(w for w in dask_workers if w.worker_name == busiest).kill()  # the worker doing the reads dies
        wait_until(lambda: (latest_stored(env) or {}).get("_id", -1) >= 20, 180, "the box score of event 20")
        # then the live run's own process is killed (an OOM kill): its worker marks it Crashed and
        # the restart automation starts it again, with nobody acting
        (first,) = flow_runs(server.api_url, since)
        killed_at, before = kill_run(server.api_url, first.id), latest_stored(env)["_id"]
        wait_until(lambda: latest_stored(env)["_id"] > before, 180, "the next box score after the kill")
        report_restart("the live run's process SIGKILLed, its worker alive", killed_at)
        wait_until(
            lambda: table_rows(env["SQL_URL"], "teams2") == TEAMS2, 240, "the season tables after the game", every=1
        )
        wait_until(
            lambda: states(server.api_url, since) == ["Crashed", "Completed"], 60, "the restarted run's end", every=1
        )
        simulator.result(timeout=60)
    finally:
        worker.stop()
        for dask_worker in dask_workers:
            dask_worker.stop()
        scheduler.stop()
    assert latest_stored(env) == FINAL_BOXSCORE
    assert table_rows(env["SQL_URL"], "players2") == PLAYERS2
    assert_restarted_once(server.api_url, since, "Process exited with status code: -9")


def replay(deployed_game: dict, env: dict[str, str], delay: float) -> Background:
    """The recorded game's reference tables, then its writes in game time, ``delay`` seconds per
    game second, in a thread of the test: off the worker, so that killing the worker leaves it."""
    reset_reference.fn(env["SQL_URL"], *read_seed(SEED_DIR))
    schedule = replay_schedule({RECORDED_GAME_ID: EVENTS_FILE.read_text()})
    return Background(lambda: play(schedule, env["GAMESTREAM_URL"], deployed_game["storage"], delay)).start()


def game_env(deployed_game: dict, tmp_path: Path, name: str) -> dict[str, str]:
    return {
        **deployed_game["env"],
        "GAMESTREAM_URL": deployed_game["env"]["GAMESTREAM_URL"].replace("/deployed/", f"/{name}/"),
        "MONGO_DB": f"sidearm_{name.replace('-', '_')}",
        "SQL_URL": f"sqlite:///{tmp_path / 'sidearmdb.sqlite'}",
    }


def test_a_live_run_whose_machine_dies_is_marked_crashed_by_its_lost_heartbeat_and_restarted(
    deployed_game: dict, restarts: None, tmp_path: Path
) -> None:
    """The worker and the live run's process are SIGKILLed together, as when their machine dies,
    and a worker is started again: nothing reports the run, so the heartbeat automation marks it
    Crashed; the restart automation starts it again on the new worker, which follows the game."""
    server, env = deployed_game["server"], game_env(deployed_game, tmp_path, "machine-dies")
    since = datetime.now(UTC)

    def latest() -> dict:
        return latest_stored(env) or {"_id": -1}

    worker = PrefectWorker(tmp_path / "worker", api_url=server.api_url, extra_env=env).start(timeout=120)
    again = PrefectWorker(tmp_path / "worker-again", api_url=server.api_url, extra_env=env)
    simulator = replay(deployed_game, env, delay=0.02)
    try:
        params = ["--param", "poll_interval=0.2", "--param", "settle_seconds=1"]
        prefect_cli(server, "prefect", "deployment", "run", "live-boxscore/live", *params)
        wait_until(lambda: latest()["_id"] >= 10, 180, "the box score of event 10")
        (first,) = flow_runs(server.api_url, since)
        pid, before = run_pid(server.api_url, first.id), latest()["_id"]
        worker.kill()  # the machine dies: the worker, and the run's process with it
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        killed_at = time.monotonic()
        again.start(timeout=120)
        wait_until(lambda: latest()["_id"] > before, 240, "the next box score after the machine died")
        report_restart(f"the worker and the run SIGKILLed, heartbeat window {TEST_WINDOW_SECONDS} s", killed_at)
        wait_until(
            lambda: table_rows(env["SQL_URL"], "teams2") == TEAMS2, 240, "the season tables after the game", every=1
        )
        wait_until(
            lambda: states(server.api_url, since) == ["Crashed", "Completed"], 60, "the restarted run's end", every=1
        )
        simulator.result(timeout=60)
    finally:
        again.stop()
        worker.stop()
    assert latest() == FINAL_BOXSCORE
    assert table_rows(env["SQL_URL"], "players2") == PLAYERS2
    assert_restarted_once(server.api_url, since, f"no heartbeat for {TEST_WINDOW_SECONDS} s")


def copy_deployment(api_url: str, source: str, name: str, job_variables: dict) -> None:
    """A deployment of ``source``'s flow, code and parameters under ``name``, with other job variables."""
    from prefect.client.orchestration import SyncPrefectClient

    with SyncPrefectClient(api=api_url) as client:
        live = client.read_deployment_by_name(source)
        client.create_deployment(
            flow_id=live.flow_id,
            name=name,
            entrypoint=live.entrypoint,
            path=live.path,
            pull_steps=live.pull_steps,
            work_pool_name=live.work_pool_name,
            parameters=live.parameters,
            parameter_openapi_schema=live.parameter_openapi_schema,
            job_variables=job_variables,
        )


def test_a_live_run_that_crashes_at_start_every_time_is_restarted_three_times_then_left_crashed(
    deployed_game: dict, restarts: None, tmp_path: Path
) -> None:
    """A second live deployment whose runs die as their interpreter starts (a ``sitecustomize``
    that SIGKILLs its own process, through the deployment's job variables, so every restart
    dies too): three restarts, then the fourth crash is left Crashed with the game named."""
    server, env = deployed_game["server"], game_env(deployed_game, tmp_path, "crash-at-start")
    dies = tmp_path / "dies-at-start"
    dies.mkdir()
    (dies / "sitecustomize.py").write_text("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
    copy_deployment(server.api_url, "live-boxscore/live", "crash-at-start", {"env": {"PYTHONPATH": str(dies)}})
    since = datetime.now(UTC)
    worker = PrefectWorker(tmp_path / "worker", api_url=server.api_url, extra_env=env).start(timeout=120)
    crashing = {"deployment": "crash-at-start"}
    try:
        prefect_cli(server, "prefect", "deployment", "run", "live-boxscore/crash-at-start")

        def left_crashed() -> bool:
            runs = flow_runs(server.api_url, since, **crashing)
            return len(runs) == 4 and runs[-1].state.message.startswith("not restarted:")

        wait_until(left_crashed, 300, "four crashed runs, the last left Crashed", every=1)

        def restart_runs() -> list:
            return flow_runs(server.api_url, since, flow="restart-live-run", deployment=None)

        wait_until(
            lambda: [r.state_name for r in restart_runs()] == ["Completed"] * 4, 60, "four restart runs done", every=1
        )
        # the run left Crashed is not restarted: its Crashed event is skipped by the restart trigger.
        # Watched for 10 s (the trigger acts within a second of an event): no fifth run comes.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert len(flow_runs(server.api_url, since, **crashing)) == 4 and len(restart_runs()) == 4
            time.sleep(1)
    finally:
        worker.stop()
    runs = flow_runs(server.api_url, since, **crashing)
    assert [run.state_name for run in runs] == ["Crashed"] * 4
    for k, (crashed, restarted) in enumerate(itertools.pairwise(runs), start=1):
        assert restarted.name == f"{runs[0].name}, restart {k}"
        assert f"restart-of:{crashed.id}" in restarted.tags
    assert runs[-1].state.message == (
        f"not restarted: game {env['GAMESTREAM_URL']} crashed again after 3 restarts in 30 min "
        "(at most 3: the restart deployment's max_restarts); start it again by hand"
    )
