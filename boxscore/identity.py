"""Which game a stream holds: every box score belongs to a game with an id.

One stream object carries one game after another. A game's id is ``GAME_ID`` when the user
gives one; otherwise it is derived from the stream:

- the id of a new game is ``g`` + the first 12 hex digits of the SHA-256 of its first line,
  with ``-2``, ``-3`` ... when an earlier, different game on the collection opened with the same
  line (two games may open alike, so the line alone is not an identity);
- the stream still holds the *current* game while its first line is the current game's and the
  current game is not final (a restart, or a correction of a line) or became final less than
  ``settle_seconds`` ago (a scorer's correction), or while its lines and the current game's final
  lines agree where they overlap (a restart after the final, a replay of it, or a line appended);
- otherwise a finished game whose final lines agree with the stream where they overlap is being
  replayed, and keeps its id; any other stream is a new game, since a final game never becomes
  live again.

The rules see the stream's complete lines (at most :data:`IDENTITY_BYTES` of them: a longer
stream is identified by its start) and the records of the games seen before, newest first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from boxscore.events import parse_line
from boxscore.games import GAME_ID

#: How much of a stream its identity looks at (a lacrosse game is a few KiB).
IDENTITY_BYTES = 4 * 2**20


class BadGameId(ValueError):
    """A game id that keys, URLs or Prefect artifacts cannot take."""


def checked_game_id(game_id: str) -> str:
    """The id if it follows :data:`GAME_ID`; otherwise a message that says the rule."""
    if not GAME_ID.fullmatch(game_id):
        raise BadGameId(
            f"game id {game_id!r} is not valid: use 1 to 64 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )
    return game_id


@dataclass(frozen=True)
class GameRecord:
    """What identifies a game seen on a stream: its first line and its lines so far (or final)."""

    game_id: str
    first_line: str
    lines: bytes
    final: bool = False
    finalized: bool = False


@dataclass(frozen=True)
class Identity:
    """The game a stream holds; ``new`` when it is not the current game (archive the current one)."""

    game_id: str
    new: bool


def _first_nonblank(lines: bytes) -> str | None:
    for raw in lines.split(b"\n"):
        line = raw.decode(errors="replace").strip(" \t\r\f\v")
        if line:
            return line
    return None


def first_line(lines: bytes) -> str | None:
    """The stream's first non-blank line, stripped, if it is an event line; ``None`` otherwise."""
    line = _first_nonblank(lines)
    return line if line is not None and parse_line(line) is not None else None


def opening(lines: bytes) -> str | None:
    """The first non-blank line, whatever it holds (for the message when it is not an event)."""
    line = _first_nonblank(lines)
    return None if line is None else line[:120]


def derived_id(line: str, taken: set[str]) -> str:
    """``g`` + 12 hex digits of the first line's SHA-256; ``-2``, ``-3`` ... when taken."""
    base = "g" + hashlib.sha256(line.encode()).hexdigest()[:12]
    game_id, n = base, 1
    while game_id in taken:
        n += 1
        game_id = f"{base}-{n}"
    return game_id


def _agree(a: bytes, b: bytes) -> bool:
    """The two agree where they overlap: one is the start of the other."""
    return a.startswith(b) or b.startswith(a)


def identify(
    lines: bytes, records: Sequence[GameRecord], given: str | None = None, settling: bool = False
) -> Identity | None:
    """The game the stream's complete ``lines`` hold, given the games seen before (newest first).

    ``settling``: the current game became final less than ``settle_seconds`` ago, so a change
    with its first line is a scorer's correction of it, not a new game. ``None`` while the stream
    has no first event line: nothing may be written under a guess.
    """
    current = records[0] if records else None
    if given is not None:
        return Identity(given, current is None or current.game_id != given)
    head = lines[:IDENTITY_BYTES]
    line = first_line(head)
    if line is None:
        return None
    if (
        current is not None
        and current.first_line == line
        and (not current.final or settling or _agree(current.lines, head))
    ):
        return Identity(current.game_id, False)
    for record in records[1:]:
        if record.final and record.first_line == line and _agree(record.lines, head):
            return Identity(record.game_id, True)
    return Identity(derived_id(line, {record.game_id for record in records}), True)
