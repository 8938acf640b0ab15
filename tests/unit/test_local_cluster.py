"""The run's local Dask cluster starts with its background work slowed (tasks/cluster.py)."""

from __future__ import annotations

from distributed import Client

from tasks.cluster import LOCAL_CLUSTER, quiet_local_cluster


def test_the_local_cluster_has_no_profiler_and_slow_monitors() -> None:
    with quiet_local_cluster(**LOCAL_CLUSTER) as cluster, Client(cluster, set_as_default=False) as client:
        (worker,) = cluster.workers.values()
        assert "profile" not in worker.periodic_callbacks  # Dask's default samples every thread every 10 ms
        assert worker.periodic_callbacks["monitor"].callback_time == 5000  # ms; Dask's default 500
        assert worker._tick_interval == 0.5  # s; Dask's default 0.02
        assert worker.memory_manager.memory_monitor_interval == 1.0  # s; Dask's default 0.1
        assert client.submit(sum, [1, 2]).result() == 3
