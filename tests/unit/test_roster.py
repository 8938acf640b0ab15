"""The reference tables as the core reads them: typed rows, a team looked up by id, rosters by team.

Everything is built inside the tests (not at import), so ``make mutation`` sees each mutant."""

from __future__ import annotations

import pytest

from boxscore.roster import League, Player, Team, players_from_rows, roster_of, team_by_id, teams_from_rows


def players() -> list[Player]:
    return [
        Player(3, "sam", "6", 40, 12, 101),
        Player(1, "jimmy", "06", 30, 9, 205),
        Player(2, "sarah", "1", 52, 30, 101),
        Player(4, "sol", "9", 0, 0, 300),
    ]


def teams() -> list[Team]:
    return [Team(205, "johns hopkins", "big10", 9, 4), Team(101, "syracuse", "acc", 11, 2)]


def test_rows_become_typed_teams_and_players_ordered_by_id_with_jerseys_as_text() -> None:
    rows = [
        {"id": "7", "name": "ann", "number": "06", "shots": "11", "goals": "4", "teamid": "101"},
        {"id": 5, "name": "bo", "number": 6, "shots": 2, "goals": 0, "teamid": 205},
    ]
    assert players_from_rows(rows) == [Player(5, "bo", "6", 2, 0, 205), Player(7, "ann", "06", 11, 4, 101)]
    team_rows = [{"id": "205", "name": "jhu", "conference": "big10", "wins": "9", "losses": "4"}]
    assert teams_from_rows(team_rows) == [Team(205, "jhu", "big10", 9, 4)]


def test_a_team_is_found_by_id_in_a_list_or_a_dict_and_a_missing_one_is_named() -> None:
    assert team_by_id(101, teams()).name == "syracuse"
    assert team_by_id(205, {team.id: team for team in teams()}).name == "johns hopkins"
    for table in (teams(), {}):
        with pytest.raises(LookupError, match=r"^team 999 is not in the teams table$"):
            team_by_id(999, table)


def test_a_league_holds_each_team_s_roster_and_a_game_s_sides() -> None:
    league = League.of(teams(), players())
    assert league.teams == {205: teams()[0], 101: teams()[1]}
    assert {team: [p.id for p in roster] for team, roster in league.rosters.items()} == {
        101: [3, 2],
        205: [1],
        300: [4],
    }
    home, away, both = league.sides(101, 205)
    assert (home.name, away.name, [p.id for p in both]) == ("syracuse", "johns hopkins", [3, 2, 1])
    assert [p.id for p in roster_of(101, players())] == [2, 3]


def test_a_team_without_players_plays_with_an_empty_roster() -> None:
    league = League.of([*teams(), Team(400, "navy", "patriot", 0, 0)], players())
    assert [p.id for p in league.sides(400, 205)[2]] == [1]
    assert [p.id for p in league.sides(101, 400)[2]] == [3, 2]
    with pytest.raises(LookupError, match="team 300"):
        league.sides(101, 300)  # rostered, but not in the teams table
