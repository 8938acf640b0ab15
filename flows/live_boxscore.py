"""The live box score: follow the stream(s) until the game is over, then finalize.

    python -m flows.live_boxscore --poll-interval 1

``GAMESTREAM_URL`` names one stream object (one game, home/away from the parameters) or a
prefix ending in ``/`` with one ``<game_id>.txt`` per game (home/away from the ``games``
table). One flow run polls for the whole time (each sync flow run costs about a second to
close, so the loop stays inside it).

This module is an interpreter and decides nothing: :func:`boxscore.step.step` says what to do
next (poll, read, write, finalize, log, sleep, stop) and in which order; each effect is one call
of an adapter built once from the settings, and what it returned (or how it failed) goes back
as the next step's observation. The per-tick I/O is plain function calls, not a task run per
tick (a task run per tick cost half the flow's CPU): the loop's backoff is their retry. A whole
read is a task run of its own on the run's DaskTaskRunner; finalize is a subflow.
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from prefect import flow, get_run_logger
from prefect.events import emit_event

from boxscore import step as loop_step
from boxscore.config import LiveConfig, helps
from boxscore.document import utc_text
from boxscore.feed import Feed
from boxscore.games import Matchup, is_prefix
from boxscore.live import SINGLE, LiveLoop, LoopRules, StreamTimeout
from boxscore.masking import Masker, described
from flows.refusals import refusing
from tasks import ServiceUnavailable, tried_at_start
from tasks.aggregate import DaskReader
from tasks.artifacts import RunArtifacts
from tasks.boxscores import BoxScoreStore
from tasks.changes import ChangeFeed, NoFeed, change_feed
from tasks.cluster import DaskRunnerFromSettings, release_run_dask_cluster, run_dask_client
from tasks.events import Announcer
from tasks.league import ReferenceDatabase
from tasks.masking import shown
from tasks.metrics import LiveMetrics, MetricsServer
from tasks.retried import read_game_records
from tasks.seasons import SeasonStore
from tasks.settings import Settings
from tasks.stream import GameStreams, check_stream_settings, s3_server

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["StreamTimeout", "live_boxscore"]

LIVE = LiveConfig()
LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}


@flow(name="live-boxscore", task_runner=DaskRunnerFromSettings())
def live_boxscore(
    poll_interval: float = LIVE.poll_interval,
    wait_for_stream: float = LIVE.wait_for_stream,
    stall_timeout: float = LIVE.stall_timeout,
    home_team: int = LIVE.home_team,
    away_team: int = LIVE.away_team,
    finalize: bool = LIVE.finalize,
    settle_seconds: float = LIVE.settle_seconds,
    game_id: str | None = LIVE.game_id,
    read_timeout: float = LIVE.read_timeout,
    dask_block_bytes: int = LIVE.dask_block_bytes,
    behind_seconds: float = LIVE.behind_seconds,
    fallback_interval: float = LIVE.fallback_interval,
) -> Any:
    """Upsert a box score at every change of a stream; finalize each game when it is over.

    The parameters are :class:`boxscore.config.LiveConfig`'s (their meanings: ``--help``).
    Returns the final box score (single stream) or a dict of final box scores by game id (prefix).
    """
    config = LiveConfig(
        poll_interval=poll_interval,
        wait_for_stream=wait_for_stream,
        stall_timeout=stall_timeout,
        home_team=home_team,
        away_team=away_team,
        finalize=finalize,
        settle_seconds=settle_seconds,
        game_id=game_id,
        read_timeout=read_timeout,
        dask_block_bytes=dask_block_bytes,
        behind_seconds=behind_seconds,
        fallback_interval=fallback_interval,
    )
    settings = Settings.from_env()
    logger = get_run_logger()
    logger.info("following the game: %s", settings.describe())
    return refusing(lambda: _follow(settings, config, logger), logger)


def _follow(settings: Settings, config: LiveConfig, logger: Any) -> Any:
    """The run: its checks, then the step's effects carried out until it stops."""
    check_stream_settings(settings.gamestream_url, settings.storage_options, logger.warning)
    io = LiveIO.of(settings, config, logger)
    try:
        tried_at_start(io.store.ensure_indexes, logger.warning)
        return _loop(settings, config, io, logger)
    finally:
        io.artifacts.close()
        io.announcer.close()
        if io.feed is not None:
            io.feed.close()


def _loop(settings: Settings, config: LiveConfig, io: LiveIO, logger: Any) -> Any:
    """The step's effects carried out until it stops, the metrics served meanwhile."""
    loop: LiveLoop[Any] = LiveLoop(
        settings.gamestream_url,
        io.streams.multi,
        LoopRules.of(config),
        time.monotonic(),
        shown(settings.mongo_url),
        game_id=settings.chosen_game_id(config.game_id),
        sql=f"SQL database at {shown(settings.sql_url)}",
        s3=f"S3 ({settings.gamestream_url} at {shown(settings.s3_endpoint_url) or 'AWS'})",
    )
    server = MetricsServer(
        io.metrics.registry, settings.live_metrics_address, "LIVE_METRICS_ADDRESS", _say(logger, "the live run's ")
    )
    if server.serving:
        host = settings.live_metrics_address.rsplit(":", 1)[0]
        logger.info("metrics for Prometheus on http://%s:%d/metrics", host, server.port)
    try:
        feed = None
        if io.feed is not None:
            feed = Feed(
                io.feed.describe,
                settings.gamestream_url,
                config.poll_interval,
                config.fallback_interval,
                read_ahead=settings.reads_ahead,
            )
        state, observations = loop_step.LoopState.start(loop, feed), []
        while True:
            state, effects = loop_step.step(state, time.monotonic(), observations)
            observations = [seen for effect in effects if (seen := io.carry_out(effect)) is not None]
            if isinstance(effects[-1], loop_step.Stop):
                return effects[-1].result
    finally:
        server.stop()


def _say(logger: Any, prefix: str) -> Any:
    return lambda line: logger.warning("%s%s", prefix, line)


@dataclass
class LiveIO:
    """The run's adapters, built once from the settings, and what each effect is in their terms."""

    settings: Settings
    streams: GameStreams
    store: BoxScoreStore
    seasons: SeasonStore
    reference: ReferenceDatabase
    reader: DaskReader
    logger: Any
    mask: Masker  # built once: a masker parses every URL of the settings
    metrics: LiveMetrics
    announcer: Announcer
    artifacts: RunArtifacts
    feed: ChangeFeed | None  # the store's change feed, if it has one (CHANGE_FEED)

    @classmethod
    def of(cls, settings: Settings, config: LiveConfig, logger: Any) -> LiveIO:
        multi = is_prefix(settings.gamestream_url)
        single = None if multi else Matchup(SINGLE, config.home_team, config.away_team)
        options = settings.storage_options
        return cls(
            settings,
            GameStreams(settings.gamestream_url, options, multi),
            BoxScoreStore.of(settings),
            SeasonStore.of(settings),
            ReferenceDatabase(settings.sql_url, single),
            DaskReader(
                options,
                config.dask_block_bytes,
                config.read_timeout,
                run_dask_client,
                _log_client(logger, settings),
                release_run_dask_cluster,
            ),
            logger,
            settings.mask,
            LiveMetrics(),
            Announcer(settings.mask, _say(logger, ""), emit_event),
            RunArtifacts(_say(logger, ""), settings.mask),
            _change_feed(settings, config, logger),
        )

    def carry_out(self, effect: loop_step.Effect) -> loop_step.Observation | None:
        """Do what the effect says with one adapter call; what came of it, as an observation."""
        step, stream = loop_step, self.settings.gamestream_url
        match effect:
            case step.ReadGameRecords():
                return step.GameRecordsRead(read_game_records(self.store, stream))
            case step.Poll(games, ahead):
                return _attempt(lambda: self.streams.poll(games, ahead), _polled_now, Exception)
            case step.Listen():
                assert self.feed is not None  # the step listens only to a run's own feed
                self.feed.listen()
            case step.AwaitChanges(seconds):
                assert self.feed is not None
                return self.feed.wait(seconds)
            case step.ReadReference():
                return step.ReferenceRead(*self.reference.read())
            case step.SubmitWholeReads(reads):
                return step.WholeReadsSubmitted(self.reader.submit_whole(reads))
            case step.ReadStreams(reads):
                return _attempt(lambda: self.reader.read(reads), step.StreamsRead, Exception)
            case step.CollectWholeReads(overdue):
                return step.WholeReadsCollected(self.reader.collect_whole(overdue))
            case step.ArchiveOtherGames(keep):
                return _attempt(lambda: self.store.archive_other_games(keep))
            case step.Upsert(documents, seen_at):
                return _attempt(lambda: self.store.upsert(documents, seen_at))
            case step.WriteSchedule(games, planned):
                return _attempt(lambda: self.seasons.write_schedule(games, planned))
            case step.ArchiveStale(stale):
                return _attempt(lambda: self.store.archive_stale(stale))
            case step.SaveGameRecords(records):
                return _attempt(lambda: self.store.save_game_records(stream, records))
            case step.Finalize(games):
                return _attempt(lambda: _finalize(list(games)), exceptions=Exception)
            case step.Show(document):
                self.artifacts.boxscore(document)
            case step.ShowGames(games):
                self.artifacts.games(games)
            case step.Measure(figures):
                self.metrics.record(figures)
            case step.Announce(moment):
                self.announcer.announce(moment)
            case step.Log(level, message):
                self.logger.log(LEVELS[level], "%s", self.mask(message))
            case step.ReleaseWorkers():
                self.reader.release()
            case step.Sleep(seconds):
                time.sleep(seconds)
            case step.Fail(error):
                raise error
        return None


def _change_feed(settings: Settings, config: LiveConfig, logger: Any) -> ChangeFeed | None:
    """The store's change feed as ``CHANGE_FEED`` chooses it; none (polling only) said in one line."""
    url, options = settings.gamestream_url, settings.storage_options

    def server() -> str:
        try:
            return s3_server(url, options)
        except Exception as error:  # noqa: BLE001 - no answer is no feed: the run polls, as without one
            raise NoFeed(f"S3 did not say which server it is ({settings.mask(described(error))})") from None

    try:
        feed = change_feed(settings.change_feed, url, options, settings.seaweedfs_filer, server)
    except NoFeed as reason:
        logger.info("no change feed (%s): polling every %g s", reason, config.poll_interval)
        return None
    if feed is None:
        logger.info("no change feed (CHANGE_FEED=%s): polling every %g s", settings.change_feed, config.poll_interval)
    else:
        logger.info("%s; every stream is polled every %g s besides", feed.describe, config.fallback_interval)
    return feed


def _attempt(
    call: Any,
    answer: Any = None,
    exceptions: type[BaseException] | tuple[type[BaseException], ...] = ServiceUnavailable,
) -> loop_step.Observation:
    """What the call returned (as ``answer``, or done), or how it failed: the loop decides what follows.

    Only ``exceptions`` are a service's failure; anything else is a bug and ends the run.
    """
    try:
        result = call()
    except exceptions as error:
        return loop_step.Failed(error)
    return loop_step.Done() if answer is None else answer(result)


def _polled_now(answer: tuple[dict[str, Any], dict[str, tuple[int, bytes]]]) -> loop_step.Polled:
    """A poll's answer (versions, bytes read ahead), stamped with when it came: what a box score's ``seen_at`` says."""
    versions, fetched = answer
    return loop_step.Polled(versions, utc_text(datetime.now(UTC)), fetched)


def _finalize(games: list[str]) -> None:
    """The finalize subflow, imported when a first game ends: it is not on the way to the first poll."""
    from flows.finalize import finalize_game

    finalize_game(games=games)


def _log_client(logger: Any, settings: Settings) -> Any:
    def log(client: Client) -> None:
        """Where the run reads: the scheduler, its threads and its dashboard (the local cluster's
        only when ``LOCAL_CLUSTER_DASHBOARD`` asks for one, on the address it names)."""
        if settings.dask_address:
            dashboard = client.dashboard_link or "none"
        elif settings.local_cluster_dashboard:
            port = urlsplit(client.dashboard_link).port
            dashboard = f"http://{settings.local_cluster_dashboard.rsplit(':', 1)[0]}:{port}/status"
        else:
            dashboard = "none (LOCAL_CLUSTER_DASHBOARD turns the local cluster's on)"
        logger.info(
            "Dask: scheduler %s, %d worker thread(s), dashboard %s",
            client.scheduler.address,
            sum(client.nthreads().values()),
            dashboard,
        )

    return log


DESCRIPTION = """\
Follow the game stream(s) named by GAMESTREAM_URL and upsert a box score into MongoDB at every
change, until every game is over; then finalize each game into teams2/players2.

GAMESTREAM_URL names one stream object (one game: home and away from the options below) or a
prefix ending in '/' with one <game_id>.txt per game (home and away from the games table).
Where the stream, MongoDB, SQL and Dask are comes from the settings: the environment, then
sidearm.env in the working directory (SIDEARM_ENV_FILE names another; README, "Configuration").
A mistake no retry mends ends the run in one line naming what to change (exit codes: 2 a
setting or option, 3 a service that does not answer, 4 the stream never came or stopped;
docs/operations.md)."""

HELPS = helps()

if __name__ == "__main__":
    from flows.cli import run_from_command_line

    def checks() -> None:
        settings = Settings.from_env()
        check_stream_settings(settings.gamestream_url, settings.storage_options, say)

    def say(line: str) -> None:
        print(f"python -m flows.live_boxscore: {line}", file=sys.stderr)

    run_from_command_line(live_boxscore, DESCRIPTION, HELPS, checks=checks)
