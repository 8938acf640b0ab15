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
from pathlib import Path

from prefect import flow, get_run_logger

from boxscore.games import Matchup, is_prefix, stream_url
from boxscore.replay import Write, replay_schedule
from boxscore.settings import Settings
from boxscore.synthetic import synthetic_league
from tasks.reference import read_seed, reset_reference
from tasks.stream import write_stream

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
    logger.info("replaying %d game(s), %d writes, into %s at %.3g s per game second",
                len(recordings), len(schedule), url, delay)
    started = time.monotonic()
    for number, write in enumerate(schedule, start=1):
        if delay > 0:
            time.sleep(max(0.0, started + write.at * delay - time.monotonic()))
        write_stream.fn(_target(url, write), write.text, settings.storage_options)
        if number % max(1, len(schedule) // 10) == 0 or number == len(schedule):
            logger.info("wrote %d/%d", number, len(schedule))
    return len(schedule)


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
    gamestream(delay=args.delay, events_file=args.events_file, reset_tables=not args.keep_tables,
               games=args.games, seed=args.seed, stagger=args.stagger)
