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


@dataclass(frozen=True)
class Write:
    """At ``at`` game seconds since the replay began, the stream of ``game_id`` becomes ``text``."""

    at: int
    game_id: str
    text: str


def replay_schedule(recordings: dict[str, str], stagger: int = 0) -> list[Write]:
    """Every frame of every game on one timeline; game ``i`` (in id order) starts ``i * stagger`` later.

    Ties keep game order, so interleaving is deterministic.
    """
    writes = []
    for index, game_id in enumerate(sorted(recordings)):
        elapsed = index * stagger
        for frame in replay_frames(recordings[game_id]):
            elapsed += frame.wait_game_seconds
            writes.append(Write(elapsed, game_id, frame.text))
    return sorted(writes, key=lambda write: write.at)


def replay_rounds(schedule: list[Write]) -> list[list[Write]]:
    """The schedule as rounds of writes sent together: same moment, at most one write per game.

    Writes due at the same game second go out at once (concurrently, as independent feeds
    would), but two frames of one game stay in order, each in its own round, so a reader can
    still see every frame.
    """
    rounds: list[list[Write]] = []
    moment_start = 0
    for write in schedule:
        if rounds and rounds[-1][0].at != write.at:
            moment_start = len(rounds)
        for candidate in rounds[moment_start:]:
            if all(other.game_id != write.game_id for other in candidate):
                candidate.append(write)
                break
        else:
            rounds.append([write])
    return rounds
