"""The baseline of ``bench.following``: the live box-score loop a user could write in an afternoon.

    python -m bench.hand_loop s3://bucket/game.txt --game-id g --mongo-db sidearm

HEAD the object every ``--poll`` seconds; when its ETag changes, read it whole, count shots and
goals per player with pandas and upsert one document, keyed like ours (``<game>/<event>``).
It ends when nothing changed for ``--quiet`` seconds after the game's last line (event id
-1). No validation, no retries, no Prefect, no Dask: what it costs is the floor a user would
compare us with. S3 and MongoDB come from the same settings as the pipeline's.
"""

from __future__ import annotations

import argparse
import io
import os
import time

import pandas as pd
import pymongo
import s3fs

COLUMNS = ["event_id", "clock", "team", "jersey", "goal"]


def boxscore(game_id: str, data: bytes) -> dict:
    """One document: the score per team, shots and goals per player, the last event and clock."""
    events = pd.read_csv(io.BytesIO(data), sep=" ", names=COLUMNS, dtype={"clock": str, "jersey": str})
    events = events.drop_duplicates("event_id")
    played = events[events.event_id >= 0]
    shots = played[played.team != 0]
    players = shots.groupby(["team", "jersey"]).goal.agg(shots="count", goals="sum").reset_index()
    teams = shots.groupby("team").goal.agg(shots="count", goals="sum").reset_index()
    last = played.iloc[-1]
    return {
        "_id": f"{game_id}/{int(last.event_id)}",
        "game_id": game_id,
        "event_id": int(last.event_id),
        "clock": last.clock,
        "final": bool((events.event_id == -1).any()),
        "teams": teams.astype(object).to_dict("records"),
        "players": players.astype(object).to_dict("records"),
    }


def follow(url: str, game_id: str, poll: float, quiet: float, mongo_db: str) -> None:
    fs = s3fs.S3FileSystem(
        endpoint_url=os.environ.get("S3_ENDPOINT_URL"),
        key=os.environ.get("S3_ACCESS_KEY"),
        secret=os.environ.get("S3_SECRET_KEY"),
    )
    collection = pymongo.MongoClient(os.environ["MONGO_URL"])[mongo_db].boxscores
    etag, final_at = None, None
    while final_at is None or time.monotonic() - final_at < quiet:
        try:
            info = fs.info(url, refresh=True)
        except FileNotFoundError:
            info = {"ETag": None}
        if info["ETag"] not in (None, etag):
            etag = info["ETag"]
            document = boxscore(game_id, fs.cat_file(url))
            collection.replace_one({"_id": document["_id"]}, document, upsert=True)
            final_at = time.monotonic() if document["final"] else None
        time.sleep(poll)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("--game-id", required=True)
    parser.add_argument("--poll", type=float, default=0.2)
    parser.add_argument("--quiet", type=float, default=2.0, help="seconds without a change after the last line")
    parser.add_argument("--mongo-db", default="sidearm")
    args = parser.parse_args()
    follow(args.url, args.game_id, args.poll, args.quiet, args.mongo_db)
