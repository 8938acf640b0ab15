"""The live box score: follow the stream until the game is over, then finalize.

    python -m flows.live_boxscore --poll-interval 1

One flow run polls for the whole game (each sync flow run costs about a second to close, so
the loop stays inside it). A poll costs one S3 HEAD; only a changed stream is read into Dask,
tallied on the workers and upserted into MongoDB under its latest event id.
"""

from __future__ import annotations

import argparse
import time

from prefect import flow, get_run_logger
from prefect.artifacts import create_progress_artifact, create_table_artifact, update_progress_artifact

from boxscore.document import BoxScore, build_boxscore, unknown_shooters
from boxscore.report import boxscore_rows, game_progress, scoreline
from boxscore.roster import Player, Team, team_by_id
from boxscore.settings import Settings
from flows.finalize import finalize_game
from tasks.aggregate import tally_stream
from tasks.boxscores import upsert_boxscore
from tasks.cluster import dask_client
from tasks.reference import read_reference
from tasks.stream import StreamVersion, head_stream

HOME_TEAM, AWAY_TEAM = 101, 205
BOXSCORE_ARTIFACT = "boxscore"  # one key: the UI shows the latest box score, older ones as history


class StreamTimeout(RuntimeError):
    """The stream did not appear, or stopped changing before the game was over."""


@flow(name="live-boxscore")
def live_boxscore(
    poll_interval: float = 1.0,
    wait_for_stream: float = 300.0,
    stall_timeout: float = 900.0,
    home_team: int = HOME_TEAM,
    away_team: int = AWAY_TEAM,
    finalize: bool = True,
) -> BoxScore:
    """Upsert a box score at every change of the stream; finalize when the game is over.

    ``wait_for_stream`` bounds the wait for the stream object to exist; ``stall_timeout`` bounds
    the wait for a change while the game is not over. Returns the final box score.
    """
    settings = Settings.from_env()
    logger = get_run_logger()
    logger.info("following the game: %s", settings.describe())
    shooting_teams = frozenset({home_team, away_team})
    reference: tuple[Team, Team, list[Player]] | None = None  # read once the stream exists
    seen: StreamVersion | None = None
    started = last_change = time.monotonic()
    warned_missing = False
    warned_jerseys: set[tuple[int, str]] = set()
    clock_artifact = create_progress_artifact(0.0, key="game-clock", description="game clock: 60:00 -> 00:00")
    with dask_client(settings.dask_address) as client:
        while True:
            try:
                version = head_stream(settings.gamestream_url, settings.storage_options)
            except Exception as error:  # noqa: BLE001 - S3 unreachable: keep polling until the stall timeout
                logger.warning("S3 did not answer for %s (%s); retrying", settings.gamestream_url, type(error).__name__)
                version = seen
            now = time.monotonic()
            if version is None:
                if now - started > wait_for_stream:
                    raise StreamTimeout(f"{settings.gamestream_url} did not appear within {wait_for_stream:.0f} s")
                if not warned_missing:
                    logger.info("waiting for the stream %s to appear", settings.gamestream_url)
                    warned_missing = True
            elif version != seen:
                seen, last_change = version, now
                if reference is None:
                    team_rows, player_rows = read_reference(settings.sql_url)
                    reference = team_by_id(home_team, team_rows), team_by_id(away_team, team_rows), player_rows
                home, away, player_rows = reference
                tally = tally_stream(client, settings.gamestream_url, settings.storage_options, shooting_teams)
                if tally.last_event_id is None:
                    logger.info("the stream has no event yet")
                else:
                    boxscore = build_boxscore(tally, home, away, player_rows)
                    upsert_boxscore(settings.mongo_url, settings.mongo_db, settings.mongo_collection, boxscore)
                    logger.info(scoreline(boxscore))
                    create_table_artifact(boxscore_rows(boxscore), key=BOXSCORE_ARTIFACT, description=scoreline(boxscore))
                    update_progress_artifact(clock_artifact, game_progress(boxscore), f"clock {boxscore['timestamp']}")
                    for team in (home_team, away_team):
                        for jersey in unknown_shooters(tally, team, player_rows):
                            if (team, jersey) not in warned_jerseys:
                                warned_jerseys.add((team, jersey))
                                logger.warning("team %d: jersey %s is not on the roster (shots counted)", team, jersey)
                    if boxscore["final"]:
                        break
            elif now - last_change > stall_timeout:
                raise StreamTimeout(f"{settings.gamestream_url} has not changed for {stall_timeout:.0f} s")
            time.sleep(poll_interval)

    if finalize:
        finalize_game()
    return boxscore


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--poll-interval", type=float, default=1.0)
    parser.add_argument("--wait-for-stream", type=float, default=300.0)
    parser.add_argument("--no-finalize", action="store_true")
    args = parser.parse_args()
    live_boxscore(poll_interval=args.poll_interval, wait_for_stream=args.wait_for_stream, finalize=not args.no_finalize)
