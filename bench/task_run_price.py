"""The price of one submitted task run (PrefectHQ/prefect#18191), for ``bench.tick_cost``.

A module of its own, imported once the benchmark has pointed Prefect at its own home: the flow
below must be importable by name, because every ``.submit()`` pickles the flow run context
with the flow in it (a flow defined inside a function would be pickled with its closure).
"""

from __future__ import annotations

import time
from typing import Any

from prefect import flow

from boxscore.live import GameRead
from tasks.aggregate import read_whole_stream, stream_blocks, whole_read
from tasks.cluster import dask_task_runner, run_dask_client

BLOCK = 512


@flow(task_runner=dask_task_runner())
def whole_read_price(read: GameRead, storage_options: dict[str, Any], repeats: int = 10) -> dict[str, float]:
    """ms of wall and CPU per whole read: called directly with the run's client, and submitted."""
    client = run_dask_client()

    def direct() -> object:
        return whole_read(stream_blocks(read.url, storage_options, read.size, BLOCK), read.teams, 0, client)

    def submitted() -> object:
        return read_whole_stream.submit(read, storage_options, BLOCK).result()

    costs = {}
    for name, call in (("direct", direct), ("task_run", submitted)):
        call()  # warm: imports, the first connection
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(repeats):
            call()
        costs[f"{name}_wall_ms"] = 1000 * (time.perf_counter() - wall) / repeats
        costs[f"{name}_cpu_ms"] = 1000 * (time.process_time() - cpu) / repeats
    return costs
