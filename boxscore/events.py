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
from functools import cached_property
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    import pyarrow as pa

SENTINEL_EVENT_ID = -1
CLOCK_MARK_TEAM = 0
FINAL_CLOCK = "00:00"
GAME_LENGTH_SECONDS = 60 * 60
MAX_EXAMPLES = 5

# ASCII digits and spaces only; at most 18 digits so every id fits an int64.
#: What each field may look like (ASCII digits only; at most 18 digits so every id fits an int64).
#: The one declaration of the line's shape: the line parser's regex and the vectorised checks
#: are both built from it, so the two paths cannot disagree on a sign, a ``+`` or a padding.
FIELD_SHAPES: dict[str, str] = {
    "event_id": r"-?[0-9]{1,18}",
    "clock": r"[0-9]{2}:[0-9]{2}",
    "team": r"[0-9]{1,18}",
    "jersey": r"[0-9]{1,3}",
    "goal": r"[01]",
}
_LINE = re.compile(r"[ \t\r\f\v]+".join(f"({shape})" for shape in FIELD_SHAPES.values()), re.ASCII)
_ASCII_SPACE = " \t\r\f\v"

#: The five fields of a line, in order, and their pandas dtypes: the one declaration of the
#: event schema (Arrow types, Dask's ``meta`` and the empty table are derived from it).
EVENT_DTYPES: dict[str, str] = {
    "event_id": "int64",
    "clock": "str",
    "team": "int64",
    "jersey": "str",
    "goal": "int64",
}


# The rules below are written with ``==``, ``!=``, ``>`` and ``|`` only, so each one applies to a
# single value, a numpy array, a pandas Series or a Dask Series alike: one owner per rule.


def is_shot(team: Any) -> Any:
    """A line by a team is a shot; team ``0`` marks the clock only."""
    return team != CLOCK_MARK_TEAM


def is_real_event(event_id: Any) -> Any:
    """Every event id but the end-of-game sentinel orders the game (the latest event is the largest)."""
    return event_id > SENTINEL_EVENT_ID


def ends_game(event_id: Any, clock: Any) -> Any:
    """The game is final once an event has the clock at ``00:00`` or the sentinel id."""
    return (clock == FINAL_CLOCK) | (event_id == SENTINEL_EVENT_ID)


Row = tuple[int, str, int, str, int]

#: Blocks shorter than this skip pyarrow: a live tick's few new lines are parsed and folded as
#: plain tuples, since building a DataFrame costs more than the lines themselves.
SMALL_BLOCK_BYTES = 16 * 1024
#: The two paths a block is parsed on, as :attr:`ParsedBlock.path` reports the one it took.
VECTORISED, LINES = "vectorised", "line"


@dataclass(frozen=True)
class ParsedBlock:
    """The valid events of a block of lines, in stream order, and what was rejected.

    Held either as a DataFrame (``frame``, the vectorised path) or as plain ``rows`` (the line
    path); ``events`` is always the DataFrame, built from the rows on first use.
    """

    frame: pd.DataFrame | None = None
    rejected: int = 0
    examples: tuple[str, ...] = field(default=())
    rows: list[Row] | None = None
    #: the path this block was parsed on (:data:`VECTORISED` or :data:`LINES`), as the parser took
    #: it: what the tests and the benchmarks count, rather than guessing from the input
    path: str = field(default=LINES, compare=False)

    @cached_property
    def events(self) -> pd.DataFrame:
        return self.frame if self.frame is not None else events_frame(self.rows or ())

    def __len__(self) -> int:
        return len(self.rows) if self.rows is not None else len(self.events)


def events_frame(rows: Iterable[Row] = ()) -> pd.DataFrame:
    """Build an events frame with the canonical columns and dtypes (also Dask's ``meta``)."""
    frame = pd.DataFrame(list(rows), columns=list(EVENT_DTYPES))
    return frame.astype(EVENT_DTYPES)


def clock_seconds(clock: str) -> int:
    """Seconds left on a ``mm:ss`` game clock (``"59:51"`` -> 3591)."""
    minutes, seconds = clock.split(":")
    return int(minutes) * 60 + int(seconds)


def parse_line(line: str, teams: frozenset[int] | None = None) -> Row | None:
    """Parse one stripped, non-blank line; ``None`` when it does not count.

    ``teams`` are the shooting teams of this game: a shot by any other team is rejected, while
    team ``0`` (a clock mark) is always accepted. ``None`` accepts any team id.
    """
    match = _LINE.fullmatch(line)
    if match is None:
        return None
    event_id, clock, team, jersey, goal = match.groups()
    minutes, seconds = clock.split(":")
    event = int(event_id)
    if event < SENTINEL_EVENT_ID or int(seconds) >= 60:
        return None
    if int(minutes) * 60 + int(seconds) > GAME_LENGTH_SECONDS:
        return None
    team_id = int(team)
    if is_shot(team_id) and teams is not None and team_id not in teams:
        return None
    return event, f"{minutes}:{seconds}", team_id, jersey, int(goal)


def parse_block(data: bytes | str, teams: frozenset[int] | None = None) -> ParsedBlock:
    """Parse a block of whole lines (bytes from S3 or text) into events and rejections.

    A large clean block (single spaces, every line valid) takes a vectorised pyarrow path; a
    small one, or anything else, takes the line-by-line reference path, which defines the semantics (the two are
    checked equal on arbitrary input by tests/unit/test_events.py).
    """
    if isinstance(data, bytes) and len(data) >= SMALL_BLOCK_BYTES:
        fast = parse_clean_block(data, teams)
        if fast is not None:
            return fast
    return parse_lines(data, teams)


def parse_lines(data: bytes | str, teams: frozenset[int] | None = None) -> ParsedBlock:
    """The reference parser, line by line.

    Undecodable bytes are replaced rather than raised on, so a corrupt byte costs one line.
    """
    text = data.decode(errors="replace") if isinstance(data, bytes) else data
    rows: list[Row] = []
    rejected = 0
    examples: list[str] = []
    for raw in text.split("\n"):
        line = raw.strip(_ASCII_SPACE)
        if not line:
            continue
        row = parse_line(line, teams)
        if row is None:
            rejected += 1
            if len(examples) < MAX_EXAMPLES:
                examples.append(line[:120])
        else:
            rows.append(row)
    return ParsedBlock(None, rejected, tuple(examples), rows)


def parse_clean_block(data: bytes, teams: frozenset[int] | None = None) -> ParsedBlock | None:
    """Vectorised parse of a block in which every line is valid; ``None`` for any other block."""
    table = clean_table(data, teams)
    if table is None:
        return None
    return ParsedBlock(table.to_pandas().astype(EVENT_DTYPES), path=VECTORISED)


def clean_table(data: bytes, teams: frozenset[int] | None = None) -> pa.Table | None:
    """The block as an Arrow table if every line in it is valid, else ``None``.

    pyarrow splits the columns at single spaces, all as text (so a ``mm:ss`` clock is never a
    time of day and a ``-0`` or ``+1`` is never a number) and with no quoting (a ``"`` is a byte
    like any other); then every field is checked against :data:`FIELD_SHAPES` and the ranges
    with vectorised compute functions, and cast. Whatever the line parser would read otherwise
    fails one of these: a tab, a run of spaces or a space at a line's end or start gives a line
    of another width (pyarrow refuses the block) or an empty field (its shape fails), and a lone
    carriage return, which pyarrow would take for a line end, is refused first. So one doubtful
    byte or value sends the block to :func:`parse_lines`.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    if not data.strip():
        return _empty_table()  # blank lines only: nothing to count, on either path
    if data.count(b"\r") != data.count(b"\r\n"):
        return None  # a lone carriage return
    try:
        table = pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(column_names=list(EVENT_DTYPES)),
            parse_options=pacsv.ParseOptions(delimiter=" ", quote_char=False),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(EVENT_DTYPES, pa.string())),
        )
    except pa.ArrowInvalid:
        return None  # a line of another width, or bytes that are not UTF-8
    shapes = (pc.match_substring_regex(table[name], f"^{shape}$") for name, shape in FIELD_SHAPES.items())
    if not all(pc.all(check).as_py() for check in shapes):
        return None
    clock = table["clock"]
    minutes = pc.cast(pc.utf8_slice_codeunits(clock, 0, 2), pa.int64())
    seconds = pc.cast(pc.utf8_slice_codeunits(clock, 3), pa.int64())  # the shape checked: 2 digits
    event_id, team = pc.cast(table["event_id"], pa.int64()), pc.cast(table["team"], pa.int64())
    in_game = pc.less_equal(pc.add(pc.multiply(minutes, 60), seconds), GAME_LENGTH_SECONDS)
    checks = [pc.greater_equal(event_id, SENTINEL_EVENT_ID), pc.less(seconds, 60), in_game]
    if teams is not None:
        checks.append(pc.is_in(team, value_set=pa.array(sorted(teams | {CLOCK_MARK_TEAM}))))
    if not all(pc.all(check).as_py() for check in checks):
        return None
    goal = pc.cast(table["goal"], pa.int64())
    return pa.table({"event_id": event_id, "clock": clock, "team": team, "jersey": table["jersey"], "goal": goal})


def _arrow_types() -> dict[str, pa.DataType]:
    """The event schema as Arrow types."""
    import pyarrow as pa

    arrow = {"int64": pa.int64(), "str": pa.string()}
    return {name: arrow[dtype] for name, dtype in EVENT_DTYPES.items()}


def _empty_table() -> pa.Table:
    import pyarrow as pa

    return pa.schema(_arrow_types()).empty_table()
