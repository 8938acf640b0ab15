"""The scoring summary and the game's flow: the goals in event order with the running score.

A scoring play is one goal and the score after it. Over the goals in order, a *tie* is a goal that
levels the score (the 0-0 start is not one); a *lead change* is a goal that gives the lead to the
team that did not hold the most recent lead (the game's first lead is not a change, and leader,
tie, same leader again is not one); a team's *largest lead* is the widest margin it held (0 if it
never led).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from typing import Any, NamedTuple, overload

from boxscore.events import clock_seconds
from boxscore.periods import in_quarter


class Goal(NamedTuple):
    """A counted shot that scored: its event, game clock (``mm:ss`` left), team and jersey.

    A named tuple: every tick's state carries the game's goals between a Dask worker and the flow.
    """

    event_id: int
    clock: str
    team: int
    jersey: str


class GoalColumns(Sequence[Goal]):
    """Goals held as four columns, made into :class:`Goal` tuples only when first read.

    A long stream's whole read finds goals by the million, and one tuple (or one Python object
    per field) each costs more than the rest of its tally; the counts are what most reads need.
    So a column is a list or, from a block's summary, an Arrow array, joined without leaving
    Arrow; either pickles cheaply between a Dask worker and the flow. Equal to any sequence of
    the same goals in the same order.
    """

    __slots__ = ("_columns", "_goals")

    def __init__(self, event_ids: Sequence[Any], clocks: Sequence[Any], teams: Sequence[Any], jerseys: Sequence[Any]):
        self._columns: tuple[Sequence[Any], ...] = (event_ids, clocks, teams, jerseys)
        self._goals: tuple[Goal, ...] | None = None

    @classmethod
    def joined(cls, parts: Iterable[GoalColumns]) -> GoalColumns:
        """The goals of ``parts`` one after the other (each part in order, and later than the last)."""
        each = [part._columns for part in parts]  # each part's four columns
        return cls(*(_concatenated([columns[i] for columns in each]) for i in range(len(Goal._fields))))

    def goals(self) -> tuple[Goal, ...]:
        if self._goals is None:
            self._goals = tuple(map(Goal._make, zip(*map(_as_list, self._columns), strict=True)))
        return self._goals

    def __len__(self) -> int:
        return len(self._columns[0])

    @overload
    def __getitem__(self, index: int) -> Goal: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[Goal, ...]: ...
    def __getitem__(self, index: int | slice) -> Goal | tuple[Goal, ...]:
        return self.goals()[index]

    def __iter__(self) -> Iterator[Goal]:
        return iter(self.goals())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and self.goals() == tuple(other)

    def __hash__(self) -> int:
        return hash(self.goals())

    def __add__(self, other: Sequence[Goal]) -> tuple[Goal, ...]:
        return self.goals() + tuple(other)

    def __radd__(self, other: Sequence[Goal]) -> tuple[Goal, ...]:
        return tuple(other) + self.goals()

    def __reduce__(self) -> tuple[type[GoalColumns], tuple[Sequence[Any], ...]]:
        return GoalColumns, self._columns

    def __repr__(self) -> str:
        return f"GoalColumns({len(self)} goals)"


def _as_list(column: Sequence[Any]) -> list[Any]:
    """A column's values as Python objects (an Arrow array's ``to_pylist``)."""
    to_pylist = getattr(column, "to_pylist", None)
    return to_pylist() if to_pylist is not None else list(column)


def _concatenated(pieces: list[Sequence[Any]]) -> Sequence[Any]:
    """One column of ``pieces`` in order: an Arrow array if every piece is one, else a list."""
    if pieces and all(hasattr(piece, "to_pylist") for piece in pieces):
        import pyarrow as pa

        joined: Sequence[Any] = pa.concat_arrays(pieces)
        return joined
    return list(chain.from_iterable(map(_as_list, pieces)))


class ScoringPlay(NamedTuple):
    """A goal as the scoring summary lists it: its quarter, the time left in it, the score after it."""

    event_id: int
    period: int
    period_clock: str
    team: int
    jersey: str
    home_score: int
    away_score: int


@dataclass(frozen=True)
class GameFlow:
    lead_changes: int
    ties: int
    home_largest_lead: int
    away_largest_lead: int


def scoring_plays(goals: Iterable[Goal], home: int, away: int) -> list[ScoringPlay]:
    """Every goal of ``home`` or ``away`` in event-id order, with the score after it."""
    return list(_scoring_plays(tuple(goals), home, away))


@lru_cache(maxsize=4096)
def _scoring_plays(goals: tuple[Goal, ...], home: int, away: int) -> tuple[ScoringPlay, ...]:
    """Memoised: a game's box score is rebuilt at every change, its goals change far less often
    (one entry per live game at most; a pure function of its arguments)."""
    plays, score = [], {home: 0, away: 0}
    for goal in sorted(goals, key=lambda goal: goal.event_id):
        if goal.team not in score:
            continue
        score[goal.team] += 1
        period, period_clock = in_quarter(clock_seconds(goal.clock))
        plays.append(ScoringPlay(goal.event_id, period, period_clock, goal.team, goal.jersey, score[home], score[away]))
    return tuple(plays)


def game_flow(plays: Iterable[ScoringPlay]) -> GameFlow:
    """Lead changes, ties and each side's largest lead over the scoring plays in order."""
    lead_changes = ties = home_lead = away_lead = 0
    last_leader = 0  # +1 home, -1 away: who held the most recent lead (0: nobody yet)
    for play in plays:
        margin = play.home_score - play.away_score
        leader = (margin > 0) - (margin < 0)
        if leader == 0:
            ties += 1
        elif last_leader and leader != last_leader:
            lead_changes += 1
        last_leader = leader or last_leader
        home_lead, away_lead = max(home_lead, margin), max(away_lead, -margin)
    return GameFlow(lead_changes, ties, home_lead, away_lead)
