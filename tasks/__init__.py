"""Prefect tasks: each does one I/O thing (S3, Dask, MongoDB or SQL) and retries it."""

from prefect.cache_policies import NO_CACHE

#: I/O tasks are never cached: the same inputs must read or write the live state again.
IO_TASK = {"retries": 3, "retry_delay_seconds": [1, 2, 4], "cache_policy": NO_CACHE}
