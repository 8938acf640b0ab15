"""Shots and goals per player and per quarter, the goals in order, and where the game stands.

The same expressions run on a pandas frame (tests, small games) and on a Dask dataframe (the
live flow computes them on the cluster): :func:`tally_parts` only uses operations both share,
and :func:`assemble_tally` turns the small computed results into a :class:`Tally`.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from boxscore.events import MAX_EXAMPLES, ParsedBlock, ends_game, is_real_event, is_shot
from boxscore.periods import quarters_of
from boxscore.scoring import Goal, GoalColumns

if TYPE_CHECKING:
    import pandas as pd

#: (team id, jersey) -> (shots, goals)
ShotCounts = Mapping[tuple[int, str], tuple[int, int]]
#: (team id, quarter 1-4) -> (shots, goals)
QuarterCounts = Mapping[tuple[int, int], tuple[int, int]]
Key = TypeVar("Key", bound=Hashable)


def add_shots(into: dict[Key, tuple[int, int]], more: Mapping[Key, tuple[int, int]]) -> None:
    """Add ``more`` (shots, goals) per key (team and jersey, or team and quarter) into ``into``."""
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
    quarters: QuarterCounts = field(default_factory=dict)
    #: every counted goal, in event-id order (the scoring summary)
    goals: Sequence[Goal] = ()

    def team_totals(self, team: int) -> tuple[int, int]:
        """(shots, goals) of one team, whoever on it took them."""
        counts = [value for (team_id, _), value in self.shots.items() if team_id == team]
        return sum(s for s, _ in counts), sum(g for _, g in counts)


class TallyParts(NamedTuple):
    """The pieces of a tally, lazy on a Dask frame, computed on a pandas one."""

    shots: Any  # count and sum of goal per team and jersey
    quarters: Any  # the same per team and quarter
    goals: Any  # event_id, clock, team, jersey of every goal
    latest: Any  # the row of the latest real event
    final: Any


def tally_parts(unique: Any) -> TallyParts:
    """The pieces of a tally of ``unique``, a pandas or Dask frame of de-duplicated events."""
    shots = unique[is_shot(unique.team)]
    by_jersey = shots.groupby(["team", "jersey"]).goal.agg(["count", "sum"])
    by_quarter = shots.assign(quarter=quarters_of(shots.clock)).groupby(["team", "quarter"]).goal.agg(["count", "sum"])
    goals = shots[shots.goal == 1][["event_id", "clock", "team", "jersey"]]
    latest = unique[is_real_event(unique.event_id)].nlargest(1, "event_id")[["event_id", "clock"]]
    final = ends_game(unique.event_id, unique.clock).any()
    return TallyParts(by_jersey, by_quarter, goals, latest, final)


def goal_columns(scored: pd.DataFrame) -> GoalColumns:
    """The goals of a frame of scored shots (event_id, clock, team, jersey), in event-id order."""
    ordered = scored.sort_values("event_id", kind="stable")
    return GoalColumns(
        ordered["event_id"].astype("int64").tolist(),
        ordered["clock"].astype(str).tolist(),
        ordered["team"].astype("int64").tolist(),
        ordered["jersey"].astype(str).tolist(),
    )


def in_event_order(goals: Iterable[Goal]) -> tuple[Goal, ...]:
    """Goals by event id: a goal's first field, and unique, so a goal's own order is the event's."""
    return tuple(sorted(goals))


def assemble_tally(parts: TallyParts, quality: Quality) -> Tally:
    """Turn computed :func:`tally_parts` results into a :class:`Tally`."""
    counts = {
        (int(team), str(jersey)): (int(row["count"]), int(row["sum"])) for (team, jersey), row in parts.shots.iterrows()
    }
    quarters = {
        (int(team), int(quarter)): (int(row["count"]), int(row["sum"]))
        for (team, quarter), row in parts.quarters.iterrows()
    }
    goals = goal_columns(parts.goals)
    latest = parts.latest
    if len(latest):
        last_event_id, clock = int(latest["event_id"].iloc[0]), str(latest["clock"].iloc[0])
    else:
        last_event_id, clock = None, None
    return Tally(last_event_id, clock, bool(parts.final), counts, quality, quarters, goals)


def quality_frame(block: ParsedBlock) -> pd.DataFrame:
    """A block's rejections as one small row (what a Dask worker sends back instead of its events)."""
    import pandas as pd

    return pd.DataFrame({"rejected": [block.rejected], "examples": ["\n".join(block.examples)]}).astype(
        {"rejected": "int64", "examples": "str"}
    )


def quality_from_frame(frame: pd.DataFrame, duplicates: int, max_examples: int = MAX_EXAMPLES) -> Quality:
    """Merge computed :func:`quality_frame` rows, in stream order."""
    examples = tuple(line for text in frame["examples"] for line in text.split("\n") if line)[:max_examples]
    return Quality(int(frame["rejected"].sum()), duplicates, examples)
