"""``make up``, ``make worker``, ``make down`` and ``make clean`` as a user types them, in a clean copy
of the checkout: a stack whose list of servers was removed is neither reported up by a second
``make up`` nor orphaned by ``make down`` or ``make clean``.

The stack runs on free ports (``SIDEARM_STACK_PORTS``), so it never meets README's own run of
``make up`` on the fixed ones (tests/integration/test_readme.py) on another worker.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import psutil

from devstack.processes import MARKER, port_holder, stack_processes
from devstack.servers import free_ports
from tests.helpers import clean_checkout, make, with_migrated_prefect_database


def marked(workdir: Path) -> list[str]:
    """The names of the live processes that carry this stack's marker."""
    return sorted(process.name() for process in stack_processes(workdir))


def test_up_refuses_a_port_its_earlier_stack_holds_and_down_and_clean_stop_it_after_var_is_gone(
    tmp_path: Path,
) -> None:
    checkout = clean_checkout(tmp_path / "checkout")
    workdir = checkout / "var" / "local"
    (s3,), (mongo, prefect) = free_ports(1, with_grpc=True), free_ports(2)
    env = {"SIDEARM_STACK_PORTS": f"{s3},{mongo},{prefect}", MARKER: ""}

    try:
        with_migrated_prefect_database(checkout)
        first = make(checkout, "up", env=env)
        assert first.returncode == 0, first.stderr
        assert "S3_SECRET_KEY=***" in first.stdout and "sidearm-dev-secret" not in first.stdout + first.stderr
        assert "sidearm-dev-secret" in (checkout / "sidearm.env").read_text()  # the file keeps it for the flows
        worker = make(checkout, "worker", env=env)
        assert worker.returncode == 0 and "is running" in worker.stdout, worker.stderr
        twice = make(checkout, "worker", env=env)
        assert twice.returncode == 0 and "is already running" in twice.stdout, twice.stdout
        up = marked(workdir)
        assert up == ["prefect", "prefect", "secantusd-py", "weed"], up  # the server and one worker
        holder = port_holder(s3)
        assert holder is not None and holder.name == "weed"

        # the list of servers is gone (as an older make clean removed var/ with it); the servers run on.
        # Their data stays: SeaweedFS sometimes takes the whole grace to stop once its data is deleted
        (workdir / "servers.json").unlink()
        again = make(checkout, "up", env=env)
        assert again.returncode != 0
        assert again.stderr.strip().splitlines()[0] == (
            f"make up: port {s3} (SeaweedFS's S3) is in use by weed (pid {holder.pid}), a server of this "
            "checkout's local stack that is still running (its list of servers was removed): run make down, "
            "then make up; nothing was started"
        )
        assert "the local stack is up" not in again.stdout and marked(workdir) == up  # nothing new started

        down = make(checkout, "down", env=env)
        assert down.returncode == 0 and down.stdout.strip().startswith("stopped "), down.stdout
        assert marked(workdir) == [] and all(port_holder(port) is None for port in (s3, mongo, prefect))

        # make clean stops what the stack runs before it removes var/: a marked process stands for a server
        server = subprocess.Popen(["sleep", "300"], env={**os.environ, MARKER: str(workdir)}, start_new_session=True)
        assert marked(workdir) == ["sleep"]
        clean = make(checkout, "clean", env=env)
        assert clean.returncode == 0 and "stopped sleep" in clean.stdout, clean.stdout + clean.stderr
        assert server.wait(10) == -signal.SIGTERM and not (checkout / "var").exists()
    finally:
        for process in stack_processes(workdir):  # whatever an assertion left running
            process.kill()
        psutil.wait_procs(stack_processes(workdir), timeout=10)
