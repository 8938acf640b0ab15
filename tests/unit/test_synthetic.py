"""The synthetic league the replays and benchmarks use: its shape read off each line by hand, and
the same league for the same seed (a benchmark regenerates exactly the games it replayed)."""

from __future__ import annotations

import re

from boxscore.games import Matchup
from boxscore.roster import Player, Team
from boxscore.synthetic import synthetic_league

# one event as the feed writes it, read here without the project's parser
EVENT = re.compile(r"(\d+) (\d\d):(\d\d) (\d+) (\d+) ([01])")


def test_a_tiny_league_line_by_line() -> None:
    """Seed 3, one game of 3 shots, teams from 40: written out once and checked by hand (two
    teams, ten players each with goals <= shots, clocks falling, then 00:00 and the sentinel)."""
    league = synthetic_league(1, seed=3, shots=(3, 3), first_team=40)
    assert league.teams == [Team(40, "team 40", "synthetic", 3, 9), Team(41, "team 41", "synthetic", 0, 4)]
    assert league.players[:3] == [
        Player(10000, "player 0", "69", 70, 29, 40),
        Player(10001, "player 1", "16", 24, 22, 40),
        Player(10002, "player 2", "47", 60, 34, 40),
    ]
    assert league.matchups == [Matchup("g0000", 40, 41)]
    assert league.recordings == {
        "g0000": "0 39:54 40 60 0\n1 23:00 40 80 0\n2 15:52 40 77 0\n3 00:00 0 0 0\n-1 00:00 0 0 0"
    }


def test_every_game_is_a_whole_game_of_its_two_teams_rostered_players() -> None:
    league = synthetic_league(12, seed=11, shots=(5, 9), first_team=500)
    assert [team.id for team in league.teams] == list(range(500, 524))
    assert [(m.game_id, m.home, m.away) for m in league.matchups] == [
        (f"g{i:04d}", 500 + 2 * i, 501 + 2 * i) for i in range(12)
    ]
    assert [player.id for player in league.players] == list(range(10_000, 10_240))
    rosters: dict[int, list[str]] = {}
    for player in league.players:
        rosters.setdefault(player.teamid, []).append(player.number)
        assert 0 <= player.goals <= player.shots <= 90
        assert player.name == f"player {player.id - 10_000}"
    assert all(len(set(numbers)) == 10 and all(0 <= int(n) < 100 for n in numbers) for numbers in rosters.values())
    assert all(0 <= t.wins <= 12 and 0 <= t.losses <= 12 and t.name == f"team {t.id}" for t in league.teams)
    counts = set()
    for matchup in league.matchups:
        *shots, mark, sentinel = league.recordings[matchup.game_id].split("\n")
        assert 5 <= len(shots) <= 9
        counts.add(len(shots))
        assert (mark, sentinel) == (f"{len(shots)} 00:00 0 0 0", "-1 00:00 0 0 0")
        seconds = []
        for event_id, line in enumerate(shots):
            number, minutes, secs, team, jersey, _ = EVENT.fullmatch(line).groups()
            assert int(number) == event_id and team in {str(matchup.home), str(matchup.away)}
            assert jersey in rosters[int(team)]
            seconds.append(int(minutes) * 60 + int(secs))
        assert seconds == sorted(set(seconds), reverse=True) and seconds[-1] > 0 and seconds[0] < 3600
    assert len(counts) > 1  # the shot counts are drawn, not fixed


def test_a_seed_makes_the_same_league_and_another_seed_another() -> None:
    assert synthetic_league(3, seed=5) == synthetic_league(3, seed=5)
    assert synthetic_league(3, seed=5).recordings != synthetic_league(3, seed=6).recordings
    goals = [line[-1] for text in synthetic_league(40, seed=2).recordings.values() for line in text.split("\n")[:-2]]
    assert 0.2 < goals.count("1") / len(goals) < 0.4  # about three shots in ten are goals


def test_the_defaults_are_seed_7_from_team_1000_and_records_span_0_to_12() -> None:
    assert synthetic_league(2) == synthetic_league(2, seed=7, shots=(40, 90), first_team=1000)
    assert synthetic_league(2).teams[0].id == 1000
    teams = synthetic_league(200, seed=1, shots=(2, 3)).teams
    for record in ([t.wins for t in teams], [t.losses for t in teams]):
        assert (min(record), max(record)) == (0, 12)
