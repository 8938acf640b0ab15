"""The reference data a box score is joined with: teams and their rosters (``sidearmdb``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Team:
    """A row of ``teams``: ``wins``/``losses`` are the season record before the game."""

    id: int
    name: str
    conference: str
    wins: int
    losses: int


@dataclass(frozen=True)
class Player:
    """A row of ``players``: ``shots``/``goals`` are season totals before the game."""

    id: int
    name: str
    number: str
    shots: int
    goals: int
    teamid: int


def teams_from_rows(rows: Iterable[Mapping[str, Any]]) -> list[Team]:
    """Typed teams from SQL rows or CSV records, ordered by id."""
    return sorted(
        (Team(int(r["id"]), str(r["name"]), str(r["conference"]), int(r["wins"]), int(r["losses"])) for r in rows),
        key=lambda team: team.id,
    )


def players_from_rows(rows: Iterable[Mapping[str, Any]]) -> list[Player]:
    """Typed players from SQL rows or CSV records, ordered by id.

    Jersey numbers stay text: ``"06"`` and ``"6"`` are different jerseys.
    """
    return sorted(
        (
            Player(int(r["id"]), str(r["name"]), str(r["number"]), int(r["shots"]), int(r["goals"]), int(r["teamid"]))
            for r in rows
        ),
        key=lambda player: player.id,
    )


def roster_of(team_id: int, players: Iterable[Player]) -> list[Player]:
    """One team's players, ordered by id (names repeat, so players are keyed by id)."""
    return sorted((p for p in players if p.teamid == team_id), key=lambda p: p.id)


def team_by_id(team_id: int, teams: Iterable[Team] | Mapping[int, Team]) -> Team:
    """Look a team up (in a list, or a dict by id), saying which id is missing rather than a bare KeyError."""
    if isinstance(teams, Mapping):
        found = teams.get(team_id)
    else:
        found = next((team for team in teams if team.id == team_id), None)
    if found is None:
        raise LookupError(f"team {team_id} is not in the teams table")
    return found


@dataclass(frozen=True)
class League:
    """The reference tables as read once: teams by id and each team's roster.

    Indexed by team, so a tick with a thousand games does not scan every player per game.
    """

    teams: Mapping[int, Team]
    rosters: Mapping[int, list[Player]]

    @classmethod
    def of(cls, teams: Iterable[Team], players: Iterable[Player]) -> League:
        rosters: dict[int, list[Player]] = {}
        for player in players:
            rosters.setdefault(player.teamid, []).append(player)
        return cls({team.id: team for team in teams}, rosters)

    def sides(self, home: int, away: int) -> tuple[Team, Team, list[Player]]:
        """Home team, away team and the players of both; ``LookupError`` names a missing team."""
        return (
            team_by_id(home, self.teams),
            team_by_id(away, self.teams),
            self.rosters.get(home, []) + self.rosters.get(away, []),
        )
