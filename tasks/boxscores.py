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


def upsert_boxscores(url: str, database: str, collection: str, documents: list[BoxScore]) -> None:
    """Write a tick's box scores (one per changed game) in one bulk round trip."""
    if documents:
        with _reaching_mongo(url):
            boxscores(url, database, collection).bulk_write(
                [ReplaceOne({"_id": doc["_id"]}, doc, upsert=True) for doc in documents], ordered=False
            )


@task(**IO_TASK)
def ensure_game_index(url: str, database: str, collection: str) -> None:
    """Index for the page's query of a game's latest box score (see README)."""
    with _reaching_mongo(url):
        games = boxscores(url, database, collection)
        games.create_index([("game_id", pymongo.ASCENDING), ("event_id", pymongo.DESCENDING)])
        games.create_index([("final", pymongo.ASCENDING)])  # finalize's query


@task(**IO_TASK)
def final_boxscores(url: str, database: str, collection: str) -> list[BoxScore]:
    """The final box score of every finished game, by game id: one query however many games.

    A game is followed until its first final box score and not after, so each finished game
    has one; should a rerun have written two, the one of the later event wins.
    """
    with _reaching_mongo(url):
        finals: dict[str, BoxScore] = {}
        for doc in boxscores(url, database, collection).find({"final": True, "game_id": {"$exists": True}}):
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
