"""Quarters, the scoring summary and the game's flow, against the rules and the hand counts."""

from __future__ import annotations

import pickle
from dataclasses import astuple
from itertools import pairwise

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boxscore.events import clock_digits
from boxscore.periods import quarter_clock, quarter_of, quarter_seconds_left, quarters_of, quarters_of_minutes
from boxscore.scoring import Goal, GoalColumns, ScoringPlay, game_flow, scoring_plays
from tests.helpers import examples
from tests.recorded_game import EVENTS_FILE, FIRST_GOAL, GAME_FLOW, GOALS, LAST_GOAL, LINE_SCORE, SHOTS_BY_QUARTER


@pytest.mark.parametrize(
    ("game_clock", "quarter", "left"),
    [
        ("60:00", 1, "15:00"),
        ("45:00", 1, "00:00"),
        ("44:59", 2, "14:59"),
        ("30:00", 2, "00:00"),
        ("15:00", 3, "00:00"),
        ("14:59", 4, "14:59"),
        ("00:00", 4, "00:00"),
        ("11:13", 4, "11:13"),
    ],
)
def test_the_quarter_rule_at_its_boundaries(game_clock: str, quarter: int, left: str) -> None:
    minutes, seconds = map(int, game_clock.split(":"))
    assert (quarter_of(minutes * 60 + seconds), quarter_clock(minutes * 60 + seconds)) == (quarter, left)


def test_every_second_of_the_game_is_in_one_quarter_with_at_most_15_minutes_left_in_it() -> None:
    """All 3,601 moments: the quarter and the time left in it give back the game clock."""
    for seconds_left in range(3601):
        quarter, left = quarter_of(seconds_left), quarter_seconds_left(seconds_left)
        assert 1 <= quarter <= 4 and 0 <= left <= 900
        assert (4 - quarter) * 900 + left == seconds_left
        assert left > 0 or seconds_left in (0, 900, 1800, 2700)  # a quarter's last moment is its 00:00


def test_the_vectorised_quarters_agree_with_the_rule_at_every_second_of_the_game() -> None:
    """pandas (a tick's frame, the Dask read) and NumPy by the minutes read in place from an Arrow
    column (the block summaries), all 3,601 clocks."""
    clocks = [f"{s // 60:02d}:{s % 60:02d}" for s in range(3601)]
    by_rule = [quarter_of(s) for s in range(3601)]
    assert quarters_of(pd.Series(clocks)).tolist() == by_rule
    for column in (pa.array(clocks), pa.chunked_array([clocks[:1000], clocks[1000:]]), pa.array(clocks)[7:]):
        digits = clock_digits(column)
        assert digits is not None
        assert quarters_of_minutes(digits[0]).tolist() == by_rule[-len(column) :]
        assert (digits[0] * 60 + digits[1]).tolist() == list(range(3601))[-len(column) :]


@pytest.mark.parametrize("bad", ["5:900", "5/:00", "05:0/", "05 00", "0:::0", "5:00", "005:00", "٠٥:٠٠"])
def test_clocks_read_in_place_refuse_a_clock_that_is_not_two_digits_a_colon_and_two_digits(bad: str) -> None:
    """Asked directly: in a block, the byte checks before it refuse most of these first."""
    assert clock_digits(pa.array(["59:00", bad, "00:00"])) is None
    assert clock_digits(pa.array(["59:00", "00:00"])) is not None


def recorded_goals() -> tuple[list[Goal], dict[int, list[int]], dict[int, list[int]]]:
    """The recorded game read plainly here (first line per event id, team 0 and the sentinel not
    shots), with goals and shots per quarter counted by the issue's formula."""
    seen, goals = set(), []
    goals_by, shots_by = {101: [0] * 4, 205: [0] * 4}, {101: [0] * 4, 205: [0] * 4}
    for line in EVENTS_FILE.read_text().split("\n"):
        if not line.strip():
            continue
        event, clock, team, jersey, goal = line.split()
        if int(event) in seen or int(team) == 0 or int(event) < 0:
            seen.add(int(event))
            continue
        seen.add(int(event))
        elapsed = 3600 - (int(clock[:2]) * 60 + int(clock[3:]))
        quarter = max(1, -(-elapsed // 900))
        shots_by[int(team)][quarter - 1] += 1
        if goal == "1":
            goals_by[int(team)][quarter - 1] += 1
            goals.append(Goal(int(event), clock, int(team), jersey))
    return goals, goals_by, shots_by


def test_the_recorded_game_by_quarter_and_goal_by_goal_as_counted_by_hand() -> None:
    goals, goals_by, shots_by = recorded_goals()
    assert {team: tuple(q) for team, q in goals_by.items()} == LINE_SCORE
    assert {team: tuple(q) for team, q in shots_by.items()} == SHOTS_BY_QUARTER
    plays = scoring_plays(goals, 101, 205)
    assert len(plays) == GOALS
    assert tuple(plays[0]) == FIRST_GOAL and tuple(plays[-1]) == LAST_GOAL
    assert game_flow(plays).__dict__ == GAME_FLOW


def play(home: int, away: int) -> ScoringPlay:
    return ScoringPlay(0, 1, "15:00", 0, "1", home, away)


@pytest.mark.parametrize(
    ("scores", "flow"),
    [
        ([], (0, 0, 0, 0)),
        ([(1, 0)], (0, 0, 1, 0)),  # the first lead is not a change
        ([(1, 0), (1, 1), (2, 1)], (0, 1, 1, 0)),  # leader, tie, the same leader: no change
        ([(1, 0), (1, 1), (1, 2)], (1, 1, 1, 1)),  # leader, tie, the other: a change
        ([(0, 1), (0, 2), (1, 2), (2, 2), (3, 2), (3, 3), (3, 4)], (2, 2, 1, 2)),
    ],
)
def test_game_flow_by_hand(scores: list[tuple[int, int]], flow: tuple[int, int, int, int]) -> None:
    assert astuple(game_flow([play(*score) for score in scores])) == flow


@settings(max_examples=examples(200), deadline=None)
@given(st.lists(st.sampled_from([101, 205]), max_size=40))
def test_lead_changes_are_the_flips_of_the_leader_with_ties_left_out(scorers: list[int]) -> None:
    """Another reading of the rule: the sign of the margin after each goal, zeros dropped, counted
    where it flips; ties are the zeros; the largest leads are the extremes of the margin."""
    goals = [Goal(i, "30:00", team, "1") for i, team in enumerate(scorers)]
    plays = scoring_plays(goals, 101, 205)
    margins = [p.home_score - p.away_score for p in plays]
    signs = [m > 0 for m in margins if m]
    expected = (
        sum(1 for a, b in pairwise(signs) if a != b),
        margins.count(0),
        max([0, *margins]),
        max([0, *(-m for m in margins)]),
    )
    assert astuple(game_flow(plays)) == expected
    if plays:
        assert (plays[-1].home_score, plays[-1].away_score) == (scorers.count(101), scorers.count(205))


def test_a_goal_by_a_team_not_in_the_game_is_not_in_the_summary() -> None:
    plays = scoring_plays([Goal(3, "50:00", 999, "7"), Goal(1, "59:00", 205, "8")], 101, 205)
    assert [tuple(p) for p in plays] == [(1, 1, "14:00", 205, "8", 0, 1)]


def test_goals_held_as_columns_are_the_goals_they_hold() -> None:
    goals = (Goal(2, "11:13", 205, "8"), Goal(5, "50:00", 101, "2"))
    columns = GoalColumns([2, 5], ["11:13", "50:00"], [205, 101], ["8", "2"])
    assert columns == goals and goals == columns and list(columns) == list(goals) and len(columns) == 2
    assert columns != goals[:1] and columns != goals[::-1] and hash(columns) == hash(goals)
    assert columns[-1] == goals[-1] and columns[:1] == goals[:1]
    assert pickle.loads(pickle.dumps(columns)) == goals
    later = Goal(9, "01:00", 101, "6")
    assert columns + (later,) == (*goals, later) and (later,) + columns == (later, *goals)  # noqa: RUF005 - the operators are what is tested
    assert GoalColumns.joined([columns, GoalColumns([9], ["01:00"], [101], ["6"])]) == (*goals, later)
    assert not GoalColumns([], [], [], []) and GoalColumns([], [], [], []) == ()


def test_goal_columns_of_unequal_length_are_refused_when_read() -> None:
    columns = GoalColumns([1, 2], ["59:00", "58:00"], [101, 205], ["6"])  # a jersey missing
    with pytest.raises(ValueError, match="zip"):
        columns.goals()
    joined = GoalColumns.joined([GoalColumns([1], ["59:00"], [101], ["6"]), GoalColumns([4], ["50:00"], [205], ["2"])])
    assert list(joined) == [Goal(1, "59:00", 101, "6"), Goal(4, "50:00", 205, "2")]
