"""The live box score: follow the stream(s) until the game is over, then finalize.

    python -m flows.live_boxscore --poll-interval 1

``GAMESTREAM_URL`` names one stream object (one game, home/away from the parameters) or a
prefix ending in ``/`` with one ``<game_id>.txt`` per game (home/away from the ``games``
table). One flow run polls for the whole time (each sync flow run costs about a second to
close, so the loop stays inside it). A poll is one S3 HEAD (or one LIST for a prefix); only
the new bytes of changed streams are read and folded into running totals (a full read when an
object was rewritten), all games in one Dask computation, and their box scores are upserted in
one bulk write. Each game is finalized as it ends.
"""

from __future__ import annotations

import argparse
import logging
import time
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_progress_artifact, create_table_artifact, update_progress_artifact
from prefect.utilities.annotations import quote

from boxscore.document import BoxScore, build_boxscore, unknown_shooters
from boxscore.games import Matchup, changed, is_prefix, stream_url
from boxscore.report import boxscore_rows, game_progress, scoreline
from boxscore.roster import Player, Team, team_by_id
from boxscore.running import RunningTally
from boxscore.settings import Settings
from flows.finalize import finalize_game
from tasks.aggregate import advance_streams
from tasks.boxscores import ensure_game_index, upsert_boxscores
from tasks.cluster import dask_client
from tasks.reference import read_matchups, read_reference
from tasks.stream import StreamVersion, head_stream, list_streams

HOME_TEAM, AWAY_TEAM = 101, 205
BOXSCORE_ARTIFACT = "boxscore"  # one key: the UI shows the latest box score, older ones as history
SINGLE = ""  # the game key of the single-stream mode
FINALIZE_SECONDS = 5.0  # many games ending together share one finalize
SUMMARY_SECONDS = 30.0  # with many games, one progress line this often instead of one per box score


class StreamTimeout(RuntimeError):
    """The stream did not appear, or stopped changing before the game was over."""


class Reference:
    """Teams, rosters and matchups, read when a stream first appears and again for a new game.

    Indexed by team, so a tick with a thousand games does not scan every player per game.
    """

    def __init__(self, sql_url: str, single: Matchup | None) -> None:
        self.sql_url, self.single = sql_url, single
        self.teams: dict[int, Team] = {}
        self.rosters: dict[int, list[Player]] = {}
        self.matchups: dict[str, Matchup] = {}

    def matchups_for(self, games: list[str]) -> dict[str, Matchup]:
        """The matchups of these games, reading the tables once if any game is new to us."""
        if games and (not self.teams or any(game not in self.matchups for game in games)):
            teams, players = read_reference(self.sql_url)
            self.teams = {team.id: team for team in teams}
            self.rosters = {}
            for player in players:
                self.rosters.setdefault(player.teamid, []).append(player)
            self.matchups = {SINGLE: self.single} if self.single else read_matchups(self.sql_url)
        return {game: self.matchups[game] for game in games if game in self.matchups}

    def sides(self, matchup: Matchup) -> tuple[Team, Team, list[Player]]:
        """Home team, away team and the players of both."""
        home, away = team_by_id(matchup.home, self.teams), team_by_id(matchup.away, self.teams)
        return home, away, self.rosters.get(matchup.home, []) + self.rosters.get(matchup.away, [])


def _poll(settings: Settings) -> dict[str, StreamVersion]:
    """The current version of every stream: one HEAD, or one LIST for a prefix."""
    if is_prefix(settings.gamestream_url):
        return list_streams(settings.gamestream_url, settings.storage_options)
    version = head_stream(settings.gamestream_url, settings.storage_options)
    return {} if version is None else {SINGLE: version}


@flow(name="live-boxscore")
def live_boxscore(
    poll_interval: float = 1.0,
    wait_for_stream: float = 300.0,
    stall_timeout: float = 900.0,
    home_team: int = HOME_TEAM,
    away_team: int = AWAY_TEAM,
    finalize: bool = True,
    settle_seconds: float = 30.0,
) -> Any:
    """Upsert a box score at every change of a stream; finalize each game when it is over.

    ``wait_for_stream`` bounds the wait for a first stream; ``stall_timeout`` the wait for a
    change while a game is not over. With a prefix, the run ends once every game is final and
    no stream changed for ``settle_seconds``. Returns the final box score (single stream) or a
    dict of final box scores by game id (prefix).
    """
    settings = Settings.from_env()
    logger = get_run_logger()
    logger.info("following the game: %s", settings.describe())
    multi = is_prefix(settings.gamestream_url)
    reference = Reference(settings.sql_url, None if multi else Matchup(SINGLE, home_team, away_team))
    seen: dict[str, StreamVersion] = {}
    running: dict[str, RunningTally] = {}  # per game: what the bytes read so far add up to
    finals: dict[str, BoxScore] = {}
    warned: set[tuple[str, Any]] = set()
    started = last_change = last_summary = time.monotonic()
    written = 0  # box scores since the last summary
    unfinalized, last_finalized = 0, float("-inf")  # games final since the last finalize
    clock = None if multi else create_progress_artifact(0.0, key="game-clock", description="game clock: 60:00 -> 00:00")
    if multi:
        ensure_game_index(settings.mongo_url, settings.mongo_db, settings.mongo_collection)

    def once(key: tuple[str, Any], level: int, message: str, *args: Any) -> None:
        if key not in warned:
            warned.add(key)
            logger.log(level, message, *args)

    with dask_client(settings.dask_address) as client:
        while True:
            tick = time.monotonic()
            try:
                versions = _poll(settings)
            except Exception as error:  # noqa: BLE001 - S3 unreachable: keep polling until the stall timeout
                logger.warning("S3 did not answer for %s (%s); retrying", settings.gamestream_url, type(error).__name__)
                versions = dict(seen)
            now = time.monotonic()
            if not versions and not seen:
                if now - started > wait_for_stream:
                    raise StreamTimeout(f"{settings.gamestream_url} did not appear within {wait_for_stream:.0f} s")
                once(("waiting", None), logging.INFO, "waiting for the stream %s to appear", settings.gamestream_url)
            games = changed(versions, seen, set(finals))
            todo = reference.matchups_for(games)
            for game in games:
                if game not in todo:
                    once(("no matchup", game), logging.WARNING, "game %s is not in the games table yet; skipping it", game)
            if todo:
                last_change = now
                streams = {g: (stream_url(settings.gamestream_url, g) if multi else settings.gamestream_url,
                               frozenset({m.home, m.away}), running.get(g), versions[g].size) for g, m in todo.items()}
                # quote(): Prefect need not walk a thousand states looking for futures
                progress = advance_streams(client, quote(streams), settings.storage_options)
                documents = []
                for game, step in progress.items():
                    seen[game], running[game] = versions[game], step.state
                    tally = step.tally()
                    if tally.last_event_id is None:
                        continue
                    home, away, players = reference.sides(todo[game])
                    documents.append(build_boxscore(tally, home, away, players, game if multi else None))
                    for team in (home.id, away.id):
                        for jersey in unknown_shooters(tally, team, players):
                            once((game, team, jersey), logging.WARNING,
                                 "game %s team %d: jersey %s is not on the roster (shots counted)",
                                 game or "-", team, jersey)
                upsert_boxscores(settings.mongo_url, settings.mongo_db, settings.mongo_collection, quote(documents))
                for document in documents:
                    if document["final"]:
                        finals[document.get("game_id", SINGLE)] = document
                    # one game: every change is news; a thousand: only the finals, plus a summary below
                    logger.log(logging.INFO if document["final"] or not multi else logging.DEBUG, "%s%s",
                               f"{document['game_id']}: " if multi else "", scoreline(document))
                written += len(documents)
                if clock is not None and documents:
                    (document,) = documents
                    create_table_artifact(boxscore_rows(document), key=BOXSCORE_ARTIFACT, description=scoreline(document))
                    update_progress_artifact(clock, game_progress(document), f"clock {document['timestamp']}")
                unfinalized += sum(doc["final"] for doc in documents)
            elif seen and len(finals) < len(seen) and now - last_change > stall_timeout:
                raise StreamTimeout(f"{settings.gamestream_url} has not changed for {stall_timeout:.0f} s")
            # finalize rewrites the season tables from every final game: when a game ends, but with
            # many games at most every FINALIZE_SECONDS (and once all are final), not once per game
            if finalize and unfinalized and (len(finals) == len(seen) or now - last_finalized >= FINALIZE_SECONDS):
                finalize_game()
                unfinalized, last_finalized = 0, now
            if multi and now - last_summary >= SUMMARY_SECONDS:
                logger.info("following %d games (%d final): %d box scores written in %.0f s",
                            len(seen), len(finals), written, now - last_summary)
                last_summary, written = now, 0
            if seen and len(finals) == len(seen) and (not multi or now - last_change >= settle_seconds):
                break
            time.sleep(max(0.0, poll_interval - (time.monotonic() - tick)))
    return dict(sorted(finals.items())) if multi else finals[SINGLE]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--poll-interval", type=float, default=1.0)
    parser.add_argument("--wait-for-stream", type=float, default=300.0)
    parser.add_argument("--stall-timeout", type=float, default=900.0)
    parser.add_argument("--settle-seconds", type=float, default=30.0, help="prefix: quiet time after the last final")
    parser.add_argument("--no-finalize", action="store_true")
    args = parser.parse_args()
    live_boxscore(poll_interval=args.poll_interval, wait_for_stream=args.wait_for_stream,
                  stall_timeout=args.stall_timeout, finalize=not args.no_finalize, settle_seconds=args.settle_seconds)
