"""The page's health, as load balancers and Kubernetes probes ask for it.

``/healthz`` says the process serves: it answers whatever MongoDB does, so a probe never
restarts a page that is waiting out a database outage. ``/readyz`` says the page can serve box
scores: MongoDB answered one of its commands within ``WEB_STALE_SECONDS``, the time the page
goes on serving its last good copy (:mod:`web.cache`). While fans are reading, their reads are
the answers; a page nobody reads asks MongoDB once (a ``ping``, single flight) when a probe finds
no answer newer than the refresh interval, so a probe costs at most one command per interval.
Both answers are uncached (``no-store``): a cache between a probe and the page would hide a
change of state.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tasks import ServiceUnavailable

#: a probe's answer is never kept by any cache
NO_STORE = {"Cache-Control": "no-store"}


@dataclass(frozen=True)
class Verdict:
    """Whether the page is ready, and how long ago MongoDB last answered (``None``: never)."""

    ready: bool
    answered_ago: float | None

    def body(self) -> dict[str, object]:
        seconds = None if self.answered_ago is None else round(self.answered_ago, 3)
        return {"status": "ready" if self.ready else "not ready", "mongodb_answered_seconds_ago": seconds}


class Readiness:
    """Ready while MongoDB answered within ``stale_for`` seconds; asks it once per ``fresh_for``
    seconds at most when nothing else has. ``answered_at`` gives the monotonic time of the last
    answer to any other command (``-inf``: none)."""

    def __init__(
        self,
        ping: Callable[[], Awaitable[None]],
        fresh_for: float,
        stale_for: float,
        answered_at: Callable[[], float] = lambda: float("-inf"),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ping, self._answered_at, self._clock = ping, answered_at, clock
        self.fresh_for, self.stale_for = fresh_for, stale_for
        self._asked_at = self._pinged_at = float("-inf")
        self._lock = asyncio.Lock()

    def _last_answer(self) -> float:
        return max(self._answered_at(), self._pinged_at)

    async def verdict(self) -> Verdict:
        """Ask MongoDB first if nothing answered or was asked within ``fresh_for``, then judge."""
        if self._clock() - max(self._last_answer(), self._asked_at) >= self.fresh_for:
            async with self._lock:  # one ping for every probe that arrives meanwhile
                if self._clock() - max(self._last_answer(), self._asked_at) >= self.fresh_for:
                    self._asked_at = self._clock()
                    try:
                        await self._ping()
                    except ServiceUnavailable:
                        pass  # not answering: the age of the last answer decides
                    else:
                        self._pinged_at = self._clock()
        answered = self._last_answer()
        if answered == float("-inf"):
            return Verdict(False, None)
        ago = self._clock() - answered
        return Verdict(ago <= self.stale_for, ago)
