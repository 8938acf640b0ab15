"""Box-score documents in MongoDB (``sidearm.boxscores``): one upsert per stream change."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pymongo
from bson import Binary
from prefect import task
from pymongo import ReplaceOne
from pymongo.collection import Collection
from pymongo.errors import ConnectionFailure

from boxscore.document import BoxScore, boxscore_id
from boxscore.identity import GameRecord
from tasks import IO_TASK, reaching
from tasks.settings import Settings

#: Fail a single call fast; the task's retries give MongoDB time to come back.
SERVER_SELECTION_MS = 5000


@lru_cache(maxsize=8)
def mongo_client(url: str) -> pymongo.MongoClient:
    """One client (and connection pool) per URL for the whole run."""
    return pymongo.MongoClient(url, serverSelectionTimeoutMS=SERVER_SELECTION_MS, tz_aware=True)


def boxscores(url: str, database: str, collection: str) -> Collection:
    return mongo_client(url)[database][collection]


def _reaching_mongo(url: str) -> AbstractContextManager[None]:
    return reaching("MongoDB", url, (ConnectionFailure,))


def upsert_boxscores(url: str, database: str, collection: str, documents: list[BoxScore]) -> None:
    """Write a tick's box scores (one per changed game) in one bulk round trip."""
    if documents:
        with _reaching_mongo(url):
            boxscores(url, database, collection).bulk_write(
                [ReplaceOne({"_id": doc["_id"]}, doc, upsert=True) for doc in documents], ordered=False
            )


@task(**IO_TASK)
def ensure_game_index(url: str, database: str, collection: str) -> None:
    """Index for the page's query of a game's latest box score (docs/document.md)."""
    with _reaching_mongo(url):
        games = boxscores(url, database, collection)
        games.create_index([("game_id", pymongo.ASCENDING), ("event_id", pymongo.DESCENDING)])
        games.create_index([("final", pymongo.ASCENDING)])  # finalize's query
        archived = mongo_client(url)[database][archive_collection(collection)]
        archived.create_index([("game_id", pymongo.ASCENDING), ("event_id", pymongo.DESCENDING)])


def archive_collection(collection: str) -> str:
    """Where a game's box scores go once another game holds the stream: ``<collection>_archive``."""
    return f"{collection}_archive"


def records_collection(collection: str) -> str:
    """What identifies each game seen on the single stream: ``<collection>_games``."""
    return f"{collection}_games"


def archive_boxscores(url: str, database: str, collection: str, query: dict[str, Any]) -> int:
    """Move the box scores matching ``query`` to the archive, keyed ``<game_id>/<event_id>``.

    Copied first, then deleted, so a crash in between leaves a copy in both places and the move
    is simply made again: never lost.
    """
    with _reaching_mongo(url):
        db = mongo_client(url)[database]
        documents = list(db[collection].find(query))
        if not documents:
            return 0
        archived = [
            {**doc, "_id": boxscore_id(doc.get("game_id", "unidentified"), doc.get("event_id", doc["_id"]), True)}
            for doc in documents
        ]
        db[archive_collection(collection)].bulk_write(
            [ReplaceOne({"_id": doc["_id"]}, doc, upsert=True) for doc in archived], ordered=False
        )
        db[collection].delete_many({"_id": {"$in": [doc["_id"] for doc in documents]}})
        return len(documents)


@task(**IO_TASK)
def read_game_records(url: str, database: str, collection: str, stream: str) -> list[GameRecord]:
    """The games seen on one stream, newest first."""
    with _reaching_mongo(url):
        found = mongo_client(url)[database][records_collection(collection)].find(
            {"stream": stream}, sort=[("seq", pymongo.DESCENDING)]
        )
        return [GameRecord(d["_id"], d["first_line"], bytes(d["lines"]), d["final"], d["finalized"]) for d in found]


def save_game_records(
    url: str, database: str, collection: str, stream: str, records: list[tuple[int, GameRecord]]
) -> None:
    """Upsert game records with their rank on the stream (``seq``: the newest game is the highest)."""
    if not records:
        return
    with _reaching_mongo(url):
        games = mongo_client(url)[database][records_collection(collection)]
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


@task(**IO_TASK)
def final_boxscores(url: str, database: str, collection: str, games: list[str] | None = None) -> list[BoxScore]:
    """The final box score of these games (``None``: of every finished game), one query in all.

    Box scores a correction made stale are archived when it is read, so each finished game has
    one final here; should two be found, the one of the later event wins.
    """
    query: dict[str, Any] = {"final": True, "game_id": {"$exists": True} if games is None else {"$in": games}}
    with _reaching_mongo(url):
        finals: dict[str, BoxScore] = {}
        for doc in boxscores(url, database, collection).find(query):
            if doc["game_id"] not in finals or doc["event_id"] > finals[doc["game_id"]]["event_id"]:
                finals[doc["game_id"]] = doc
        return [finals[game] for game in sorted(finals)]


@task(**IO_TASK)
def game_count(url: str, database: str, collection: str) -> int:
    """How many games have a box score (for the message when none is over)."""
    with _reaching_mongo(url):
        return len(boxscores(url, database, collection).distinct("game_id"))


@task(**IO_TASK)
def latest_boxscore(url: str, database: str, collection: str) -> BoxScore | None:
    """The box score of the latest event, or ``None`` before the first one."""
    with _reaching_mongo(url):
        return boxscores(url, database, collection).find_one(sort=[("_id", pymongo.DESCENDING)])


def mark_finalized(url: str, database: str, collection: str, games: list[str]) -> None:
    """Note in the game records that these games' results are in the season tables."""
    with _reaching_mongo(url):
        mongo_client(url)[database][records_collection(collection)].update_many(
            {"_id": {"$in": games}}, {"$set": {"finalized": True}}
        )


@dataclass(frozen=True)
class BoxScoreStore:
    """MongoDB's box scores, their archive and the single stream's game records, for one run.

    Built once from the settings; every call goes through the one client of its URL
    (:func:`mongo_client`) and raises :class:`tasks.ServiceUnavailable` when MongoDB is down.
    """

    url: str
    database: str
    collection: str

    @classmethod
    def of(cls, settings: Settings) -> BoxScoreStore:
        return cls(settings.mongo_url, settings.mongo_db, settings.mongo_collection)

    def ensure_indexes(self) -> None:
        ensure_game_index(self.url, self.database, self.collection)

    def game_records(self, stream: str) -> list[GameRecord]:
        return read_game_records(self.url, self.database, self.collection, stream)

    def upsert(self, documents: Sequence[BoxScore]) -> None:
        upsert_boxscores(self.url, self.database, self.collection, list(documents))

    def archive_other_games(self, keep: str) -> None:
        """Every box score but those of ``keep`` to the archive: a new game holds the stream."""
        archive_boxscores(self.url, self.database, self.collection, {"game_id": {"$ne": keep}})

    def archive_stale(self, stale: Sequence[tuple[str, int]]) -> None:
        """Each game's box scores of events after the given one to the archive: its stream was rewritten."""
        for game_id, event_id in stale:
            archive_boxscores(
                self.url, self.database, self.collection, {"game_id": game_id, "event_id": {"$gt": event_id}}
            )

    def save_game_records(self, stream: str, records: Sequence[tuple[int, GameRecord]]) -> None:
        save_game_records(self.url, self.database, self.collection, stream, list(records))

    def mark_finalized(self, games: Sequence[str]) -> None:
        mark_finalized(self.url, self.database, self.collection, list(games))

    def finals(self, games: Sequence[str] | None) -> list[BoxScore]:
        """The final box score of these games (``None``: of every finished game)."""
        return final_boxscores(self.url, self.database, self.collection, None if games is None else list(games))

    def latest(self) -> BoxScore | None:
        """The box score of the stream's latest event (the documented query)."""
        return latest_boxscore(self.url, self.database, self.collection)

    def game_count(self) -> int:
        return game_count(self.url, self.database, self.collection)
