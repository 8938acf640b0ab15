"""Nothing of a live run listens beyond loopback: its process's listening sockets, listed while it runs.

The live flow runs as a user types it; once its log says it has its Dask client (the local
cluster is created on the first read), psutil lists the sockets the process and its children
listen on.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from devstack.servers import SeaweedS3, offline_prefect_env, wait_until
from flows.gamestream import RECORDED_GAME, SEED_DIR
from tasks.reference import read_seed, seed_reference
from tasks.stream import write_stream
from tests.helpers import ROOT


def _listening(pid: int) -> set[tuple[str, int]]:
    process = psutil.Process(pid)
    sockets = []
    for each in [process, *process.children(recursive=True)]:
        sockets += [c for c in each.net_connections("inet") if c.status == psutil.CONN_LISTEN]
    return {(c.laddr.ip, c.laddr.port) for c in sockets}


@pytest.mark.parametrize("sql_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("dashboard", ["", "127.0.0.1:0"])
def test_a_live_run_listens_on_loopback_only(
    pipeline_env: dict[str, str], s3: SeaweedS3, tmp_path: Path, dashboard: str
) -> None:
    from prefect.settings import PREFECT_API_URL

    seed_reference.fn(pipeline_env["SQL_URL"], *read_seed(SEED_DIR))
    write_stream(pipeline_env["GAMESTREAM_URL"], RECORDED_GAME.read_text(), s3.storage_options)
    log = tmp_path / "live.log"
    env = {**offline_prefect_env(tmp_path / "prefect", str(PREFECT_API_URL.value())), "PYTHONPATH": str(ROOT)}
    env.update(pipeline_env, LOCAL_CLUSTER_DASHBOARD=dashboard)
    with log.open("w") as output:
        run = subprocess.Popen(
            [sys.executable, "-m", "flows.live_boxscore", "--settle-seconds", "60", "--no-finalize"],
            cwd=tmp_path,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(lambda: "Dask: scheduler" in log.read_text(), 120, "the live run's Dask client", run)
        listening = _listening(run.pid)
    finally:
        run.kill()  # its sockets are read: nothing of the run is wanted after (a flow run takes SIGTERM slowly)
        run.wait(30)
    said = next(line for line in log.read_text().splitlines() if "Dask: scheduler" in line)
    assert {ip for ip, _ in listening} <= {"127.0.0.1"}, listening
    if dashboard:
        port = int(said.rsplit("dashboard http://127.0.0.1:", 1)[1].split("/")[0])
        assert ("127.0.0.1", port) in listening, (said, listening)
    else:
        assert "dashboard none" in said, said
