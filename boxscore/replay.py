"""How the game-stream simulator replays a recorded game: what to write, and when."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from boxscore.events import GAME_LENGTH_SECONDS, clock_seconds, parse_line


@dataclass(frozen=True)
class Frame:
    """The stream object after one more event, and the game seconds since the previous frame."""

    wait_game_seconds: int
    text: str


def replay_frames(recording: str) -> Iterator[Frame]:
    """One frame per line: the whole object so far, as the live feed rewrites it at each event.

    The game clock counts down from 60:00, so the wait before a line is the clock time that
    passed since the previous one. A line without a readable clock is written without waiting.
    """
    lines = recording.splitlines(keepends=True)
    previous = GAME_LENGTH_SECONDS
    for index, line in enumerate(lines):
        parsed = parse_line(line.strip())
        wait = 0
        if parsed is not None:
            remaining = clock_seconds(parsed[1])
            wait, previous = max(previous - remaining, 0), remaining
        yield Frame(wait, "".join(lines[: index + 1]))
