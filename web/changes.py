"""MongoDB's change stream of the box scores: each box score stored pushed to the page's copies.

Without it a new box score reaches the page at its next read, up to ``WEB_REFRESH_SECONDS``
later; with it, at once and without a read (:meth:`web.cache.LatestBoxScores.offer`). A change
stream needs a replica set (SecantusDB and a MongoDB replica set have one; a standalone MongoDB
refuses it): the watcher then says so once in the log and the page reads on its interval alone,
trying the stream again every :data:`RETRY_SECONDS`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Protocol

from pymongo.errors import PyMongoError

from boxscore.masking import described

RETRY_SECONDS = 60.0
log = logging.getLogger("web.changes")


class Watched(Protocol):
    """A store with a change stream: the box scores' or the season documents'."""

    def changes(self) -> AbstractContextManager[Any]: ...


class ChangeWatcher:
    """A thread following the collection's change stream, handing each stored box score to
    ``offer`` on the page's event loop."""

    def __init__(
        self, store: Watched, offer: Callable[[Any], None], loop: asyncio.AbstractEventLoop, what: str = "box scores"
    ) -> None:
        self.store, self.offer, self.loop, self.what = store, offer, loop, what
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"{what}-changes".replace(" ", "-"), daemon=True)
        self.said: str | None = None  # the last failure logged (each is logged once)

    def start(self) -> ChangeWatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with self.store.changes() as stream:
                    while not self._stop.is_set() and stream.alive:
                        change = stream.try_next()
                        if change is not None and change.get("fullDocument"):
                            self.loop.call_soon_threadsafe(self.offer, change["fullDocument"])
            except PyMongoError as error:
                reason = described(error)
                if reason != self.said:
                    log.warning("%s reach the page on its refresh alone: no change stream (%s)", self.what, reason)
                    self.said = reason
                self._stop.wait(RETRY_SECONDS)
