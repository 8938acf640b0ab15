"""The adapters: each function does one I/O thing (S3, Dask, MongoDB, SQL or settings).

The live flow builds one adapter per service from the settings: :class:`tasks.stream.GameStreams`
(S3), :class:`tasks.aggregate.DaskReader` (Dask), :class:`tasks.boxscores.BoxScoreStore`
(MongoDB) and :class:`tasks.league.ReferenceDatabase` (SQL).

Those a flow calls a few times per run are Prefect tasks with retries (:mod:`tasks.retried`).
Those the live loop calls every tick are plain functions: a task run per tick cost half the
flow's CPU, and the loop's own backoff (:class:`boxscore.live.Backoff`) retries them instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import tenacity

from boxscore.masking import error_reason

T = TypeVar("T")


class ServiceUnavailable(RuntimeError):
    """A service did not answer: the message names it (password masked), never a secret."""

    def __init__(self, message: str, service: str = "", setting: str = "") -> None:
        super().__init__(message)
        self.service = service  # e.g. "MongoDB at mongodb://sidearm:***@mongo:27017/"
        self.setting = setting  # where the user says where it is, e.g. "MONGO_URL"


@contextmanager
def reaching(
    service: str,
    url: str,
    errors: tuple[type[BaseException], ...],
    setting: str = "",
    brief: Callable[[str], str] = lambda text: text,
) -> Iterator[None]:
    """Turn a driver's connection error into one that names the service and its redacted URL
    (``brief`` drops what the driver adds that a person does not need).

    The driver's exception is not chained: its text and context can carry connection details.
    """
    try:
        yield
    except errors as error:
        from tasks.masking import masker, shown

        reason = error_reason(RuntimeError(brief(str(error))), masker(url)) or type(error).__name__
        where = f"{service} at {shown(url)}"
        raise ServiceUnavailable(f"{where} is unreachable: {reason}", where, setting) from None


#: a service a run needs before its first poll is tried this often, 1, 2 and 4 s apart, before the
#: run ends naming it: long enough for a server still starting, short of a wait that looks like a hang
START_TRIES = 4


def tried_at_start(
    call: Callable[[], T], say: Callable[[str], object], sleep: Callable[[float], None] = time.sleep
) -> T:
    """``call``'s answer, tried :data:`START_TRIES` times while it raises :class:`ServiceUnavailable`;
    each failed try is said in one line, the last one raised."""

    def before_sleep(state: tenacity.RetryCallState) -> None:
        say(f"{state.outcome.exception()}; trying again in {state.next_action.sleep:.0f} s")  # type: ignore[union-attr]

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(START_TRIES),
        wait=tenacity.wait_exponential(),  # 1, 2, 4 s: the doubling from 1 s, START_TRIES - 1 waits
        retry=tenacity.retry_if_exception_type(ServiceUnavailable),
        before_sleep=before_sleep,
        reraise=True,
        sleep=sleep,
    )
    return retrying(call)
