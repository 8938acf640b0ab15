"""Box scores in MongoDB (``sidearm.boxscores``), their archive and the single stream's game records.

:class:`BoxScoreStore` is the one adapter for all of it: the live flow writes through it,
finalize reads and corrects through it, and the page reads through it (``web.store`` builds the
page's, with a shorter server selection and a command counter). Its methods are plain I/O; the
few a flow calls once per run are also Prefect tasks, with retries (:mod:`tasks.retried`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pymongo
from bson import Binary
from pymongo import ReplaceOne, monitoring
from pymongo.change_stream import ChangeStream
from pymongo.database import Database
from pymongo.errors import BulkWriteError, ConnectionFailure, OperationFailure, PyMongoError

from boxscore.document import BoxScore, boxscore_id, utc_text
from boxscore.identity import GameRecord
from tasks import reaching
from tasks.settings import Settings

#: Fail a single call fast; the flows' retries and backoff give MongoDB time to come back. A
#: ``serverSelectionTimeoutMS`` in the URL is the user's and wins (:func:`selection_timeout`).
SERVER_SELECTION_MS = 5000

#: the errors of a write that mean MongoDB is not there (any other is MongoDB's answer)
WRITE_ERRORS = (ConnectionFailure,)
#: stale box scores of this many games or more are found in one pass over the box scores
#: (:meth:`BoxScoreStore.archive_stale`): on SecantusDB ten thousand games took some 9 s as a
#: query each, and 0.9 s for the pass over 50,000 box scores; a ``$in`` of them took minutes
NEWEST_IN_ONE_PASS = 50

#: MongoDB's answer to an insert whose ``_id`` is taken
DUPLICATE_KEY = 11000
#: MongoDB's answer to a command, stage or accumulator the server does not implement
NOT_IMPLEMENTED = 238
#: the servers (by URL) that answered NOT_IMPLEMENTED to ``$group``'s ``$first``: asked once per process
_WITHOUT_GROUP_FIRST: set[str] = set()
#: and those that answered it to ``$group``'s ``$max``
_WITHOUT_GROUP_MAX: set[str] = set()

#: The order whose first box score is the current one: the latest stored, then the greatest game
#: id among one write's (:func:`boxscore.document.current_order`). Indexed.
CURRENT = [("stored_at", pymongo.DESCENDING), ("game_id", pymongo.DESCENDING)]


def brief_mongo_reason(text: str) -> str:
    """pymongo's reason without its timeouts and topology (``127.0.0.1:1: [Errno 111] Connection
    refused``): what a person needs to correct the URL, in a line they can read."""
    text = re.sub(r" \(configured timeouts: [^)]*\)", "", text)
    return text.partition(", Timeout: ")[0]


def selection_timeout(url: str, server_selection_ms: int) -> dict[str, int]:
    """``serverSelectionTimeoutMS`` for a client of ``url``: ours only where the URL sets none.

    pymongo lets a keyword argument override the URL's own option, so a user's
    ``?serverSelectionTimeoutMS=`` would otherwise be ignored without a word. MongoDB's URL
    options are case-insensitive.
    """
    options = {name.lower() for name, _ in parse_qsl(urlsplit(url).query)}
    return {} if "serverselectiontimeoutms" in options else {"serverSelectionTimeoutMS": server_selection_ms}


@lru_cache(maxsize=8)
def mongo_client(
    url: str, server_selection_ms: int = SERVER_SELECTION_MS, listeners: tuple[monitoring.CommandListener, ...] = ()
) -> pymongo.MongoClient:
    """One client (and connection pool) per URL and options for the whole process."""
    return pymongo.MongoClient(
        url, tz_aware=True, event_listeners=list(listeners), **selection_timeout(url, server_selection_ms)
    )


def archive_collection(collection: str) -> str:
    """Where a game's box scores go once another game holds the stream: ``<collection>_archive``."""
    return f"{collection}_archive"


def records_collection(collection: str) -> str:
    """What identifies each game seen on the single stream: ``<collection>_games``."""
    return f"{collection}_games"


def reaching_mongo(url: str, errors: tuple[type[PyMongoError], ...] = (PyMongoError,)) -> AbstractContextManager[None]:
    """A read that fails in any way is MongoDB unavailable (the page answers 503); a write only
    when the connection fails (``WRITE_ERRORS``), so that a rejected write says what MongoDB said."""
    return reaching("MongoDB", url, errors, "MONGO_URL", brief_mongo_reason)


@contextmanager
def watching(url: str, server_selection_ms: int, database: str, collection: str) -> Iterator[ChangeStream[Any]]:
    """A collection's change stream (each document inserted, replaced or updated, whole), on a
    client of its own, closed when the stream ends: a store's listeners count reads, not this."""
    client: pymongo.MongoClient[Any] = pymongo.MongoClient(
        url, tz_aware=True, **selection_timeout(url, server_selection_ms)
    )
    kinds = {"$match": {"operationType": {"$in": ["insert", "replace", "update"]}}}
    try:
        with client[database][collection].watch(
            [kinds], full_document="updateLookup", max_await_time_ms=1000
        ) as stream:
            yield stream
    finally:
        client.close()


@dataclass(frozen=True)
class BoxScoreStore:
    """MongoDB's box scores, their archive and the single stream's game records.

    Built once from the settings; every call goes through the one client of its URL and options
    (:func:`mongo_client`) and raises :class:`tasks.ServiceUnavailable`, naming MongoDB with
    its password masked, when MongoDB does not answer.
    """

    url: str = field(repr=False)
    database: str
    collection: str
    server_selection_ms: int = SERVER_SELECTION_MS
    listeners: tuple[monitoring.CommandListener, ...] = ()

    @classmethod
    def of(cls, settings: Settings, **options: Any) -> BoxScoreStore:
        return cls(settings.mongo_url, settings.mongo_db, settings.mongo_collection, **options)

    @property
    def _db(self) -> Database:
        return mongo_client(self.url, self.server_selection_ms, self.listeners)[self.database]

    def _reaching(self, errors: tuple[type[PyMongoError], ...] = (PyMongoError,)) -> AbstractContextManager[None]:
        return reaching_mongo(self.url, errors)

    # -- reads: the documented queries (docs/document.md) ---------------------------------------

    def _newest(self, collection: str, query: dict[str, Any], order: str) -> BoxScore | None:
        return self._db[collection].find_one(query, sort=[(order, pymongo.DESCENDING)])  # type: ignore[no-any-return]

    def latest(self, game_id: str | None = None) -> BoxScore | None:
        """The current box score (``game_id`` ``None``), or one game's latest (from its archive
        when another game holds the stream). One query, two for an archived game.

        The current box score is the one stored last (:data:`CURRENT`), in either mode: with one
        stream it is the stream's game as it stands; with many games, the game that changed last.
        """
        with self._reaching():
            if game_id is None:
                return self._db[self.collection].find_one({}, sort=CURRENT)  # type: ignore[no-any-return]
            query = {"game_id": game_id}
            return self._newest(self.collection, query, "event_id") or self._newest(
                archive_collection(self.collection), query, "event_id"
            )

    def games(self) -> list[BoxScore]:
        """The latest box score of every game in the collection, by game id: one aggregation, or
        where the server has no ``$group`` accumulators (FerretDB 1.x), each game's indexed query."""
        pipeline = [
            {"$sort": {"game_id": 1, "event_id": -1}},
            {"$group": {"_id": "$game_id", "latest": {"$first": "$$ROOT"}}},
            {"$sort": {"_id": 1}},
        ]
        with self._reaching():
            rows = self._grouped(pipeline, _WITHOUT_GROUP_FIRST)
            if rows is not None:
                return [row["latest"] for row in rows]
            found = (
                self._newest(self.collection, {"game_id": game}, "event_id")
                for game in sorted(self._db[self.collection].distinct("game_id"))
            )
            return [document for document in found if document is not None]

    def _grouped(self, pipeline: list[dict[str, Any]], without: set[str]) -> list[dict[str, Any]] | None:
        """The aggregation's rows, or ``None`` where the server does not implement its ``$group``
        accumulator (FerretDB 1.x): asked once per server, those that refused kept in ``without``."""
        if self.url in without:
            return None
        try:
            return list(self._db[self.collection].aggregate(pipeline))
        except OperationFailure as error:  # FerretDB 1.x's answer: the integration tests reach it
            if error.code != NOT_IMPLEMENTED:  # pragma: no mutate
                raise
            without.add(self.url)  # pragma: no mutate
            return None

    @contextmanager
    def changes(self) -> Iterator[ChangeStream[Any]]:
        """The collection's change stream: each box score inserted, replaced or updated, whole.

        On a client of its own, closed when the stream ends, and without the store's listeners:
        what they count is reads.
        """
        with watching(self.url, self.server_selection_ms, self.database, self.collection) as stream:
            yield stream

    def ping(self) -> None:
        """Ask MongoDB to answer, reading nothing (the page's readiness)."""
        with self._reaching():
            self._db.command("ping")

    def finals(self, games: Sequence[str] | None) -> list[BoxScore]:
        """The final box score of these games (``None``: of every finished game), one query in all.

        Box scores a correction made stale are archived when it is read, so each finished game has
        one final here; should two be found, the one of the later event wins.
        """
        query: dict[str, Any] = {"final": True, "game_id": {"$exists": True} if games is None else {"$in": list(games)}}
        with self._reaching():
            finals: dict[str, BoxScore] = {}
            for doc in self._db[self.collection].find(query):
                if doc["game_id"] not in finals or doc["event_id"] > finals[doc["game_id"]]["event_id"]:
                    finals[doc["game_id"]] = doc
            return [finals[game] for game in sorted(finals)]

    def game_count(self) -> int:
        """How many games have a box score (for the message when none is over)."""
        with self._reaching():
            return len(self._db[self.collection].distinct("game_id"))

    def game_records(self, stream: str) -> list[GameRecord]:
        """The games seen on one stream, newest first."""
        with self._reaching():
            found = self._db[records_collection(self.collection)].find(
                {"stream": stream}, sort=[("seq", pymongo.DESCENDING)]
            )
            return [GameRecord(d["_id"], d["first_line"], bytes(d["lines"]), d["final"], d["finalized"]) for d in found]

    # -- writes --------------------------------------------------------------------------------

    def ensure_indexes(self) -> None:
        """The indexes of the page's query of a game's latest box score and of finalize's query."""
        with self._reaching(WRITE_ERRORS):
            games = self._db[self.collection]
            games.create_index([("game_id", pymongo.ASCENDING), ("event_id", pymongo.DESCENDING)])
            games.create_index([("final", pymongo.ASCENDING)])
            games.create_index(CURRENT)
            archived = self._db[archive_collection(self.collection)]
            archived.create_index([("game_id", pymongo.ASCENDING), ("event_id", pymongo.DESCENDING)])

    def upsert(self, documents: Sequence[BoxScore], seen_at: Mapping[str, str] | None = None) -> None:
        """Write a tick's box scores (one per changed game), each stamped with when it was stored
        and when its change was seen (by game id; unknown: when stored).

        Inserted in one bulk round trip, and those whose id is taken (a restart writing an event
        again, a corrected stream's event) replaced in a second: a box score's id is its game
        and event, so nearly every write is new, and SecantusDB inserts in less than half the
        time it takes to upsert (0.16 s against 0.38 s for 250 box scores, measured)."""
        if documents:
            stored_at = utc_text(datetime.now(UTC))
            seen = seen_at or {}
            stamped = [
                {**doc, "stored_at": stored_at, "seen_at": seen.get(doc["game_id"]) or stored_at} for doc in documents
            ]
            with self._reaching(WRITE_ERRORS):
                collection = self._db[self.collection]
                try:
                    collection.insert_many(stamped, ordered=False)
                except BulkWriteError as error:
                    errors = error.details["writeErrors"]
                    if not errors or any(e["code"] != DUPLICATE_KEY for e in errors):
                        raise  # a write concern's error, or MongoDB refusing a box score: its answer
                    taken = [stamped[e["index"]] for e in errors]
                    collection.bulk_write([ReplaceOne({"_id": doc["_id"]}, doc, upsert=True) for doc in taken])

    def archive_other_games(self, keep: str) -> None:
        """Every box score but those of ``keep`` to the archive: a new game holds the stream."""
        self._archive({"game_id": {"$ne": keep}})

    def archive_stale(self, stale: Sequence[tuple[str, int]]) -> None:
        """Each game's box scores of events after the given one to the archive: its stream was rewritten.

        A few games are a query each; from ``NEWEST_IN_ONE_PASS`` games on, one aggregation of
        every game's newest event finds the games that have any such box score first (a run's
        first reads of ten thousand games are ten thousand candidates, nearly none of them stale).
        """
        if len(stale) >= NEWEST_IN_ONE_PASS and (newest := self._newest_events()) is not None:
            stale = [(game_id, event_id) for game_id, event_id in stale if newest.get(game_id, event_id) > event_id]
        for game_id, event_id in stale:
            self._archive({"game_id": game_id, "event_id": {"$gt": event_id}})

    def _newest_events(self) -> dict[str, int] | None:
        """Each game's newest box score's event, by game id: one pass over the box scores (``None``
        where the server has no ``$group`` ``$max``: FerretDB 1.x, whose games are then a query each)."""
        newest = {"$group": {"_id": "$game_id", "event_id": {"$max": "$event_id"}}}
        with self._reaching(WRITE_ERRORS):
            rows = self._grouped([newest], _WITHOUT_GROUP_MAX)
        return None if rows is None else {row["_id"]: row["event_id"] for row in rows}

    def _archive(self, query: dict[str, Any]) -> int:
        """Move the box scores matching ``query`` to the archive, keyed ``<game_id>/<event_id>``.

        Copied first, then deleted, so a crash in between leaves a copy in both places and the
        move is simply made again: never lost.
        """
        with self._reaching(WRITE_ERRORS):
            documents = list(self._db[self.collection].find(query))
            if not documents:
                return 0
            archived = [
                {**doc, "_id": boxscore_id(doc.get("game_id", "unidentified"), doc.get("event_id", doc["_id"]), True)}
                for doc in documents
            ]
            self._db[archive_collection(self.collection)].bulk_write(
                [ReplaceOne({"_id": doc["_id"]}, doc, upsert=True) for doc in archived], ordered=False
            )
            self._db[self.collection].delete_many({"_id": {"$in": [doc["_id"] for doc in documents]}})
            return len(documents)

    def save_game_records(self, stream: str, records: Sequence[tuple[int, GameRecord]]) -> None:
        """Upsert game records with their rank on the stream (``seq``: the newest game is the highest)."""
        if not records:
            return
        with self._reaching(WRITE_ERRORS):
            games = self._db[records_collection(self.collection)]
            for seq, record in records:
                document = {
                    "stream": stream,
                    "first_line": record.first_line,
                    "lines": Binary(record.lines),
                    "final": record.final,
                    "finalized": record.finalized,
                    "seq": seq,
                }
                games.replace_one({"_id": record.game_id}, document, upsert=True)

    def mark_finalized(self, games: Sequence[str]) -> None:
        """Note in the game records that these games' results are in the season tables."""
        with self._reaching(WRITE_ERRORS):
            self._db[records_collection(self.collection)].update_many(
                {"_id": {"$in": list(games)}}, {"$set": {"finalized": True}}
            )
