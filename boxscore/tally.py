"""Shots and goals per player, and where the game stands, from parsed events.

The same expressions run on a pandas frame (tests, small games) and on a Dask dataframe (the
live flow computes them on the cluster): :func:`tally_parts` only uses operations both share,
and :func:`assemble_tally` turns the small computed results into a :class:`Tally`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from boxscore.events import MAX_EXAMPLES, ParsedBlock, ends_game, is_real_event, is_shot

#: (team id, jersey) -> (shots, goals)
ShotCounts = Mapping[tuple[int, str], tuple[int, int]]


def add_shots(into: dict[tuple[int, str], tuple[int, int]], more: ShotCounts) -> None:
    """Add ``more`` (shots, goals) per team and jersey into ``into``."""
    for key, (shots, goals) in more.items():
        before = into.get(key, (0, 0))
        into[key] = (before[0] + shots, before[1] + goals)


@dataclass(frozen=True)
class Quality:
    """What the feed got wrong so far: visible in the box score, never fatal."""

    rejected: int = 0
    duplicates: int = 0
    examples: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Tally:
    """Everything a box score needs from the stream, before joining the roster."""

    last_event_id: int | None
    clock: str | None
    final: bool
    shots: ShotCounts
    quality: Quality = field(default_factory=Quality)

    def team_totals(self, team: int) -> tuple[int, int]:
        """(shots, goals) of one team, whoever on it took them."""
        counts = [value for (team_id, _), value in self.shots.items() if team_id == team]
        return sum(s for s, _ in counts), sum(g for _, g in counts)


def tally_parts(unique: Any) -> tuple[Any, Any, Any]:
    """Lazy pieces of a tally; ``unique`` is a pandas or Dask frame of de-duplicated events.

    Returns (shot counts per team and jersey, the row of the latest event, the final flag).
    """
    shots = unique[is_shot(unique.team)].groupby(["team", "jersey"]).goal.agg(["count", "sum"])
    latest = unique[is_real_event(unique.event_id)].nlargest(1, "event_id")[["event_id", "clock"]]
    final = ends_game(unique.event_id, unique.clock).any()
    return shots, latest, final


def assemble_tally(shots: pd.DataFrame, latest: pd.DataFrame, final: bool, quality: Quality) -> Tally:
    """Turn computed :func:`tally_parts` results into a :class:`Tally`."""
    counts = {
        (int(team), str(jersey)): (int(row["count"]), int(row["sum"])) for (team, jersey), row in shots.iterrows()
    }
    if len(latest):
        last_event_id, clock = int(latest["event_id"].iloc[0]), str(latest["clock"].iloc[0])
    else:
        last_event_id, clock = None, None
    return Tally(last_event_id, clock, bool(final), counts, quality)


def quality_frame(block: ParsedBlock) -> pd.DataFrame:
    """A block's rejections as one small row (what a Dask worker sends back instead of its events)."""
    return pd.DataFrame({"rejected": [block.rejected], "examples": ["\n".join(block.examples)]}).astype(
        {"rejected": "int64", "examples": "str"}
    )


def quality_from_frame(frame: pd.DataFrame, duplicates: int, max_examples: int = MAX_EXAMPLES) -> Quality:
    """Merge computed :func:`quality_frame` rows, in stream order."""
    examples = tuple(line for text in frame["examples"] for line in text.split("\n") if line)[:max_examples]
    return Quality(int(frame["rejected"].sum()), duplicates, examples)
