"""The season document's tables against a hand count: standings order and ties, leaders and their minimum."""

from __future__ import annotations

from boxscore.games import Matchup
from boxscore.roster import Player, Team
from boxscore.season import Season
from boxscore.season_document import (
    empty_season,
    leaders,
    planned_entry,
    played_entry,
    playing_now,
    schedule_key,
    schedule_order,
    standings,
    tables_of,
)
from tests.helpers import valid_season
from tests.recorded_game import FINAL_BOXSCORE

TEAMS = [
    Team(1, "army", "patriot", 3, 1),  # .750
    Team(2, "navy", "patriot", 2, 2),  # .500, tied with lehigh
    Team(3, "lehigh", "patriot", 2, 2),
    Team(4, "colgate", "patriot", 1, 1),  # .500 with fewer wins: behind the two at 2-2
    Team(5, "duke", "acc", 0, 0),  # no game: .000
    Team(6, "virginia", "acc", 1, 0),
]


def test_standings_group_by_conference_and_order_by_pct_then_wins_with_ties_sharing_a_rank() -> None:
    tables = standings(TEAMS)
    assert [table["conference"] for table in tables] == ["acc", "patriot"]
    acc, patriot = tables
    assert [(r["name"], r["rank"], r["tied"], r["pct"]) for r in acc["teams"]] == [
        ("virginia", 1, False, 1.0),
        ("duke", 2, False, 0.0),
    ]
    assert [(r["name"], r["wins"], r["losses"], r["rank"], r["tied"], r["pct"]) for r in patriot["teams"]] == [
        ("army", 3, 1, 1, False, 0.75),
        ("lehigh", 2, 2, 2, True, 0.5),  # tied teams listed by name
        ("navy", 2, 2, 2, True, 0.5),
        ("colgate", 1, 1, 4, False, 0.5),
    ]


PLAYERS = [
    Player(10, "ann", "7", 20, 9, 1),  # .450
    Player(11, "bo", "12", 30, 9, 2),  # .300, tied with ann in goals
    Player(12, "cy", "3", 4, 4, 3),  # 1.000 on 4 shots: below the minimum of 10
    Player(13, "di", "22", 10, 5, 4),  # .500 on exactly 10 shots: in
    Player(14, "ed", "1", 0, 0, 5),  # no shot: in no table
    Player(15, "fa", "9", 12, 0, 6),  # shots, no goal
]


def test_leaders_rank_goals_shots_and_pct_with_the_minimum_and_ties() -> None:
    teams = {team.id: team for team in TEAMS}
    table = leaders(PLAYERS, teams, top=3, min_shots=10)
    assert [(r["name"], r["goals"], r["rank"], r["tied"]) for r in table["goals"]] == [
        ("ann", 9, 1, True),
        ("bo", 9, 1, True),
        ("di", 5, 3, False),
    ]
    assert [(r["name"], r["shots"], r["rank"]) for r in table["shots"]] == [
        ("bo", 30, 1),
        ("ann", 20, 2),
        ("fa", 12, 3),
    ]
    assert [(r["name"], r["pct"], r["rank"]) for r in table["shooting_pct"]] == [
        ("di", 0.5, 1),
        ("ann", 0.45, 2),
        ("bo", 0.3, 3),
    ]
    first = table["goals"][0]
    assert (first["team"], first["number"], first["teamid"], first["player_id"]) == ("army", "7", 1, 10)


def test_a_tie_at_the_last_place_keeps_every_tied_leader() -> None:
    table = leaders(PLAYERS, {team.id: team for team in TEAMS}, top=1, min_shots=10)
    assert [r["name"] for r in table["goals"]] == ["ann", "bo"]


def test_the_tables_count_the_counted_games_and_list_the_skipped_with_their_reason() -> None:
    season = Season(TEAMS, PLAYERS, {"g9": "team 999 not in the base tables"}, ("g1", "g2"))
    tables = tables_of(season)
    assert tables.final_games == 2
    assert tables.skipped == [{"game_id": "g9", "reason": "team 999 not in the base tables"}]
    same, other = tables_of(season).fields(), tables_of(Season(TEAMS, PLAYERS[:-1], {}, ("g1",))).fields()
    assert same["tables_digest"] == tables.fields()["tables_digest"] != other["tables_digest"]


def test_schedule_entries_from_a_box_score_and_a_planned_game() -> None:
    final = played_entry(FINAL_BOXSCORE, counted=True)
    assert final == {
        "game_id": FINAL_BOXSCORE["game_id"],
        "home": {"teamid": 101, "name": "syracuse"},
        "away": {"teamid": 205, "name": "johns hopkins"},
        "status": "final",
        "home_score": 14,
        "away_score": 9,
        "clock": "00:00",
        "period": 4,
        "counted": True,
    }
    live = played_entry({**FINAL_BOXSCORE, "final": False, "period": 3, "period_clock": "04:10"})
    assert (live["status"], live["period"], live["clock"], live["counted"]) == ("live", 3, "04:10", False)
    planned = planned_entry(Matchup("g.7", 1, 999), {1: TEAMS[0]})
    assert (planned["status"], planned["home"], planned["away"]["name"]) == (
        "scheduled",
        {"teamid": 1, "name": "army"},
        "team 999",
    )
    assert schedule_key("g.7") == "g~7"
    document = {"schedule": {"a": final, "b": live, "c": planned}}
    assert [g["status"] for g in schedule_order(document)] == ["live", "scheduled", "final"]
    assert set(playing_now(document)) == {101, 205}


def test_a_season_document_the_core_builds_validates_and_a_broken_one_does_not() -> None:
    import jsonschema_rs
    import pytest

    season = Season(TEAMS, PLAYERS, {"g9": "team 999 not in the base tables"}, ("g1", "g2"))
    schedule = {
        schedule_key(g["game_id"]): g
        for g in (played_entry(FINAL_BOXSCORE, counted=True), planned_entry(Matchup("g.7", 1, 2), {}))
    }
    document = {"_id": "2026", **empty_season("2026"), **tables_of(season).fields(), "schedule": schedule}
    assert valid_season(document) is document
    assert valid_season({"_id": "2026", **empty_season("2026")}) is not None
    for broken in (
        {**document, "standings": [{"conference": "acc"}]},
        {**document, "schedule": {"g.7": schedule["g~7"]}},  # a dot in a key would split an update path
        {**document, "final_games": -1},
    ):
        with pytest.raises(jsonschema_rs.ValidationError):
            valid_season(broken)
