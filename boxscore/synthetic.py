"""A seeded generator of synthetic leagues: teams, rosters and games, for replays and benchmarks.

Deterministic for a seed, so a test or a benchmark can regenerate exactly the games it replayed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from boxscore.events import GAME_LENGTH_SECONDS
from boxscore.games import Matchup
from boxscore.roster import Player, Team

PLAYERS_PER_TEAM = 10


@dataclass(frozen=True)
class League:
    teams: list[Team]
    players: list[Player]
    matchups: list[Matchup]
    recordings: dict[str, str]  # game_id -> the whole stream, as game_events.txt


def _clock(seconds_left: int) -> str:
    return f"{seconds_left // 60:02d}:{seconds_left % 60:02d}"


def game_recording(rng: random.Random, home: int, away: int, rosters: dict[int, list[str]], shots: int) -> str:
    """One game: ``shots`` shots at strictly decreasing clocks, then the 00:00 mark and the sentinel."""
    clocks = sorted(rng.sample(range(1, GAME_LENGTH_SECONDS), shots), reverse=True)
    lines = []
    for event_id, seconds_left in enumerate(clocks):
        team = rng.choice((home, away))
        lines.append(f"{event_id} {_clock(seconds_left)} {team} {rng.choice(rosters[team])} {int(rng.random() < 0.3)}")
    lines += [f"{shots} 00:00 0 0 0", "-1 00:00 0 0 0"]
    return "\n".join(lines)


def synthetic_league(games: int, seed: int = 7, shots: tuple[int, int] = (40, 90), first_team: int = 1000) -> League:
    """``games`` games between fresh pairs of teams, with 10-player rosters and season totals."""
    rng = random.Random(seed)
    teams: list[Team] = []
    players: list[Player] = []
    matchups: list[Matchup] = []
    recordings: dict[str, str] = {}
    rosters: dict[int, list[str]] = {}
    for index in range(games):
        home, away = first_team + 2 * index, first_team + 2 * index + 1
        for team_id in (home, away):
            teams.append(Team(team_id, f"team {team_id}", "synthetic", rng.randint(0, 12), rng.randint(0, 12)))
            numbers = [str(n) for n in rng.sample(range(100), PLAYERS_PER_TEAM)]
            rosters[team_id] = numbers
            for number in numbers:
                season_shots = rng.randint(0, 90)
                players.append(
                    Player(
                        len(players) + 10_000,
                        f"player {len(players)}",
                        number,
                        season_shots,
                        rng.randint(0, season_shots),
                        team_id,
                    )
                )
        game_id = f"g{index:04d}"
        matchups.append(Matchup(game_id, home, away))
        recordings[game_id] = game_recording(rng, home, away, rosters, rng.randint(*shots))
    return League(teams, players, matchups, recordings)
