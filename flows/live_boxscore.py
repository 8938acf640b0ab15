"""The live box score: follow the stream(s) until the game is over, then finalize.

    python -m flows.live_boxscore --poll-interval 1

``GAMESTREAM_URL`` names one stream object (one game, home/away from the parameters) or a
prefix ending in ``/`` with one ``<game_id>.txt`` per game (home/away from the ``games``
table). One flow run polls for the whole time (each sync flow run costs about a second to
close, so the loop stays inside it). A poll is one S3 HEAD (or one LIST for a prefix); only
the new bytes of changed streams are read and folded into running totals (a full read when an
object was rewritten), all games in one Dask computation, and their box scores are upserted in
one bulk write. A full read of a stream of one Dask block or more is a Dask dataframe in a task
run of its own, submitted to the run's DaskTaskRunner and collected at a later tick, so it never
holds up the other games. Each game is finalized as it ends.

The loop's decisions (backoff, waits, stalls, cadences, what to log) are the pure state machine
:class:`boxscore.live.LiveLoop`; this module does the I/O around it. The per-tick I/O calls plain
functions, not a task run per tick (a task run per tick cost half the flow's CPU), and the
machine's backoff is their retry: an outage of S3, MongoDB or a Dask worker is waited out, box
scores not yet written are kept and written when MongoDB is back, and a failed read is made again
at the next tick. finalize is a subflow with its own task retries.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_progress_artifact, create_table_artifact, update_progress_artifact

from boxscore.document import BoxScore
from boxscore.games import Matchup, is_prefix
from boxscore.live import SINGLE, GameRead, LiveLoop, LoopRules, ReadFailed, StreamTimeout
from boxscore.masking import described
from boxscore.report import boxscore_rows, game_progress, line_score, scoreline
from boxscore.roster import League
from tasks import ServiceUnavailable
from tasks.aggregate import BLOCKSIZE, advance_streams, read_whole_stream
from tasks.boxscores import (
    archive_boxscores,
    ensure_game_index,
    read_game_records,
    save_game_records,
    upsert_boxscores,
)
from tasks.cluster import dask_task_runner, run_dask_client
from tasks.masking import shown
from tasks.settings import Settings
from tasks.stream import StreamVersion, head_stream, list_streams

__all__ = ["StreamTimeout", "live_boxscore"]

HOME_TEAM, AWAY_TEAM = 101, 205
BOXSCORE_ARTIFACT = "boxscore"  # one key: the UI shows the latest box score, older ones as history
LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}


class Reference:
    """Teams, rosters and matchups, read when a stream first appears and again for a new game."""

    def __init__(self, sql_url: str, single: Matchup | None) -> None:
        self.sql_url, self.single = sql_url, single
        self.league: League | None = None
        self.matchups: dict[str, Matchup] = {}

    def read(self) -> None:
        """Read teams, players and (with a prefix) the games table; the loop says when."""
        from tasks.reference import read_matchups, read_reference  # SQLAlchemy: not needed before a stream exists

        self.league = League.of(*read_reference(self.sql_url))
        self.matchups = {SINGLE: self.single} if self.single else read_matchups(self.sql_url)


def _poll(settings: Settings, multi: bool) -> dict[str, StreamVersion]:
    """The current version of every stream: one LIST for a prefix, one HEAD for a single stream."""
    url, options = settings.gamestream_url, settings.storage_options
    if multi:
        return list_streams(url, options)
    version = head_stream(url, options)
    return {} if version is None else {SINGLE: version}


@flow(name="live-boxscore", task_runner=dask_task_runner())
def live_boxscore(
    poll_interval: float = 1.0,
    wait_for_stream: float = 300.0,
    stall_timeout: float = 900.0,
    home_team: int = HOME_TEAM,
    away_team: int = AWAY_TEAM,
    finalize: bool = True,
    settle_seconds: float = 30.0,
    game_id: str | None = None,
    read_timeout: float = 60.0,
    dask_block_bytes: int = BLOCKSIZE,
) -> Any:
    """Upsert a box score at every change of a stream; finalize each game when it is over.

    ``wait_for_stream`` bounds the wait for a first stream; ``stall_timeout`` the wait for a
    change while a game is not over (outages of S3 or MongoDB are waited out within it). The
    run ends once every game is final and no stream changed for ``settle_seconds`` (a
    correction within that time is applied and finalized again). ``game_id`` (or ``GAME_ID``)
    names the single stream's game; unset, it is derived from the stream (README "Games and
    seasons"). ``read_timeout`` bounds one tick's Dask read, or one whole read (a scheduler
    without workers, say). A full read of ``dask_block_bytes`` or more is a Dask dataframe of
    blocks that size, in a task run of its own.
    Returns the final box score (single stream) or a dict of final box scores by game
    id (prefix).
    """
    settings = Settings.from_env()
    chosen = settings.chosen_game_id(game_id)
    logger = get_run_logger()
    logger.info("following the game: %s", settings.describe())
    mask = settings.mask
    multi = is_prefix(settings.gamestream_url)
    rules = LoopRules(
        poll_interval,
        wait_for_stream,
        stall_timeout,
        settle_seconds,
        finalize,
        whole_read_bytes=dask_block_bytes,
        read_timeout=read_timeout,
    )
    mongo = (settings.mongo_url, settings.mongo_db, settings.mongo_collection)
    records = [] if multi else read_game_records(*mongo, settings.gamestream_url)
    s3 = f"S3 ({settings.gamestream_url} at {shown(settings.s3_endpoint_url) or 'AWS'})"
    loop: LiveLoop[StreamVersion] = LiveLoop(
        settings.gamestream_url,
        multi,
        rules,
        time.monotonic(),
        shown(settings.mongo_url),
        records,
        chosen,
        sql=f"SQL database at {shown(settings.sql_url)}",
        s3=s3,
    )
    reference = Reference(settings.sql_url, None if multi else Matchup(SINGLE, home_team, away_team))
    clock = None if multi else create_progress_artifact(0.0, key="game-clock", description="game clock: 60:00 -> 00:00")
    ensure_game_index(*mongo)

    def log_notices() -> None:
        for notice in loop.notices():
            logger.log(LEVELS[notice.level], "%s", mask(notice.message))

    client = None  # the run's Dask client, made at the first read: a stream may not exist yet
    whole_reads: dict[str, Any] = {}  # game -> the future of its whole read's task run
    while True:
        tick = time.monotonic()
        refused: dict[str, ReadFailed] = {}  # whole reads that could not be submitted this tick
        if loop.poll_due(tick):
            try:
                versions = _poll(settings, multi)
            except Exception as error:  # noqa: BLE001 - any S3 failure: wait and poll again
                loop.poll_failed(tick, error)
            else:
                games = loop.polled(tick, versions)
                if loop.reference_due(tick, games, reference.matchups, reference.league is not None):
                    reference.read()
                    loop.reference_read(tick)
                reads = loop.reads(tick, games, reference.matchups, reference.league)
                refused = _submit_whole_reads(reads, whole_reads, settings.storage_options, dask_block_bytes)
                reads = {game: read for game, read in reads.items() if not read.whole}
                if reads and reference.league is not None:
                    client = client or _dask_client(logger)
                    try:
                        progress = advance_streams(
                            client, reads, settings.storage_options, read_timeout, dask_block_bytes
                        )
                    except Exception as error:  # noqa: BLE001 - S3 or a Dask worker failed mid-read
                        loop.read_failed(tick, error, len(reads))
                    else:
                        loop.read_done(tick, progress, reference.matchups, reference.league)
        done = {**refused, **_whole_reads_done(loop, whole_reads, tick)}
        if done and reference.league is not None:
            loop.read_done(tick, done, reference.matchups, reference.league)
        _write(loop, tick, mongo, settings.gamestream_url)
        shown_now = loop.to_show(tick)
        if clock is not None and shown_now is not None:
            _show(shown_now, clock)
        log_notices()  # the tick's box scores before what finalize logs about them
        if loop.finalize_due(tick):
            games = set(loop.to_finalize)
            try:
                _finalize(sorted(games))
            except Exception as error:  # noqa: BLE001 - one failing finalize must not end every game
                loop.finalize_failed(tick, error)
            else:
                loop.finalized(tick, games)
        done = loop.finished(tick)
        log_notices()
        if done:
            break
        time.sleep(loop.pause(tick, time.monotonic()))
    return dict(sorted(loop.finals.items())) if multi else loop.finals[SINGLE]


def _finalize(games: list[str]) -> None:
    """The finalize subflow, imported when a first game ends: it is not on the way to the first poll."""
    from flows.finalize import finalize_game

    finalize_game(games=games)


def _dask_client(logger: Any) -> Any:
    """The run's one Dask client, logged: the scheduler it reads on and its threads."""
    client = run_dask_client()
    dashboard = client.dashboard_link or "none (a local threads cluster without a dashboard)"
    logger.info(
        "Dask: scheduler %s, %d worker thread(s), dashboard %s",
        client.scheduler.address,
        sum(client.nthreads().values()),
        dashboard,
    )
    return client


def _submit_whole_reads(
    reads: dict[str, GameRead], futures: dict[str, Any], storage_options: dict[str, Any], block_bytes: int
) -> dict[str, ReadFailed]:
    """Submit each whole read as its task run; those that could not be submitted, as failed reads."""
    refused = {}
    for game, read in reads.items():
        if read.whole:
            try:
                futures[game] = read_whole_stream.submit(read, storage_options, block_bytes)
            except Exception as error:  # noqa: BLE001 - the Prefect API or Dask refused it: read again later
                refused[game] = ReadFailed(described(error))
    return refused


def _whole_reads_done(loop: LiveLoop[StreamVersion], futures: dict[str, Any], now: float) -> dict[str, Any]:
    """The whole reads that finished (or failed, or took longer than ``read_timeout``), by game."""
    done: dict[str, Any] = {}
    for game in loop.overdue(now):
        future = futures.pop(game, None)
        if future is not None:
            future.wrapped_future.cancel()
        done[game] = ReadFailed(f"the whole read did not finish within {loop.rules.read_timeout:.0f} s")
    for game, future in list(futures.items()):
        if future.wrapped_future.done():
            del futures[game]
            try:
                done[game] = future.result()
            except Exception as error:  # noqa: BLE001 - this game's read failed, the others go on
                done[game] = ReadFailed(described(error))
    return done


def _write(loop: LiveLoop[StreamVersion], tick: float, mongo: tuple[str, str, str], stream: str) -> None:
    """Archive what the loop says is another game's or stale, upsert the box scores, save the records."""
    try:
        keep = loop.archive_due()
        if keep is not None:
            archive_boxscores(*mongo, {"game_id": {"$ne": keep}})
            loop.archived()
        documents = loop.to_write(tick)
        if not documents:
            return
        upsert_boxscores(*mongo, documents)
    except ServiceUnavailable as error:
        loop.write_failed(tick, error, len(loop.unwritten))
        return
    loop.written(tick, documents)
    try:
        for game_id, event_id in loop.stale():
            archive_boxscores(*mongo, {"game_id": game_id, "event_id": {"$gt": event_id}})
    except ServiceUnavailable as error:
        loop.write_failed(tick, error, 0)
    if not loop.multi:
        _save_records(loop, tick, mongo, stream)


def _save_records(loop: LiveLoop[StreamVersion], tick: float, mongo: tuple[str, str, str], stream: str) -> None:
    records = loop.records_to_save()
    try:
        save_game_records(*mongo, stream, records)
    except ServiceUnavailable as error:
        loop.write_failed(tick, error, 0)
        loop.keep_unsaved(records)


def _show(document: BoxScore, clock: Any) -> None:
    """The UI's view of the single game: the box score table and the game clock's progress."""
    description = f"{scoreline(document)}\n\n{line_score(document)}"
    create_table_artifact(boxscore_rows(document), key=BOXSCORE_ARTIFACT, description=description)
    update_progress_artifact(clock, game_progress(document), f"clock {document['timestamp']}")


DESCRIPTION = """\
Follow the game stream(s) named by GAMESTREAM_URL and upsert a box score into MongoDB at every
change, until every game is over; then finalize each game into teams2/players2.

GAMESTREAM_URL names one stream object (one game: home and away from the options below) or a
prefix ending in '/' with one <game_id>.txt per game (home and away from the games table).
Where the stream, MongoDB, SQL and Dask are comes from the settings (environment or .env:
README "Configuration")."""

HELPS = {
    "poll_interval": "seconds between polls of the stream (one HEAD, or one LIST for a prefix)",
    "wait_for_stream": "seconds to wait for a first stream before giving up",
    "stall_timeout": "seconds a game that is not over may go without a change (outages are waited out within it)",
    "home_team": "the single stream's home team id (teams table)",
    "away_team": "the single stream's away team id (teams table)",
    "finalize": "finalize each game into teams2/players2 when it is over",
    "settle_seconds": "seconds of quiet after the last final before the run ends (a correction in it is applied)",
    "game_id": "the single stream's game id; unset: GAME_ID, else derived from the stream",
    "read_timeout": "seconds one tick's Dask read, or one whole read, may take",
    "dask_block_bytes": "bytes: a full read this big or bigger is a Dask dataframe of blocks this size",
}

if __name__ == "__main__":
    from flows.cli import parse, parser_for

    live_boxscore(**parse(parser_for(live_boxscore, DESCRIPTION, HELPS)))
