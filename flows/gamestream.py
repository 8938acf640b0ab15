"""Game-stream simulator: replays games into the bucket, as the live feed would.

    python -m flows.gamestream                        # the recorded game, 0.25 s per game second
    python -m flows.gamestream --delay 0              # as fast as possible
    GAMESTREAM_URL=s3://gamestreams/saturday/ python -m flows.gamestream --games 100 --stagger 60

With a prefix URL (ending in ``/``) each game is its own ``<game_id>.txt``: the recorded game
as ``recorded.txt``, or ``--games N`` synthetic games from a seeded generator, game ``i``
starting ``i * stagger`` game seconds after the first.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger

from boxscore.games import Matchup, is_prefix, stream_url
from boxscore.replay import Write, replay_rounds, replay_schedule
from boxscore.synthetic import synthetic_league
from tasks.reference import read_seed, reset_reference
from tasks.settings import Settings
from tasks.stream import ensure_bucket, write_streams

SEED_DIR = Path(__file__).resolve().parents[1] / "data" / "seed"
RECORDED_GAME = SEED_DIR / "game_events.txt"
RECORDED_GAME_ID = "recorded"


@flow(name="gamestream")
def gamestream(
    delay: float = 0.25,
    events_file: str = str(RECORDED_GAME),
    reset_tables: bool = True,
    games: int = 0,
    seed: int = 7,
    stagger: int = 60,
) -> int:
    """Reset the reference tables, then rewrite each stream at every event in game time.

    ``delay`` is real seconds per game second (0 = as fast as possible). Returns the number of
    writes.
    """
    settings = Settings.from_env()
    logger = get_run_logger()
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
    if reset_tables:
        reset_reference(settings.sql_url, team_rows, player_rows, matchups if is_prefix(url) else ())
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
    return stream_url(url, write.game_id) if is_prefix(url) else url


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--delay", type=float, default=0.25, help="real seconds per game second (0 = no waiting)")
    parser.add_argument("--events-file", default=str(RECORDED_GAME))
    parser.add_argument("--keep-tables", action="store_true", help="do not reset the reference tables")
    parser.add_argument("--games", type=int, default=0, help="synthetic games (prefix GAMESTREAM_URL only)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--stagger", type=int, default=60, help="game seconds between game starts")
    args = parser.parse_args()
    gamestream(
        delay=args.delay,
        events_file=args.events_file,
        reset_tables=not args.keep_tables,
        games=args.games,
        seed=args.seed,
        stagger=args.stagger,
    )
