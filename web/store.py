"""The page's reads of MongoDB: the documented query per read, counted as MongoDB sees it.

Read-only. A game id reaches a query only after :func:`boxscore.identity.checked_game_id`.
Every command the page's client sends is counted by a pymongo command listener, so a response
can say how many queries it took (one for a box score read, none when it came from the page
process's copy, :mod:`web.cache`), and a test can count them all (:data:`SENT`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pymongo
from pymongo import monitoring
from pymongo.change_stream import ChangeStream
from pymongo.errors import PyMongoError

from boxscore.document import BoxScore
from tasks import ServiceUnavailable, reaching
from tasks.boxscores import archive_collection

#: A page waits this long for MongoDB before it answers 503.
SERVER_SELECTION_MS = 2000


@dataclass
class QueryCount:
    """The MongoDB commands one render sent."""

    commands: list[str] = field(default_factory=list)


_counting: ContextVar[QueryCount | None] = ContextVar("counting", default=None)


#: every command the page's clients have sent, by name, since the process started
SENT: Counter[str] = Counter()


class _Counter(monitoring.CommandListener):
    def started(self, event: monitoring.CommandStartedEvent) -> None:
        SENT[event.command_name] += 1
        count = _counting.get()
        if count is not None:
            count.commands.append(event.command_name)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def counting() -> QueryCount:
    """Count the commands sent from here on in this request's context."""
    count = QueryCount()
    _counting.set(count)
    return count


@lru_cache(maxsize=4)
def _client(url: str) -> pymongo.MongoClient:
    return pymongo.MongoClient(url, serverSelectionTimeoutMS=SERVER_SELECTION_MS, event_listeners=[_Counter()])


@dataclass(frozen=True)
class Store:
    """Where the box scores are: MongoDB's URL, database and collection (from the settings)."""

    url: str = field(repr=False)
    database: str
    collection: str

    def _collection(self, name: str) -> Any:
        return _client(self.url)[self.database][name]

    def _newest(self, name: str, query: dict[str, Any], order: str) -> BoxScore | None:
        for document in self._collection(name).find(query).sort(order, -1).limit(1):
            return document  # type: ignore[no-any-return]
        return None

    def latest(self, game_id: str | None = None) -> BoxScore | None:
        """The newest box score: the stream's current game's (the documented query, docs/document.md), or one game's.

        One query, unless the game is not in the collection: then its archive is the second.
        """
        with reaching("MongoDB", self.url, (PyMongoError,)):
            if game_id is None:
                return self._newest(self.collection, {}, "_id")
            query = {"game_id": game_id}
            return self._newest(self.collection, query, "event_id") or self._newest(
                archive_collection(self.collection), query, "event_id"
            )

    @contextmanager
    def changes(self) -> Iterator[ChangeStream[Any]]:
        """The collection's change stream: each box score inserted, replaced or updated, whole.

        On a client of its own, without the command listener: the page's count is of its reads.
        """
        client: pymongo.MongoClient[Any] = pymongo.MongoClient(self.url, serverSelectionTimeoutMS=SERVER_SELECTION_MS)
        kinds = {"$match": {"operationType": {"$in": ["insert", "replace", "update"]}}}
        try:
            collection = client[self.database][self.collection]
            with collection.watch([kinds], full_document="updateLookup", max_await_time_ms=1000) as stream:
                yield stream
        finally:
            client.close()

    def games(self) -> list[BoxScore]:
        """The latest box score of every game in the collection (one aggregation), by game id."""
        pipeline = [
            {"$sort": {"game_id": 1, "event_id": -1}},
            {"$group": {"_id": "$game_id", "latest": {"$first": "$$ROOT"}}},
            {"$sort": {"_id": 1}},
        ]
        with reaching("MongoDB", self.url, (PyMongoError,)):
            return [row["latest"] for row in self._collection(self.collection).aggregate(pipeline)]


__all__ = ["SENT", "QueryCount", "ServiceUnavailable", "Store", "counting"]
