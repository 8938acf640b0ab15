"""The run's local Dask cluster starts with its background work slowed (tasks/cluster.py)."""

from __future__ import annotations

import logging

import pytest
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


@pytest.mark.parametrize(("prefect_level", "dask_level"), [(logging.INFO, logging.WARNING), (logging.DEBUG, 0)])
def test_dask_s_own_lines_are_quiet_unless_the_run_logs_at_debug(prefect_level: int, dask_level: int) -> None:
    from tasks.cluster import DASK_LOGGERS, quiet_dask_logs

    loggers = [logging.getLogger(name) for name in ("prefect", *DASK_LOGGERS)]
    before = [logger.level for logger in loggers]
    try:
        loggers[0].setLevel(prefect_level)
        for logger in loggers[1:]:
            logger.setLevel(logging.NOTSET)
        quiet_dask_logs()
        assert [logger.level for logger in loggers[1:]] == [dask_level] * len(DASK_LOGGERS)
    finally:
        for logger, level in zip(loggers, before, strict=True):
            logger.setLevel(level)
