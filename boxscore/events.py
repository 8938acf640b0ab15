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
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

SENTINEL_EVENT_ID = -1
CLOCK_MARK_TEAM = 0
FINAL_CLOCK = "00:00"
GAME_LENGTH_SECONDS = 60 * 60
MAX_EXAMPLES = 5


@dataclass(frozen=True)
class Digits:
    """A field of ``shortest`` to ``longest`` ASCII digits, after a ``-`` where ``signed``.

    The line parser matches the :meth:`pattern`; the vectorised checks test the same shape by the
    field's length and the block's bytes (:func:`clean_block`), with no regular expression.
    """

    shortest: int
    longest: int
    signed: bool = False
    largest: int | None = None  # a one-digit field's largest value (the goal flag)

    def pattern(self) -> str:
        top = "9" if self.largest is None else str(self.largest)
        return ("-?" if self.signed else "") + f"[0-{top}]{{{self.shortest},{self.longest}}}"


#: ``mm:ss``: two digits, a colon, two digits (five bytes: the vectorised checks read it in place)
CLOCK_PATTERN, CLOCK_WIDTH, CLOCK_COLON = "[0-9]{2}:[0-9]{2}", 5, 2
#: What each field may look like: the one declaration of the line's shape, so the line parser's
#: regex and the vectorised checks cannot disagree on a sign, a ``+`` or a padding. At most 18
#: digits, so every id fits an int64.
FIELD_SHAPES: dict[str, Digits | str] = {
    "event_id": Digits(1, 18, signed=True),
    "clock": CLOCK_PATTERN,
    "team": Digits(1, 18),
    "jersey": Digits(1, 3),
    "goal": Digits(1, 1, largest=1),
}
_LINE = re.compile(
    r"[ \t\r\f\v]+".join(
        f"({shape if isinstance(shape, str) else shape.pattern()})" for shape in FIELD_SHAPES.values()
    ),
    re.ASCII,
)
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
    return _equal(clock, FINAL_CLOCK) | (event_id == SENTINEL_EVENT_ID)


def _equal(values: Any, value: Any) -> Any:
    """``values == value``, elementwise for an Arrow column too (a NumPy array of the answers):
    Arrow's ``==`` compares whole columns, and making the column Python strings first would make
    one object per event."""
    if type(values).__module__.startswith("pyarrow"):
        import pyarrow.compute as pc

        return pc.equal(values, value).to_numpy(zero_copy_only=False)
    return values == value


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
    """Build an events frame with the canonical columns and dtypes (also Dask's ``meta``).

    pandas is imported here, not with the module: the live flow's first poll does not need it."""
    import pandas as pd

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
    clean = clean_block(data, teams)
    if clean is None:
        return None
    return ParsedBlock(clean.table.to_pandas().astype(EVENT_DTYPES), path=VECTORISED)


#: The bytes a clean block holds: digits, the two separators, line ends and an event id's sign.
_CLEAN_BYTES = b"0123456789 :-\r\n"


class CleanBlock(NamedTuple):
    """A block in which every line is valid: its events as an Arrow table, and what checking it
    read already as NumPy arrays: the event ids, the teams, and each clock's minutes (the
    quarters are counted from them)."""

    table: pa.Table
    event_id: np.ndarray
    team: np.ndarray
    minutes: np.ndarray


def clean_block(data: bytes, teams: frozenset[int] | None = None) -> CleanBlock | None:
    """The block as a :class:`CleanBlock` if every line in it is valid, else ``None``.

    One pass of cheap byte counts first: no byte outside :data:`_CLEAN_BYTES` (so no tab, ``+``,
    NUL or non-ASCII byte), no lone carriage return (pyarrow would take it for a line end), and a
    ``-`` only where a line starts (an event id's sign). pyarrow then splits the columns at
    single spaces, all as text (so a ``mm:ss`` clock is never a time of day and a ``-0`` is never
    a number) and with no quoting; a tab-free run of spaces or a space at a line's end gives a
    line of another width (pyarrow refuses the block) or an empty field. With those bytes, a
    field of :class:`Digits` holds digits and at most its sign, so its length decides its
    shape; the clocks are read in place as five bytes each, and the block's colons must all be
    theirs. Then the ranges, and the casts. One doubtful byte or value sends the block to
    :func:`parse_lines`, which defines what counts.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    if not data or data.isspace():
        nothing = np.empty(0, np.int64)
        return CleanBlock(_empty_table(), nothing, nothing, nothing)  # blank lines only: nothing to count
    if data.translate(None, _CLEAN_BYTES):
        return None  # a byte no valid line holds
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return None  # a lone carriage return
    if b"-" in data and data.count(b"-") != data.count(b"\n-") + data.startswith(b"-"):
        return None  # a '-' that is not an event id's sign
    try:
        table = pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(column_names=list(EVENT_DTYPES)),
            parse_options=pacsv.ParseOptions(delimiter=" ", quote_char=False),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(EVENT_DTYPES, pa.string())),
        )
    except pa.ArrowInvalid:
        return None  # a line of another width
    clock = clock_digits(table["clock"])
    if clock is None or data.count(b":") != table.num_rows:
        return None  # a clock not mm:ss, or a colon in another field
    minutes, seconds = clock
    columns = {}
    for name, shape in FIELD_SHAPES.items():
        column = table[name]
        if isinstance(shape, Digits):
            digits = pc.binary_length(column).to_numpy()
            if shape.signed:
                digits = digits - pc.starts_with(column, "-").to_numpy()
            if not ((digits >= shape.shortest) & (digits <= shape.longest)).all():
                return None
            if EVENT_DTYPES[name] == "int64":
                column = pc.cast(column, pa.int64())
                if shape.largest is not None and pc.max(column).as_py() > shape.largest:
                    return None
        columns[name] = column
    event_id, team = columns["event_id"].to_numpy(), columns["team"].to_numpy()
    checks = [event_id >= SENTINEL_EVENT_ID, seconds < 60, minutes * 60 + seconds <= GAME_LENGTH_SECONDS]
    if teams is not None:
        checks.append(np.isin(team, sorted(teams | {CLOCK_MARK_TEAM})))
    if not all(check.all() for check in checks):
        return None
    return CleanBlock(pa.table(columns), event_id, team, minutes)


def clock_digits(clock: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray] | None:
    """The minutes and seconds of a column of ``mm:ss`` clocks, read in place; ``None`` if any
    clock is not two digits, a colon and two digits.

    Every clock is :data:`CLOCK_WIDTH` bytes, so a chunk's characters are one run of them: a
    matrix of a row per clock, with no string made.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if not (pc.binary_length(clock).to_numpy() == CLOCK_WIDTH).all():
        return None
    chunks = clock.chunks if isinstance(clock, pa.ChunkedArray) else [clock]
    cells = np.concatenate([_in_place(chunk) for chunk in chunks] or [np.empty((0, CLOCK_WIDTH), np.uint8)])
    values = cells - np.uint8(ord("0"))  # a byte below '0' wraps past 9
    mm, ss = values[:, :CLOCK_COLON], values[:, CLOCK_COLON + 1 :]
    if len(values) and not (mm.max() <= 9 and ss.max() <= 9 and (cells[:, CLOCK_COLON] == ord(":")).all()):
        return None
    return _two_digits(mm), _two_digits(ss)


def _two_digits(values: np.ndarray) -> np.ndarray:
    """The numbers two columns of digits (tens, units) spell, as int64."""
    import numpy as np

    tens: np.ndarray = values[:, 0].astype(np.int64) * 10
    units: np.ndarray = tens + values[:, 1]
    return units


def _in_place(chunk: pa.StringArray) -> np.ndarray:
    """The characters of a chunk of fixed-width strings, a row each (its offsets step by the width)."""
    import numpy as np

    offsets = np.frombuffer(chunk.buffers()[1], np.int32, len(chunk) + 1, chunk.offset * 4)
    if not len(chunk):
        return np.empty((0, CLOCK_WIDTH), np.uint8)
    characters = np.frombuffer(chunk.buffers()[2], np.uint8)
    return characters[offsets[0] : offsets[-1]].reshape(-1, CLOCK_WIDTH)


def _arrow_types() -> dict[str, pa.DataType]:
    """The event schema as Arrow types."""
    import pyarrow as pa

    arrow = {"int64": pa.int64(), "str": pa.string()}
    return {name: arrow[dtype] for name, dtype in EVENT_DTYPES.items()}


def _empty_table() -> pa.Table:
    import pyarrow as pa

    return pa.schema(_arrow_types()).empty_table()
