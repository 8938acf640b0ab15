"""The page's box-score store: :class:`tasks.boxscores.BoxScoreStore`, read-only, counted.

The page reads the documented queries through the same store as the flows, with a shorter
server selection (a page answers 503 in 2 s, not 5) and a pymongo command listener. A game id
reaches a query only after :func:`boxscore.identity.checked_game_id`. The listener counts every
command the page sends, so a response can say how many queries it took (one for a box score
read, none when it came from the page process's copy, :mod:`web.cache`), and a test can count
them all (:data:`SENT`).
"""

from __future__ import annotations

import time
from collections import Counter
from contextvars import ContextVar
from dataclasses import dataclass, field

from pymongo import monitoring

from tasks import ServiceUnavailable
from tasks.boxscores import BoxScoreStore
from tasks.seasons import SeasonStore

#: the header that says how many MongoDB commands an answer sent (0 when it came from the copy)
QUERIES_HEADER = "X-MongoDB-Queries"
#: A page waits this long for MongoDB before it answers 503.
SERVER_SELECTION_MS = 2000


@dataclass
class QueryCount:
    """The MongoDB commands one render sent."""

    commands: list[str] = field(default_factory=list)


_counting: ContextVar[QueryCount | None] = ContextVar("counting", default=None)


#: every command the page's clients have sent, by name, since the process started
SENT: Counter[str] = Counter()


@dataclass
class LastAnswer:
    """When MongoDB last answered one of the page's commands (monotonic; ``-inf``: never)."""

    at: float = float("-inf")


#: the page's readiness reads it (:mod:`web.health`): a fan's read is an answer as good as a ping
ANSWERED = LastAnswer()


class _Counter(monitoring.CommandListener):
    def started(self, event: monitoring.CommandStartedEvent) -> None:
        SENT[event.command_name] += 1
        count = _counting.get()
        if count is not None:
            count.commands.append(event.command_name)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        ANSWERED.at = time.monotonic()

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def counting() -> QueryCount:
    """Count the commands sent from here on in this request's context."""
    count = QueryCount()
    _counting.set(count)
    return count


#: counts every command of the page's store (:func:`page_store`)
COUNTER = _Counter()


def page_store(url: str, database: str, collection: str) -> BoxScoreStore:
    """The project's box-score store as the page uses it: it waits :data:`SERVER_SELECTION_MS`
    for MongoDB, and its commands are counted."""
    return BoxScoreStore(url, database, collection, SERVER_SELECTION_MS, (COUNTER,))


def season_store(url: str, database: str, season: str) -> SeasonStore:
    """The season documents' store as the page uses it, waiting and counted as :func:`page_store`."""
    return SeasonStore(url, database, season, SERVER_SELECTION_MS, (COUNTER,))


__all__ = ["ANSWERED", "COUNTER", "SENT", "QueryCount", "ServiceUnavailable", "counting", "page_store"]
