"""The Dask cluster the aggregation runs on: the user's own, or a local one for the run.

The live flow runs on prefect-dask's :class:`DaskTaskRunner` and takes its one client from it
(Prefect owns the client and closes it with the run). The runner is made, and Dask imported,
when the run first reads (:class:`DaskRunnerFromSettings`): the first poll comes before that.
Threads, not processes, for the local cluster: worker processes would each need the Prefect
API and the project importable, and the work per tick is small.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from prefect.context import FlowRunContext
from prefect.task_runners import TaskRunner

from tasks.settings import setting

if TYPE_CHECKING:
    from distributed import Client, LocalCluster
    from prefect_dask import DaskTaskRunner

#: The local cluster of a run without ``DASK_ADDRESS``: on loopback, and without a dashboard (which
#: has no login) unless ``LOCAL_CLUSTER_DASHBOARD`` names an address for it (:func:`local_cluster`).
LOCAL_CLUSTER: dict[str, Any] = {
    "processes": False,
    "n_workers": 1,
    "threads_per_worker": 2,
    # the scheduler's and the worker's HTTP routes (health, metrics) listen even without a
    # dashboard, on every interface unless given an address: on loopback, on free ports
    "dashboard_address": "127.0.0.1:0",
    "worker_dashboard_address": "127.0.0.1:0",
    "scheduler_kwargs": {"dashboard": False},
}


def local_cluster(dashboard: str = "") -> dict[str, Any]:
    """:data:`LOCAL_CLUSTER`, with its dashboard on ``dashboard`` (``host:port``) when one is given."""
    if not dashboard:
        return dict(LOCAL_CLUSTER)
    return {**LOCAL_CLUSTER, "scheduler_kwargs": {"dashboard": True}, "dashboard_address": dashboard}


#: The local cluster's own background work, slowed to what following games needs. By default the
#: worker's statistical profiler samples every thread every 10 ms and monitors read /proc every 20 to
#: 500 ms: 45 ms of CPU per idle second, more than the polls themselves (bench.following).
QUIET_LOCAL_CLUSTER: dict[str, Any] = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "500ms",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.admin.system-monitor.disk": False,
    "distributed.worker.memory.monitor-interval": "1s",
    # the scheduler's and workers' transition logs: 1,000 entries by default, which a live run's
    # ticks fill with about 9 MB over its first thousand ticks; 100 keep what a stuck task shows
    "distributed.admin.low-level-log-length": 100,
}


def quiet_local_cluster(**kwargs: Any) -> LocalCluster:
    """A :class:`LocalCluster` built with :data:`QUIET_LOCAL_CLUSTER` (read when it starts)."""
    import dask
    from distributed import LocalCluster

    with dask.config.set(QUIET_LOCAL_CLUSTER):
        return LocalCluster(**kwargs)


class DaskRunnerFromSettings(TaskRunner[Any]):
    """prefect-dask's :class:`DaskTaskRunner` for a flow run, made when the run first uses Dask.

    Prefect duplicates a flow's task runner for every run and starts it before the flow's body:
    this one only then reads ``DASK_ADDRESS`` (in the worker's environment, not when the flow
    module was imported), and makes the DaskTaskRunner (importing Dask and distributed) at the
    run's first task submitted or client asked for. Everything else is the DaskTaskRunner's own.
    """

    def __init__(self) -> None:
        super().__init__()
        self._dask: DaskTaskRunner | None = None

    def duplicate(self) -> DaskRunnerFromSettings:
        return type(self)()

    @property
    def dask(self) -> DaskTaskRunner:
        """The run's DaskTaskRunner, started with this runner (made on first use)."""
        if self._dask is None:
            if not self._started:
                raise RuntimeError("The task runner must be started before submitting work.")
            self._dask = dask_task_runner().__enter__()
        return self._dask

    @property
    def client(self) -> Client:
        return self.dask.client

    def release(self) -> bool:
        """Close the run's local cluster, if it has one: the next task or client asked for starts
        another. A user's cluster (``DASK_ADDRESS``) is theirs and stays connected. Whether one closed."""
        if self._dask is None or self._dask.address:
            return False
        self._close(None, None, None)
        return True

    def submit(self, task: Any, parameters: dict[str, Any], wait_for: Any = None, dependencies: Any = None) -> Any:
        return self.dask.submit(task, parameters, wait_for, dependencies)

    def __exit__(self, *exc: Any) -> None:
        try:
            self._close(*exc)
        finally:
            super().__exit__(*exc)

    def _close(self, *exc: Any) -> None:
        """Exit the run's DaskTaskRunner, if one was made (its local cluster and client close)."""
        dask, self._dask = self._dask, None
        if dask is not None:
            dask.__exit__(*exc)


def release_run_dask_cluster() -> bool:
    """Let go of the current flow run's local Dask cluster (:meth:`DaskRunnerFromSettings.release`)."""
    context = FlowRunContext.get()
    runner = None if context is None else context.task_runner
    return isinstance(runner, DaskRunnerFromSettings) and runner.release()


def run_dask_client() -> Client:
    """The current flow run's one Dask client, owned by its DaskTaskRunner (created on first use)."""
    context = FlowRunContext.get()
    assert context is not None and context.task_runner is not None  # called inside a flow run
    client: Client = getattr(context.task_runner, "client")  # noqa: B009 - prefect types the runner as the base class
    return client


#: Dask's loggers, quiet below WARNING unless the run logs at DEBUG: a local cluster's start and
#: stop are some 35 INFO lines per run, and its dashboard line names an address the run's own
#: "Dask: ... dashboard" line says is not served
DASK_LOGGERS = ("distributed", "prefect.task_runner.dask")


def quiet_dask_logs() -> None:
    """Dask's INFO lines only when the run logs at DEBUG (``PREFECT_LOGGING_LEVEL``)."""
    if logging.getLogger("prefect").getEffectiveLevel() > logging.DEBUG:
        for name in DASK_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)


def dask_task_runner() -> DaskTaskRunner:
    """The user's scheduler (``DASK_ADDRESS``), or a threads-only local cluster for the run."""
    from prefect_dask import DaskTaskRunner

    quiet_dask_logs()
    address = setting("DASK_ADDRESS")
    if address:
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(
        cluster_class=quiet_local_cluster, cluster_kwargs=local_cluster(setting("LOCAL_CLUSTER_DASHBOARD"))
    )


@contextmanager
def dask_client(address: str = "", threads: int = 2) -> Iterator[Client]:
    """A client outside any flow (benchmarks, tests): ``address`` or a threads-only local cluster."""
    from distributed import Client

    if address:
        with Client(address, set_as_default=False) as client:
            yield client
        return
    with (
        quiet_local_cluster(**{**LOCAL_CLUSTER, "threads_per_worker": threads}) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        yield client
