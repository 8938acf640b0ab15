"""Game-stream simulator: replays a recorded game into the bucket, as the live feed would.

    python -m flows.gamestream                 # real time x 0.25 (about 15 minutes)
    python -m flows.gamestream --delay 0       # as fast as possible
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from prefect import flow, get_run_logger

from boxscore.replay import replay_frames
from boxscore.settings import Settings
from tasks.reference import read_seed, reset_reference
from tasks.stream import write_stream

SEED_DIR = Path(__file__).resolve().parents[1] / "data" / "seed"
RECORDED_GAME = SEED_DIR / "game_events.txt"


@flow(name="gamestream")
def gamestream(delay: float = 0.25, events_file: str = str(RECORDED_GAME), reset_tables: bool = True) -> int:
    """Reset ``teams``/``players`` to the seed data, then rewrite the stream at every event.

    ``delay`` is real seconds per game second (0 = as fast as possible). Returns the number of
    lines written.
    """
    settings = Settings.from_env()
    logger = get_run_logger()
    if reset_tables:
        reset_reference(settings.sql_url, *read_seed(SEED_DIR))
    frames = list(replay_frames(Path(events_file).read_text()))
    logger.info("replaying %d events into %s at %.3g s per game second", len(frames), settings.gamestream_url, delay)
    for number, frame in enumerate(frames, start=1):
        if delay > 0 and frame.wait_game_seconds:
            time.sleep(frame.wait_game_seconds * delay)
        write_stream(settings.gamestream_url, frame.text, settings.storage_options)
        if number % 10 == 0 or number == len(frames):
            logger.info("wrote %d/%d events", number, len(frames))
    return len(frames)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--delay", type=float, default=0.25, help="real seconds per game second (0 = no waiting)")
    parser.add_argument("--events-file", default=str(RECORDED_GAME))
    parser.add_argument("--keep-tables", action="store_true", help="do not reset teams/players to the seed data")
    args = parser.parse_args()
    gamestream(delay=args.delay, events_file=args.events_file, reset_tables=not args.keep_tables)
