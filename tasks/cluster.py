"""The Dask cluster the aggregation runs on: the user's own, or a local one for the run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from distributed import Client, LocalCluster


@contextmanager
def dask_client(address: str = "", threads: int = 2) -> Iterator[Client]:
    """Connect to ``address`` (``DASK_ADDRESS``) or start a threads-only local cluster.

    Threads, not processes, for the local cluster: worker processes would each need their own
    Prefect API, and the work per tick is small. One client serves every tick of a run.
    """
    if address:
        with Client(address, set_as_default=False) as client:
            yield client
        return
    with (
        LocalCluster(processes=False, n_workers=1, threads_per_worker=threads, dashboard_address=None) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        yield client
