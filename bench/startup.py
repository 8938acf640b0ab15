"""Start-up: from ``python -m flows.live_boxscore`` to its first poll, with and without a server.

    make bench-startup          (or: .venv/bin/python -m bench.startup [--runs N])

The live flow runs as its own process against local SeaweedFS and SecantusDB, on a stream that
does not exist yet, so its first poll logs "waiting for the stream"; the time to that line is
its start-up: from just before the process is started to the time stamp Prefect's log gives
that line (so the harness's own polling of the log adds nothing). Measured alternately,
``--runs`` times each, with the Prefect home already migrated and the project's bytecode cached
(a first run warms both, as any earlier run on a user's machine has):

- with ``PREFECT_API_URL`` naming a running ``prefect server start`` (what a user with a server,
  a deployment or the test session has);
- without it: Prefect's temporary server, started by the flow's own process.

Target (issue #35): the first poll within 2 s with a running server.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import time
from datetime import datetime

from tabulate import tabulate

from bench.common import ROOT, SCRATCH, save
from devstack.follow import POLLING_MESSAGE
from devstack.servers import (
    LiveFlowProcess,
    PrefectServer,
    SeaweedS3,
    SecantusMongo,
    local_pipeline_env,
    running,
)

TARGET_S = 2.0


class PollingFlow(LiveFlowProcess):
    """The live flow, ready once it polls for its missing stream."""

    def ready(self) -> bool:
        return POLLING_MESSAGE in self.log_path.read_text(errors="replace")


def first_poll(workdir_name: str, env: dict[str, str]) -> float:
    """Seconds from starting the flow's process to its first poll, by the time stamp of its log line."""
    args = ["--wait-for-stream", "60"]
    flow = PollingFlow(SCRATCH / "startup" / workdir_name, project_dir=ROOT, extra_env=env, args=args)
    started = datetime.now()
    try:
        flow.start(timeout=300)
        line = next(line for line in flow.log_path.read_text().splitlines() if POLLING_MESSAGE in line)
    finally:
        flow.stop()
        lingered = wait_for_group_exit(flow)
    if lingered > 0.1:
        print(f"  ({workdir_name}: its child processes took {lingered:.1f} s more to exit)", flush=True)
    # Prefect's console format: "HH:MM:SS.mmm | LEVEL | ...", local time, the same day
    stamp = datetime.combine(started.date(), datetime.strptime(line.split(" | ")[0], "%H:%M:%S.%f").time())
    return (stamp - started).total_seconds()


def wait_for_group_exit(flow: PollingFlow, timeout: float = 60.0) -> float:
    """Seconds until the flow's children (a temporary Prefect server) have exited too.

    Stopping waits for the flow's own process only; a temporary server still shutting down, or
    its database's pages being written back, would take from the next run's start-up.
    """
    assert flow.process is not None
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            os.killpg(flow.process.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        os.killpg(flow.process.pid, signal.SIGKILL)
    os.sync()  # and what it wrote is on disk, not flushed during the next run
    return time.monotonic() - started


def main(runs: int) -> None:
    workdir = SCRATCH / "startup"
    shutil.rmtree(workdir, ignore_errors=True)
    servers = (SeaweedS3(workdir / "s3"), SecantusMongo(workdir / "mongo"), PrefectServer(workdir / "prefect"))
    with running(*servers) as (s3, mongo, prefect):
        base = {
            **local_pipeline_env(s3, mongo, workdir / "sidearmdb.sqlite"),
            "GAMESTREAM_URL": f"s3://{s3.bucket}/none.txt",
            "PREFECT_HOME": str(workdir / "prefect-home"),  # one home, migrated by the warm-up runs
            "PYTHONDONTWRITEBYTECODE": "",  # bytecode cached by the warm-up runs, as on a user's machine
        }
        kinds = {
            "with a running Prefect server": {**base, "PREFECT_API_URL": prefect.api_url},
            "with a temporary server per process": base,
        }
        for name, env in kinds.items():  # warm: the migrated home, imports in the page cache
            first_poll(f"warm-{len(name)}", env)
        seconds: dict[str, list[float]] = {name: [] for name in kinds}
        for run in range(runs):
            for name, env in kinds.items():
                seconds[name].append(first_poll(f"run-{run}-{len(name)}", env))
                print(f"run {run + 1}/{runs} {name}: {seconds[name][-1]:.1f} s to the first poll", flush=True)
    medians = {name: statistics.median(values) for name, values in seconds.items()}
    rows = [[name, f"{m:.1f}", f"{min(seconds[name]):.1f}", f"{max(seconds[name]):.1f}"] for name, m in medians.items()]
    print(tabulate(rows, headers=["first poll", "median s", "min s", "max s"]))
    print(f"target: {TARGET_S:.1f} s with a running server")
    save("startup", {"runs": seconds, "median_s": medians, "target_s": TARGET_S})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    main(parser.parse_args().runs)
