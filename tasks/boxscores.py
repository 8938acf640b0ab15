"""Box-score documents in MongoDB (``sidearm.boxscores``): one upsert per stream change."""

from __future__ import annotations

from functools import lru_cache

import pymongo
from prefect import task
from pymongo.collection import Collection

from boxscore.document import BoxScore
from tasks import IO_TASK

#: Fail a single call fast; the task's retries give MongoDB time to come back.
SERVER_SELECTION_MS = 5000


@lru_cache(maxsize=8)
def mongo_client(url: str) -> pymongo.MongoClient:
    """One client (and connection pool) per URL for the whole run."""
    return pymongo.MongoClient(url, serverSelectionTimeoutMS=SERVER_SELECTION_MS, tz_aware=True)


def boxscores(url: str, database: str, collection: str) -> Collection:
    return mongo_client(url)[database][collection]


@task(**IO_TASK)
def upsert_boxscore(url: str, database: str, collection: str, boxscore: BoxScore) -> None:
    """Write the box score under its ``_id`` (latest event id): a re-run rewrites, never duplicates."""
    boxscores(url, database, collection).replace_one({"_id": boxscore["_id"]}, boxscore, upsert=True)


@task(**IO_TASK)
def latest_boxscore(url: str, database: str, collection: str) -> BoxScore | None:
    """The box score of the latest event, or ``None`` before the first one."""
    return boxscores(url, database, collection).find_one(sort=[("_id", pymongo.DESCENDING)])
