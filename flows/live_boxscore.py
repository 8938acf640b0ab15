"""The live box score: follow the stream(s) until the game is over, then finalize.

    python -m flows.live_boxscore --poll-interval 1

``GAMESTREAM_URL`` names one stream object (one game, home/away from the parameters) or a
prefix ending in ``/`` with one ``<game_id>.txt`` per game (home/away from the ``games``
table). One flow run polls for the whole time (each sync flow run costs about a second to
close, so the loop stays inside it). A poll is one S3 HEAD (or one LIST for a prefix); only
the new bytes of changed streams are read and folded into running totals (a full read when an
object was rewritten), all games in one Dask computation, and their box scores are upserted in
one bulk write. Each game is finalized as it ends.

The per-tick I/O calls the tasks' functions, not a task run per tick, and the loop is their
retry: an outage of S3, MongoDB or a Dask worker is waited out with backoff (:class:`Backoff`),
box scores not yet written are kept and written when MongoDB is back, and a failed read is
made again at the next tick. finalize is a subflow with its own task retries.
"""

from __future__ import annotations

import argparse
import logging
import time
from typing import Any

from distributed import Client
from prefect import flow, get_run_logger
from prefect.artifacts import create_progress_artifact, create_table_artifact, update_progress_artifact

from boxscore.document import BoxScore, build_boxscore, unknown_shooters
from boxscore.games import Matchup, changed, is_prefix, stream_url
from boxscore.report import boxscore_rows, game_progress, scoreline
from boxscore.roster import Player, Team, team_by_id
from boxscore.running import RunningTally
from boxscore.settings import Settings, error_reason, redact_url
from flows.finalize import finalize_game
from tasks import ServiceUnavailable
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


class Backoff:
    """Retries a failing service at growing intervals and says so per attempt, not per tick.

    The live loop never dies of an outage: what it could not do waits for the next attempt
    (1, 2, 4 ... at most 15 s apart), and the recovery is logged with the outage's length.
    """

    def __init__(self, service: str, logger: Any, first: float = 1.0, longest: float = 15.0) -> None:
        self.service, self.logger, self.first, self.longest = service, logger, first, longest
        self.failures, self.next_try, self.since = 0, 0.0, 0.0

    def ready(self, now: float) -> bool:
        return now >= self.next_try

    def failed(self, now: float, error: BaseException, waiting: str) -> None:
        if not self.failures:
            self.since = now
        self.failures += 1
        delay = min(self.first * 2 ** (self.failures - 1), self.longest)
        self.next_try = now + delay
        self.logger.warning("%s failed (%s: %s); %s, next attempt in %.0f s", self.service, type(error).__name__,
                            error_reason(error), waiting, delay)

    def succeeded(self, now: float) -> None:
        if self.failures:
            self.logger.info("%s answers again after %.0f s", self.service, now - self.since)
        self.failures, self.next_try = 0, 0.0


class LiveGames:
    """The state of one live run: what was read of each stream, what is written, what is final."""

    def __init__(self, settings: Settings, logger: Any, single: Matchup | None) -> None:
        self.settings, self.logger = settings, logger
        self.multi = single is None
        self.reference = Reference(settings.sql_url, single)
        self.seen: dict[str, StreamVersion] = {}  # per game: the version folded into ``running``
        self.running: dict[str, RunningTally] = {}  # per game: what the bytes read so far add up to
        self.unwritten: dict[str, BoxScore] = {}  # per game: the newest box score not yet in MongoDB
        self.finals: dict[str, BoxScore] = {}
        self.warned: set[tuple[str, Any]] = set()
        self.s3 = Backoff(f"S3 ({settings.gamestream_url})", logger)
        self.mongo = Backoff(f"MongoDB ({redact_url(settings.mongo_url)})", logger)

    def once(self, key: tuple[str, Any], level: int, message: str, *args: Any) -> None:
        if key not in self.warned:
            self.warned.add(key)
            self.logger.log(level, message, *args)

    def poll(self, now: float) -> dict[str, StreamVersion] | None:
        """The current version of every stream (one HEAD, or one LIST); ``None`` while S3 is down."""
        url, options = self.settings.gamestream_url, self.settings.storage_options
        if not self.s3.ready(now):
            return None
        try:
            if self.multi:
                versions = list_streams(url, options)
            else:
                version = head_stream(url, options)
                versions = {} if version is None else {SINGLE: version}
        except Exception as error:  # noqa: BLE001 - any S3 failure: wait and poll again
            self.s3.failed(now, error, "keeping the box scores as they are")
            return None
        self.s3.succeeded(now)
        for game in self.seen.keys() - versions.keys() - self.finals.keys():
            self.once(("missing", game), logging.WARNING, "the stream %s is missing; waiting for it to come back",
                      stream_url(url, game) if self.multi else url)
        return versions

    def read(self, client: Client, versions: dict[str, StreamVersion], now: float) -> int:
        """Fold the new bytes of every changed game; queue their box scores. Returns the games read."""
        games = changed(versions, self.seen, set(self.finals))
        todo = self.reference.matchups_for(games)
        for game in games:
            if game not in todo:
                self.once(("no matchup", game), logging.WARNING, "game %s is not in the games table yet; skipping it", game)
        if not todo:
            return 0
        url = self.settings.gamestream_url
        streams = {g: (stream_url(url, g) if self.multi else url, frozenset({m.home, m.away}), self.running.get(g),
                       versions[g].size) for g, m in todo.items()}
        try:
            progress = advance_streams.fn(client, streams, self.settings.storage_options)
        except Exception as error:  # noqa: BLE001 - S3 or a Dask worker failed mid-read: read again next time
            self.s3.failed(now, error, f"{len(streams)} changed stream(s) will be read again")
            return 0
        for game, step in progress.items():
            self.seen[game], self.running[game] = versions[game], step.state
            tally = step.tally()
            if tally.last_event_id is None:
                self.once(("empty", game, versions[game]), logging.WARNING,
                          "the stream of %s has no event; its box score stays as it was", game or url)
                continue
            home, away, players = self.reference.sides(todo[game])
            self.unwritten[game] = build_boxscore(tally, home, away, players, game if self.multi else None)
            for team in (home.id, away.id):
                for jersey in unknown_shooters(tally, team, players):
                    self.once((game, team, jersey), logging.WARNING,
                              "game %s team %d: jersey %s is not on the roster (shots counted)", game or "-", team, jersey)
        return len(progress)

    def write(self, now: float) -> list[BoxScore]:
        """Upsert the queued box scores in one bulk write; kept for the next attempt if MongoDB is down."""
        if not self.unwritten or not self.mongo.ready(now):
            return []
        documents = list(self.unwritten.values())
        try:
            upsert_boxscores.fn(self.settings.mongo_url, self.settings.mongo_db, self.settings.mongo_collection,
                                documents)
        except ServiceUnavailable as error:
            self.mongo.failed(now, error, f"{len(documents)} box score(s) kept for the next attempt")
            return []
        self.mongo.succeeded(now)
        self.unwritten.clear()
        for document in documents:
            if document["final"]:
                self.finals[document.get("game_id", SINGLE)] = document
            # one game: every change is news; a thousand: only the finals, plus a summary
            self.logger.log(logging.INFO if document["final"] or not self.multi else logging.DEBUG, "%s%s",
                            f"{document['game_id']}: " if self.multi else "", scoreline(document))
        return documents

    def all_final(self) -> bool:
        return bool(self.seen) and len(self.finals) == len(self.seen) and not self.unwritten


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
    change while a game is not over (outages of S3 or MongoDB are waited out within it). With
    a prefix, the run ends once every game is final and no stream changed for
    ``settle_seconds``. Returns the final box score (single stream) or a dict of final box
    scores by game id (prefix).
    """
    settings = Settings.from_env()
    logger = get_run_logger()
    logger.info("following the game: %s", settings.describe())
    live = LiveGames(settings, logger, None if is_prefix(settings.gamestream_url) else Matchup(SINGLE, home_team, away_team))
    started = last_change = last_summary = time.monotonic()
    written = 0  # box scores since the last summary
    unfinalized, last_finalized = 0, float("-inf")  # games final since the last finalize
    clock = None if live.multi else create_progress_artifact(0.0, key="game-clock",
                                                             description="game clock: 60:00 -> 00:00")
    if live.multi:
        ensure_game_index(settings.mongo_url, settings.mongo_db, settings.mongo_collection)

    with dask_client(settings.dask_address) as client:
        while True:
            tick = time.monotonic()
            versions = live.poll(tick)
            if versions is not None and not versions and not live.seen:
                if tick - started > wait_for_stream:
                    raise StreamTimeout(f"{settings.gamestream_url} did not appear within {wait_for_stream:.0f} s")
                live.once(("waiting", None), logging.INFO, "waiting for the stream %s to appear", settings.gamestream_url)
            if versions and live.read(client, versions, tick):
                last_change = tick
            documents = live.write(tick)
            written += len(documents)
            if finalize:
                unfinalized += sum(doc["final"] for doc in documents)
            if clock is not None and documents:
                (document,) = documents
                create_table_artifact(boxscore_rows(document), key=BOXSCORE_ARTIFACT, description=scoreline(document))
                update_progress_artifact(clock, game_progress(document), f"clock {document['timestamp']}")
            if not live.all_final() and live.seen and tick - last_change > stall_timeout:
                raise StreamTimeout(f"{settings.gamestream_url} has not changed for {stall_timeout:.0f} s")
            # finalize rewrites the season tables from every final game: when a game ends, but with
            # many games at most every FINALIZE_SECONDS (and once all are final), not once per game
            if unfinalized and (live.all_final() or tick - last_finalized >= FINALIZE_SECONDS):
                finalize_game()
                unfinalized, last_finalized = 0, tick
            if live.multi and tick - last_summary >= SUMMARY_SECONDS:
                logger.info("following %d games (%d final): %d box scores written in %.0f s",
                            len(live.seen), len(live.finals), written, tick - last_summary)
                last_summary, written = tick, 0
            if live.all_final() and not unfinalized and (not live.multi or tick - last_change >= settle_seconds):
                break
            time.sleep(max(0.0, poll_interval - (time.monotonic() - tick)))
    return dict(sorted(live.finals.items())) if live.multi else live.finals[SINGLE]


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
