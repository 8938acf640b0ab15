"""A long stream in blocks: what each clean block adds up to, merged without a shuffle.

De-duplicating by event id in general needs every id in one place (Dask's
``drop_duplicates(split_out=1)`` gathers all rows into one partition). A live feed's ids
increase, though: when each block's real ids strictly increase and the blocks' id ranges do
not overlap, no id repeats (only the ``-1`` sentinel may), and the per-block counts simply add
up (a repeated sentinel is a clock mark, not a shot, so it adds nothing but a duplicate).
:func:`merge_summaries` checks exactly that and returns ``None`` otherwise, so the caller
falls back to the exact de-duplicating path.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import numpy as np

from boxscore.events import CleanBlock, clean_block, ends_game, is_real_event, is_shot
from boxscore.periods import quarters_of_minutes
from boxscore.scoring import Goal, GoalColumns
from boxscore.tally import Quality, QuarterCounts, ShotCounts, Tally, add_shots

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True)
class BlockSummary:
    """One clean block whose real event ids strictly increase: its id range and its counts."""

    first: int | None  # smallest real event id (None: no real event)
    last: int | None
    last_clock: str | None  # the clock of ``last``
    sentinels: int
    final: bool
    shots: ShotCounts
    quarters: QuarterCounts
    goals: GoalColumns


def summarise_block(data: bytes, teams: frozenset[int] | None = None) -> BlockSummary | None:
    """The summary of a block of whole lines, or ``None`` if it is not clean or not increasing."""
    clean = clean_block(data, teams)
    return None if clean is None else summarise_table(clean)


def summarise_table(clean: CleanBlock) -> BlockSummary | None:
    """What a clean block adds up to, counted in Arrow and NumPy: no Python object per event."""
    table, ids, teams = clean.table, clean.event_id, clean.team
    is_real = is_real_event(ids)
    real = np.flatnonzero(is_real)
    if not (np.diff(ids[real]) > 0).all():  # ids rising (no diff at all for 0 or 1 event)
        return None
    sentinels = len(ids) - len(real)
    if sentinels and is_shot(teams[~is_real]).any():
        return None  # a shot on the sentinel id: whether it counts depends on order, so be exact
    final = bool(ends_game(ids, table["clock"]).any())
    shot = is_shot(teams)
    taken = table.filter(shot)
    quarter = quarters_of_minutes(clean.minutes[shot])
    shots, quarters, goals = (
        _counts(taken, "jersey"),
        _counts(taken.append_column("quarter", [quarter]), "quarter"),
        _goals(taken),
    )
    if not len(real):
        return BlockSummary(None, None, None, sentinels, final, shots, quarters, goals)
    last = int(real[-1])
    clock = table["clock"][last].as_py()
    return BlockSummary(int(ids[real[0]]), int(ids[last]), clock, sentinels, final, shots, quarters, goals)


def _counts(shots: pa.Table, by: str) -> dict[tuple[Any, Any], tuple[int, int]]:
    """(shots, goals) per team and ``by`` (jersey or quarter), grouped in Arrow."""
    grouped = shots.group_by(["team", by]).aggregate([("goal", "count"), ("goal", "sum")])
    # a few dozen rows (a team's jerseys or quarters): one dict each costs nothing here
    return {(row["team"], row[by]): (row["goal_count"], row["goal_sum"]) for row in grouped.to_pylist()}


def _goals(shots: pa.Table) -> GoalColumns:
    """The block's goals as Arrow columns, in event order already (a summarised block's real ids
    strictly increase): a long stream's million goals stay four arrays until a page reads them."""
    import pyarrow.compute as pc

    scored = shots.filter(pc.equal(shots["goal"], 1))
    return GoalColumns(*(scored[name].combine_chunks() for name in Goal._fields))


def _first_id(part: BlockSummary) -> int:
    """Where a block's goals go: a block without a real event has none, so any place will do."""
    return part.first or 0


def merge_summaries(parts: list[BlockSummary | None]) -> Tally | None:
    """The tally of the whole stream from its blocks' summaries; ``None`` if an id may repeat."""
    known = [part for part in parts if part is not None]
    if len(known) < len(parts):
        return None
    spans = sorted((part.first, part.last) for part in known if part.first is not None and part.last is not None)
    if any(later[0] <= earlier[1] for earlier, later in pairwise(spans)):
        return None
    shots: dict[tuple[int, str], tuple[int, int]] = {}
    quarters: dict[tuple[int, int], tuple[int, int]] = {}
    for part in known:
        add_shots(shots, part.shots)
        add_shots(quarters, part.quarters)
    tops = [(part.last, part.last_clock) for part in known if part.last is not None]
    top = max(tops, default=None)
    sentinels = sum(part.sentinels for part in known)
    return Tally(
        top[0] if top else None,
        top[1] if top else None,
        any(part.final for part in known),
        shots,
        Quality(0, max(0, sentinels - 1)),
        quarters,
        # the blocks' id spans do not overlap: in the order of their first ids, their goals are in order
        GoalColumns.joined(part.goals for part in sorted(known, key=_first_id)),
    )
