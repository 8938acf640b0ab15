"""Running aggregates of a stream, so a tick reads only the bytes that changed.

A :class:`RunningTally` holds what the complete lines up to ``offset`` add up to, plus the
event ids seen (as intervals: a live feed's ids are sequential, so this stays tiny).
:func:`advance` brings it up to a new version of the object: it reads from just before the
offset, checks that the object still continues what was folded, and folds the new lines;
when the object shrank, its last folded line changed, or the new part does not continue the
event sequence (a rewrite or correction), it starts over with a full read. Either way the
result equals a full recompute (tests/unit/test_running.py checks it on random histories).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, NamedTuple

from boxscore.events import (
    MAX_EXAMPLES,
    SENTINEL_EVENT_ID,
    ParsedBlock,
    Row,
    clock_seconds,
    ends_game,
    is_real_event,
    is_shot,
    parse_block,
)
from boxscore.periods import quarter_of, quarters_of
from boxscore.scoring import Goal
from boxscore.tally import Quality, Tally, add_shots, goal_columns, in_event_order

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

#: Read bytes [start, end) of the stream object.
Reader = Callable[[int, int], bytes]


#: Event ids seen, as sorted inclusive intervals.
Intervals = list[tuple[int, int]]


def id_runs(ids: np.ndarray) -> Intervals:
    """Sorted unique ids as inclusive intervals: [0, 1, 2, 5] -> [(0, 2), (5, 5)]."""
    import numpy as np

    if not len(ids):
        return []
    ids = np.unique(ids)
    breaks = np.flatnonzero(np.diff(ids) != 1)
    starts = np.concatenate(([ids[0]], ids[breaks + 1]))
    ends = np.concatenate((ids[breaks], [ids[-1]]))
    return [(int(a), int(b)) for a, b in np.column_stack((starts, ends))]


def events_in(tally: RunningTally | None) -> int:
    """How many distinct event ids a tally has folded (none for no tally)."""
    return sum(hi - lo + 1 for lo, hi in tally.seen) if tally is not None else 0


def union_runs(a: Intervals, b: Intervals) -> Intervals:
    """The intervals covering both ``a`` and ``b``."""
    merged: Intervals = []
    for lo, hi in sorted(a + b):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


def _seen(intervals: Intervals, ids: np.ndarray) -> np.ndarray:
    import numpy as np

    mask = np.zeros(len(ids), dtype=bool)
    for lo, hi in intervals:
        mask |= (ids >= lo) & (ids <= hi)
    return mask


class _Counted(NamedTuple):
    """What one block adds to a running tally."""

    shots: dict[tuple[int, str], tuple[int, int]]
    quarters: dict[tuple[int, int], tuple[int, int]]
    goals: Sequence[Goal]  # the new goals, in event-id order
    top: tuple[int, str] | None  # the largest new real event id and its clock
    final: bool
    ids: np.ndarray  # the new (not duplicate) event ids
    duplicates: int


@dataclass(frozen=True)
class RunningTally:
    """The tally of the complete lines in bytes [0, offset) of a stream."""

    offset: int = 0
    last_line: bytes = b""  # the last complete line folded, re-read to detect a rewrite
    seen: Intervals = field(default_factory=list)
    shots: dict[tuple[int, str], tuple[int, int]] = field(default_factory=dict)
    quarters: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)
    goals: Sequence[Goal] = ()
    latest: tuple[int, str] | None = None
    final: bool = False
    rejected: int = 0
    duplicates: int = 0
    examples: tuple[str, ...] = ()

    @property
    def max_id(self) -> int:
        """The largest real event id folded (-1 before any)."""
        return self.latest[0] if self.latest else -1

    def fold(self, block: ParsedBlock, consumed: bytes = b"") -> RunningTally:
        """Add a block of lines that follows what was folded; ``consumed`` are its bytes."""
        new = self._count_rows(block.rows) if block.rows is not None else self._count_frame(block.events)
        latest = self.latest if new.top is None or (self.latest and self.latest[0] >= new.top[0]) else new.top
        return replace(
            self,
            offset=self.offset + len(consumed),
            last_line=last_line(consumed) or self.last_line,
            seen=union_runs(self.seen, id_runs(new.ids)),
            latest=latest,
            final=self.final or new.final,
            **self._added(new.shots, new.quarters, new.goals, block.rejected, new.duplicates, block.examples),
        )

    def _added(
        self,
        shots: Mapping[tuple[int, str], tuple[int, int]],
        quarters: Mapping[tuple[int, int], tuple[int, int]],
        goals: Sequence[Goal],
        rejected: int,
        duplicates: int,
        examples: tuple[str, ...],
    ) -> dict[str, Any]:
        """The counts of this tally with those of the lines after the ones it counted added."""
        added_shots, added_quarters = dict(self.shots), dict(self.quarters)
        add_shots(added_shots, shots)
        add_shots(added_quarters, quarters)
        return {
            "shots": added_shots,
            "quarters": added_quarters,
            "goals": _after(self.goals, goals),
            "rejected": self.rejected + rejected,
            "duplicates": self.duplicates + duplicates,
            "examples": (self.examples + examples)[:MAX_EXAMPLES],
        }

    def cursor(self) -> RunningTally:
        """Where this tally stands, without its counts: all :func:`advance` needs to continue it.

        A tick sends each changed game's cursor to a Dask worker rather than its counts, which
        grow with the players and the goals and are pickled both ways; :meth:`Progress.onto`
        adds the counts back to what the worker folded.
        """
        return replace(self, shots={}, quarters={}, goals=(), rejected=0, duplicates=0, examples=())

    @classmethod
    def of(cls, tally: Tally, offset: int, last: bytes, seen: Intervals) -> RunningTally:
        """The state of complete lines tallied elsewhere (in parallel, on a Dask dataframe).

        ``offset`` and ``last`` are where those lines end and the last of them, ``seen`` the
        runs of their distinct event ids: what a later :func:`advance` continues from.
        """
        quality = tally.quality
        latest = None if tally.last_event_id is None or tally.clock is None else (tally.last_event_id, tally.clock)
        return cls(
            offset,
            last,
            seen,
            dict(tally.shots),
            dict(tally.quarters),
            tally.goals,
            latest,
            tally.final,
            quality.rejected,
            quality.duplicates,
            quality.examples,
        )

    def _count_frame(self, events: pd.DataFrame) -> _Counted:
        """What a block adds, vectorised (a first read of a long stream)."""
        ids = events["event_id"].to_numpy()
        keep = ~(events["event_id"].duplicated(keep="first").to_numpy() | _seen(self.seen, ids))
        new = events[keep]
        taken = new[is_shot(new["team"])]
        counted = taken.groupby(["team", "jersey"])["goal"].agg(["count", "sum"])
        shots = {
            (int(team), str(jersey)): (int(row["count"]), int(row["sum"])) for (team, jersey), row in counted.iterrows()
        }
        by_quarter = taken.assign(quarter=quarters_of(taken["clock"])).groupby(["team", "quarter"])["goal"]
        quarters = {
            (int(team), int(quarter)): (int(row["count"]), int(row["sum"]))
            for (team, quarter), row in by_quarter.agg(["count", "sum"]).iterrows()
        }
        goals = goal_columns(taken[taken["goal"] == 1])
        real = new[is_real_event(new["event_id"])]
        top = None
        if len(real):
            row = real.loc[real["event_id"].idxmax()]
            top = (int(row["event_id"]), str(row["clock"]))
        final = bool(ends_game(new["event_id"], new["clock"]).any())
        return _Counted(shots, quarters, goals, top, final, new["event_id"].to_numpy(), int((~keep).sum()))

    def _count_rows(self, rows: list[Row]) -> _Counted:
        """What a block adds, line by line (a tick's few new lines: cheaper than a DataFrame)."""
        import numpy as np

        shots: dict[tuple[int, str], tuple[int, int]] = {}
        quarters: dict[tuple[int, int], tuple[int, int]] = {}
        goals: list[Goal] = []
        top, final, kept, duplicates = None, False, set(), 0
        for event_id, clock, team, jersey, goal in rows:
            if event_id in kept or any(lo <= event_id <= hi for lo, hi in self.seen):
                duplicates += 1
                continue
            kept.add(event_id)
            if is_shot(team):
                count, scored = shots.get((team, jersey), (0, 0))
                shots[(team, jersey)] = (count + 1, scored + goal)
                quarter = (team, quarter_of(clock_seconds(clock)))
                count, scored = quarters.get(quarter, (0, 0))
                quarters[quarter] = (count + 1, scored + goal)
                if goal:
                    goals.append(Goal(event_id, clock, team, jersey))
            if is_real_event(event_id) and (top is None or event_id > top[0]):
                top = (event_id, clock)
            final = final or ends_game(event_id, clock)
        ids = np.fromiter(kept, dtype=np.int64, count=len(kept))
        return _Counted(shots, quarters, in_event_order(goals), top, final, ids, duplicates)

    def tally(self, tail: ParsedBlock | None = None) -> Tally:
        """The :class:`Tally` of the whole object: the folded lines plus an unterminated last line."""
        state = self.fold(tail) if tail is not None and (len(tail) or tail.rejected) else self
        quality = Quality(state.rejected, state.duplicates, state.examples)
        clock = state.latest[1] if state.latest else None
        latest = state.max_id if state.latest else None
        return Tally(latest, clock, state.final, state.shots, quality, state.quarters, state.goals)


def _after(goals: Sequence[Goal], new: Sequence[Goal]) -> Sequence[Goal]:
    """Goals so far and a block's new ones, in event-id order (a live feed's come after: no sort)."""
    if not new:
        return goals
    if not goals:
        return new
    if new[0].event_id > goals[-1].event_id:
        return tuple(goals) + tuple(new)
    return in_event_order((*goals, *new))


@dataclass(frozen=True)
class Progress:
    """The outcome of one :func:`advance`: the new state, the unterminated tail and how it was read."""

    state: RunningTally
    tail: ParsedBlock
    full_read: bool
    bytes_read: int
    #: the complete lines folded by this step (all of them after a full read), at most
    #: ``keep`` bytes: what the game's identity is decided on
    lines: bytes = b""
    #: the parse path of each block of complete lines this step folded, as the parser reported it
    #: (one block for a read here, one per Dask block for a whole read)
    paths: tuple[str, ...] = field(default=(), compare=False)

    def tally(self) -> Tally:
        return self.state.tally(self.tail)

    def onto(self, before: RunningTally | None) -> Progress:
        """This progress, made by :func:`advance` from ``before.cursor()``, as if made from ``before``.

        A full read counted everything itself; otherwise the new lines' counts go on top of
        ``before``'s, exactly as :meth:`RunningTally.fold` would have added them.
        """
        if self.full_read or before is None:
            return self
        new = self.state
        counts = before._added(new.shots, new.quarters, new.goals, new.rejected, new.duplicates, new.examples)
        return replace(self, state=replace(new, **counts))


def split_lines(data: bytes) -> tuple[bytes, bytes]:
    """(complete lines, unterminated last line)."""
    cut = data.rfind(b"\n") + 1
    return data[:cut], data[cut:]


def last_line(complete: bytes) -> bytes:
    """The last of these complete lines (empty if there is none): re-read to detect a rewrite."""
    return complete[:-1].rpartition(b"\n")[2] + b"\n" if complete else b""


def full_read(read: Reader, size: int, teams: frozenset[int] | None, keep: int = 0) -> Progress:
    """Tally the whole object from scratch; ``keep`` bytes of its complete lines come back too."""
    complete, partial = split_lines(read(0, size) if size else b"")
    block = parse_block(complete, teams)
    state = RunningTally().fold(block, complete)
    return Progress(state, parse_block(partial, teams), True, size, complete[:keep], (block.path,))


def _first_event(block: ParsedBlock) -> int | None:
    if not len(block):
        return None
    return block.rows[0][0] if block.rows is not None else int(block.events["event_id"].iloc[0])


def starts_over(state: RunningTally | None, size: int) -> bool:
    """Whether a read of ``size`` bytes is a full one from the start: a first read, or a shrunk object."""
    return state is None or size <= state.offset


@dataclass(frozen=True)
class Rewritten:
    """:func:`advance` found the object rewritten and too big to read again in full where it runs."""

    size: int


def resume_at(state: RunningTally) -> int:
    """Where the next read of a stream this tally continues starts: at its last folded line, which
    the read checks is still there (:func:`advance`)."""
    return state.offset - len(state.last_line)


def next_range(state: RunningTally | None, size: int) -> tuple[int, int]:
    """The bytes :func:`advance` reads first: from the last folded line on, or all of them.

    All of them on a first read, or when the object shrank or was rewritten in place.
    """
    if state is None or starts_over(state, size):
        return 0, size
    return resume_at(state), size


def advance(
    state: RunningTally | None,
    read: Reader,
    size: int,
    teams: frozenset[int] | None,
    keep: int = 0,
    dask_block_bytes: int | None = None,
) -> Progress | Rewritten:
    """Bring ``state`` up to the object's current ``size``, reading only the new bytes if it can.

    ``keep``: how many bytes of the newly folded complete lines to return (:attr:`Progress.lines`).
    ``dask_block_bytes``: a full read of at least this many bytes is not made here; :class:`Rewritten`
    says it is needed (the live flow then reads the object in parallel, as its own task run).
    """

    def again() -> Progress | Rewritten:
        if dask_block_bytes is not None and size >= dask_block_bytes:
            return Rewritten(size)
        return full_read(read, size, teams, keep)

    if state is None or starts_over(state, size):
        return again()
    start, _ = next_range(state, size)
    data = read(start, size)
    if not data.startswith(state.last_line):
        return again()  # the last folded line changed: a correction
    new = data[len(state.last_line) :]
    complete, partial = split_lines(new)
    block, tail = parse_block(complete, teams), parse_block(partial, teams)
    first = _first_event(block) if len(block) else _first_event(tail)
    if first is not None and first not in (state.max_id + 1, SENTINEL_EVENT_ID):
        return again()  # the new part does not continue the event sequence
    return Progress(state.fold(block, complete), tail, False, len(data), complete[:keep], (block.path,))
