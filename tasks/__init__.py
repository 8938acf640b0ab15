"""The adapters: each function does one I/O thing (S3, Dask, MongoDB, SQL or settings).

The live flow builds one adapter per service from the settings: :class:`tasks.stream.GameStreams`
(S3), :class:`tasks.aggregate.DaskReader` (Dask), :class:`tasks.boxscores.BoxScoreStore`
(MongoDB) and :class:`tasks.league.ReferenceDatabase` (SQL).

Those a flow calls a few times per run are Prefect tasks with retries (:data:`IO_TASK`). Those the
live loop calls every tick are plain functions: a task run per tick cost half the flow's CPU, and
the loop's own backoff (:class:`boxscore.live.Backoff`) retries them instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from prefect.cache_policies import NO_CACHE

from boxscore.masking import error_reason

#: Retries for the tasks; never cached: the same inputs must read or write the live state again.
IO_TASK = {"retries": 3, "retry_delay_seconds": [1, 2, 4], "cache_policy": NO_CACHE}


class ServiceUnavailable(RuntimeError):
    """A service did not answer: the message names it (password masked), never a secret."""

    def __init__(self, message: str, service: str = "") -> None:
        super().__init__(message)
        self.service = service  # e.g. "MongoDB at mongodb://sidearm:***@mongo:27017/"


@contextmanager
def reaching(service: str, url: str, errors: tuple[type[BaseException], ...]) -> Iterator[None]:
    """Turn a driver's connection error into one that names the service and its redacted URL.

    The driver's exception is not chained: its text and context can carry connection details.
    """
    try:
        yield
    except errors as error:
        from tasks.masking import masker, shown

        reason = error_reason(error, masker(url)) or type(error).__name__
        where = f"{service} at {shown(url)}"
        raise ServiceUnavailable(f"{where} is unreachable: {reason}", where) from None
