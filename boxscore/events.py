"""Parsing the game stream: one shot (or clock mark) per line.

A line counts when it has exactly five whitespace-separated fields::

    event_id clock team jersey goal        e.g.  ``12 48:52 101 10 1``

- ``event_id``: an integer; ``-1`` is the end-of-game sentinel,
- ``clock``: ``mm:ss`` between ``00:00`` and ``60:00``, counting down,
- ``team``: an integer team id; ``0`` marks a clock-only line (not a shot),
- ``jersey``: 1 to 3 digits, kept as text because it matches ``players.number``,
- ``goal``: ``0`` (missed shot) or ``1`` (goal).

Anything else is *rejected*: skipped and counted, never fatal, because a live feed is messy and
one bad line must not stop the box score. Blank lines are ignored; CRLF and a missing final
newline are fine.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

SENTINEL_EVENT_ID = -1
CLOCK_MARK_TEAM = 0
GAME_LENGTH_SECONDS = 60 * 60
MAX_EXAMPLES = 5

_LINE = re.compile(r"(-?\d+)\s+(\d\d):(\d\d)\s+(\d+)\s+(\d{1,3})\s+([01])")

EVENT_DTYPES: dict[str, str] = {
    "event_id": "int64",
    "clock": "str",
    "team": "int64",
    "jersey": "str",
    "goal": "int64",
}


@dataclass(frozen=True)
class ParsedBlock:
    """The valid events of a block of lines, in stream order, and what was rejected."""

    events: pd.DataFrame
    rejected: int = 0
    examples: tuple[str, ...] = field(default=())


def events_frame(rows: Iterable[tuple[int, str, int, str, int]] = ()) -> pd.DataFrame:
    """Build an events frame with the canonical columns and dtypes (also Dask's ``meta``)."""
    frame = pd.DataFrame(list(rows), columns=list(EVENT_DTYPES))
    return frame.astype(EVENT_DTYPES)


def clock_seconds(clock: str) -> int:
    """Seconds left on a ``mm:ss`` game clock (``"59:51"`` -> 3591)."""
    minutes, seconds = clock.split(":")
    return int(minutes) * 60 + int(seconds)


def parse_line(line: str, teams: frozenset[int] | None = None) -> tuple[int, str, int, str, int] | None:
    """Parse one stripped, non-blank line; ``None`` when it does not count.

    ``teams`` are the shooting teams of this game: a shot by any other team is rejected, while
    team ``0`` (a clock mark) is always accepted. ``None`` accepts any team id.
    """
    match = _LINE.fullmatch(line)
    if match is None:
        return None
    event_id, minutes, seconds, team, jersey, goal = match.groups()
    event = int(event_id)
    if event < SENTINEL_EVENT_ID or int(seconds) >= 60:
        return None
    if int(minutes) * 60 + int(seconds) > GAME_LENGTH_SECONDS:
        return None
    team_id = int(team)
    if team_id != CLOCK_MARK_TEAM and teams is not None and team_id not in teams:
        return None
    return event, f"{minutes}:{seconds}", team_id, jersey, int(goal)


def parse_block(data: bytes | str, teams: frozenset[int] | None = None) -> ParsedBlock:
    """Parse a block of whole lines (bytes from S3 or text) into events and rejections.

    Undecodable bytes are replaced rather than raised on, so a corrupt byte costs one line.
    """
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    rows: list[tuple[int, str, int, str, int]] = []
    rejected = 0
    examples: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        row = parse_line(line, teams)
        if row is None:
            rejected += 1
            if len(examples) < MAX_EXAMPLES:
                examples.append(line[:120])
        else:
            rows.append(row)
    return ParsedBlock(events_frame(rows), rejected, tuple(examples))
