"""Game-stream simulator: replays games into the bucket, as the live feed would (``--help``).

With a prefix URL (ending in ``/``) each game is its own ``<game_id>.txt``: the recorded game
as ``recorded.txt``, or ``--games N`` synthetic games from a seeded generator, game ``i``
starting ``i * stagger`` game seconds after the first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger

from boxscore.games import Matchup, is_prefix, stream_of
from boxscore.replay import Write, replay_rounds, replay_schedule
from boxscore.synthetic import synthetic_league
from flows.refusals import refusing
from tasks.masking import shown
from tasks.reference import read_seed, reset_reference, seed_reference
from tasks.settings import Settings
from tasks.stream import check_s3_settings, ensure_bucket, write_streams

SEED_DIR = Path(__file__).resolve().parents[1] / "data" / "seed"
RECORDED_GAME = SEED_DIR / "game_events.txt"
RECORDED_GAME_ID = "recorded"


@flow(name="gamestream")
def gamestream(
    delay: float = 0.25,
    events_file: str = str(RECORDED_GAME),
    reset_tables: bool = False,
    games: int = 0,
    seed: int = 7,
    stagger: int = 60,
) -> Any:
    """Make sure the reference tables exist, then rewrite each stream at every event in game time.

    ``delay`` is real seconds per game second (0 = as fast as possible). The reference tables
    are only created and filled where the database has none; ``reset_tables`` replaces
    ``teams``, ``players`` and ``games`` with the replay's (it says which database first).
    Returns the number of writes.
    """
    logger = get_run_logger()
    return refusing(lambda: _replay(delay, events_file, reset_tables, games, seed, stagger, logger), logger)


def _replay(
    delay: float, events_file: str, reset_tables: bool, games: int, seed: int, stagger: int, logger: Any
) -> int:
    settings = Settings.from_env()
    check_s3_settings(settings.storage_options)  # before the reference tables are created
    url = settings.gamestream_url
    if games and not is_prefix(url):
        raise ValueError(f"--games needs a prefix GAMESTREAM_URL ending in '/', not {url}")
    team_rows, player_rows = read_seed(SEED_DIR)
    if games:
        league = synthetic_league(games, seed)
        team_rows, player_rows = team_rows + league.teams, player_rows + league.players
        matchups, recordings = league.matchups, league.recordings
    else:
        matchups = [Matchup(RECORDED_GAME_ID, 101, 205)]
        recordings = {RECORDED_GAME_ID: Path(events_file).read_text()}
    listed = matchups if is_prefix(url) else ()
    if reset_tables:
        logger.warning("replacing the tables teams, players and games in %s", shown(settings.sql_url))
        reset_reference(settings.sql_url, team_rows, player_rows, listed)
    else:
        seeded = seed_reference(settings.sql_url, team_rows, player_rows, listed)
        where = shown(settings.sql_url)
        if seeded.filled:
            logger.info("created the reference tables teams and players in %s", where)
        elif seeded.missing_teams:
            logger.warning(
                "teams in %s lacks the replay's teams %s and was left as it is: their games cannot be scored "
                "(--reset-tables replaces the reference tables with the replay's)",
                where,
                ", ".join(map(str, seeded.missing_teams)),
            )
    schedule = replay_schedule(recordings, stagger)
    logger.info(
        "replaying %d game(s), %d writes, into %s at %.3g s per game second", len(recordings), len(schedule), url, delay
    )
    play(
        schedule,
        url,
        settings.storage_options,
        delay,
        progress=lambda done: logger.info("wrote %d/%d", done, len(schedule)),
    )
    return len(schedule)


def play(
    schedule: list[Write],
    url: str,
    storage_options: dict[str, Any],
    delay: float,
    on_written: Callable[[list[Write], float], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Write the schedule in game time, ``delay`` real seconds per game second.

    Writes due together go out in one concurrent batch (a round); ``on_written`` hears each
    round with the ``time.perf_counter()`` at which its last PUT finished (the benchmarks time
    freshness from there); ``progress`` hears the writes done, every tenth of the schedule.
    """
    ensure_bucket(url, storage_options)
    started, done, step = time.monotonic(), 0, max(1, len(schedule) // 10)
    for writes in replay_rounds(schedule):
        if delay > 0:
            time.sleep(max(0.0, started + writes[0].at * delay - time.monotonic()))
        write_streams({_target(url, write): write.text for write in writes}, storage_options)
        if on_written is not None:
            on_written(writes, time.perf_counter())
        before, done = done, done + len(writes)
        if progress is not None and (done // step > before // step or done == len(schedule)):
            progress(done)


def _target(url: str, write: Write) -> str:
    return stream_of(url, write.game_id)


DESCRIPTION = """\
Replay games into the bucket named by GAMESTREAM_URL, rewriting each stream object at every
event, as the live feed does.

With a single object URL the recorded game is replayed. With a prefix URL (ending in '/') each
game is its own <game_id>.txt: the recorded game as recorded.txt, or --games N synthetic games.
The reference tables (teams, players, games) are created where the SQL database has none and
are otherwise left as they are, unless --reset-tables is given."""

EPILOG = """\
examples:
  python -m flows.gamestream                      the recorded game, 0.25 s per game second
  python -m flows.gamestream --delay 0            as fast as possible
  GAMESTREAM_URL=s3://gamestreams/saturday/ python -m flows.gamestream --games 100 --stagger 60"""

HELPS = {
    "delay": "real seconds per game second (0: no waiting)",
    "events_file": "the recorded game's event lines (a text file)",
    "reset_tables": "REPLACE teams, players and games in the SQL database with the replay's",
    "games": "synthetic games to replay instead of the recorded one (prefix GAMESTREAM_URL only; 0: none)",
    "seed": "the synthetic games' random seed",
    "stagger": "game seconds between the starts of two synthetic games",
}

if __name__ == "__main__":
    from flows.cli import run_from_command_line

    run_from_command_line(
        gamestream, DESCRIPTION, HELPS, EPILOG, checks=lambda: check_s3_settings(Settings.from_env().storage_options)
    )
