"""Box-score documents in MongoDB (``sidearm.boxscores``): one upsert per stream change."""

from __future__ import annotations

from contextlib import AbstractContextManager
from functools import lru_cache

import pymongo
from prefect import task
from pymongo import ReplaceOne
from pymongo.collection import Collection
from pymongo.errors import ConnectionFailure

from boxscore.document import BoxScore
from tasks import IO_TASK, reaching

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


@task(**IO_TASK)
def upsert_boxscores(url: str, database: str, collection: str, documents: list[BoxScore]) -> None:
    """Write a tick's box scores (one per changed game) in one bulk round trip."""
    if documents:
        with _reaching_mongo(url):
            boxscores(url, database, collection).bulk_write(
                [ReplaceOne({"_id": doc["_id"]}, doc, upsert=True) for doc in documents], ordered=False)


@task(**IO_TASK)
def ensure_game_index(url: str, database: str, collection: str) -> None:
    """Index for the page's query of a game's latest box score (see README)."""
    boxscores(url, database, collection).create_index([("game_id", pymongo.ASCENDING), ("event_id", pymongo.DESCENDING)])


def latest_of_game(url: str, database: str, collection: str, game_id: str) -> BoxScore | None:
    """The documented page query: a game's latest box score."""
    return boxscores(url, database, collection).find_one({"game_id": game_id}, sort=[("event_id", pymongo.DESCENDING)])


@task(**IO_TASK)
def latest_boxscores(url: str, database: str, collection: str) -> list[BoxScore]:
    """The latest box score of every game (of the single stream: the latest document)."""
    with _reaching_mongo(url):
        games = boxscores(url, database, collection).distinct("game_id")
        if not games:
            latest = latest_boxscore.fn(url, database, collection)
            return [] if latest is None else [latest]
        return [doc for game in sorted(games) if (doc := latest_of_game(url, database, collection, game)) is not None]


@task(**IO_TASK)
def latest_boxscore(url: str, database: str, collection: str) -> BoxScore | None:
    """The box score of the latest event, or ``None`` before the first one."""
    return boxscores(url, database, collection).find_one(sort=[("_id", pymongo.DESCENDING)])
