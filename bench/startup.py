"""Start-up: from ``python -m flows.live_boxscore`` to its first poll, beside a bare Prefect flow.

    make bench-startup          (or: .venv/bin/python -m bench.startup [--runs N])

The live flow runs as its own process against local SeaweedFS and SecantusDB, on a stream that
does not exist yet, so its first poll logs "waiting for the stream"; the time to that line is
its start-up: from just before the process is started to the time stamp Prefect's log gives
that line (so the harness's own polling of the log adds nothing). Measured alternately,
``--runs`` times each, with the Prefect home already migrated and the project's bytecode cached
(a first run warms both, as any earlier run on a user's machine has):

- with ``PREFECT_API_URL`` naming a running ``prefect server start`` (what a user with a server,
  a deployment or the test session has);
- without it: Prefect's temporary server, started by the flow's own process;
- ``python -m bench.bare_flow`` with the running server, to its "Beginning flow run" line: what
  importing Prefect and creating a flow run cost before any flow's body starts, in the same run.
  The live flow's start-up beyond it is ours (our imports, the settings, the first poll).

Target (issue #35): the first poll within 2 s with a running server.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import sys
import time
from dataclasses import dataclass
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
    wait_until,
)

TARGET_S = 2.0
RUNNING = "with a running Prefect server"
TEMPORARY = "with a temporary server per process"
BARE = "bare Prefect flow to its body, running server"
BEGINNING = "Beginning flow run"  # Prefect's first line of every flow run


@dataclass
class StartingFlow(LiveFlowProcess):
    """A flow's process, ready once its log has ``marker``: the line whose time stamp ends its start-up."""

    module: str = "flows.live_boxscore"
    marker: str = POLLING_MESSAGE

    def command(self) -> list[str]:
        return [sys.executable, "-m", self.module, *self.args]

    def ready(self) -> bool:
        return self.marker in self.log_path.read_text(errors="replace")


def live_flow(workdir_name: str, env: dict[str, str]) -> StartingFlow:
    """The live flow on a stream that does not exist: its first poll logs that it waits for it."""
    args = ["--wait-for-stream", "60"]
    return StartingFlow(SCRATCH / "startup" / workdir_name, project_dir=ROOT, extra_env=env, args=args)


def bare_flow(workdir_name: str, env: dict[str, str]) -> StartingFlow:
    """bench.bare_flow, alive until it is stopped: its body begins, then waits."""
    workdir = SCRATCH / "startup" / workdir_name
    args = ["--linger", "60"]
    return StartingFlow(workdir, project_dir=ROOT, extra_env=env, args=args, module="bench.bare_flow", marker=BEGINNING)


def started_in(flow: StartingFlow) -> float:
    """Seconds from starting the flow's process to its marker line, by that line's own time stamp."""
    started = datetime.now()
    try:
        flow.start(timeout=300)
        line = next(line for line in flow.log_path.read_text().splitlines() if flow.marker in line)
    finally:
        flow.stop()
        lingered = wait_for_group_exit(flow)
    if lingered > 0.1:
        print(f"  ({flow.workdir.name}: its child processes took {lingered:.1f} s more to exit)", flush=True)
    # Prefect's console format: "HH:MM:SS.mmm | LEVEL | ...", local time, the same day
    stamp = datetime.combine(started.date(), datetime.strptime(line.split(" | ")[0], "%H:%M:%S.%f").time())
    return (stamp - started).total_seconds()


def wait_for_group_exit(flow: StartingFlow, timeout: float = 60.0) -> float:
    """Seconds until the flow's children (a temporary Prefect server) have exited too.

    Stopping waits for the flow's own process only; a temporary server still shutting down, or
    its database's pages being written back, would take from the next run's start-up.
    """
    assert flow.process is not None
    group = flow.process.pid
    started = time.monotonic()

    def group_gone() -> bool:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        return False

    try:
        wait_until(group_gone, timeout, f"the exit of {flow.workdir.name}'s child processes")
    except TimeoutError:
        os.killpg(group, signal.SIGKILL)
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
        running_env = {**base, "PREFECT_API_URL": prefect.api_url}
        kinds = {
            RUNNING: lambda name: live_flow(name, running_env),
            TEMPORARY: lambda name: live_flow(name, base),
            BARE: lambda name: bare_flow(name, running_env),
        }
        for place, make in enumerate(kinds.values()):  # warm: the migrated home, the bytecode, the page cache
            started_in(make(f"warm-{place}"))
        seconds: dict[str, list[float]] = {name: [] for name in kinds}
        for run in range(runs):
            for place, (name, make) in enumerate(kinds.items()):
                seconds[name].append(started_in(make(f"run-{run}-{place}")))
                print(f"run {run + 1}/{runs} {name}: {seconds[name][-1]:.2f} s", flush=True)
    medians = {name: statistics.median(values) for name, values in seconds.items()}
    rows = [[name, f"{m:.2f}", f"{min(seconds[name]):.2f}", f"{max(seconds[name]):.2f}"] for name, m in medians.items()]
    print(tabulate(rows, headers=["start-up", "median s", "min s", "max s"]))
    beyond = medians[RUNNING] - medians[BARE]
    print(f"the live flow's first poll beyond a bare flow's body: {beyond:.2f} s; target: {TARGET_S:.1f} s in all")
    save("startup", {"runs": seconds, "median_s": medians, "beyond_bare_s": beyond, "target_s": TARGET_S})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    main(parser.parse_args().runs)
