"""The box-score document: everything the page needs, in one MongoDB document.

Contract (``sidearm.boxscores``)::

    {"_id": 70, "timestamp": "00:00", "final": true,
     "home": {"teamid": 101, "name": "syracuse", "conference": "acc", "wins": 11, "losses": 2,
              "score": 14, "status": "winning",
              "players": [{"id": 1, "name": "sam", "number": "6", "shots": 4, "goals": 2, "pct": 0.5}, ...]},
     "away": {...},
     "quality": {"rejected": 0, "duplicates": 0, "examples": []}}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

from boxscore.roster import Player, Team, roster_of
from boxscore.tally import Tally


class PlayerLine(TypedDict):
    """A player's line; ``id`` and ``name`` are ``None`` for a shooter missing from the roster."""

    id: int | None
    name: str | None
    number: str
    shots: int
    goals: int
    pct: float


class TeamSide(TypedDict):
    """One team in the box score: ``wins``/``losses`` are its record before the game."""

    teamid: int
    name: str
    conference: str
    wins: int
    losses: int
    score: int
    status: str
    players: list[PlayerLine]


class QualityNote(TypedDict):
    """What the feed got wrong so far (shown on the page when lines were rejected)."""

    rejected: int
    duplicates: int
    examples: list[str]


class BoxScore(TypedDict):
    """The document in ``sidearm.boxscores``: everything the page needs, from one query.

    ``_id`` is the event id on a single stream (the page sorts by it) and ``<game_id>/<event_id>``
    when the stream is one of many games (prefix mode); ``game_id`` and ``event_id`` are always there.
    """

    _id: int | str
    game_id: str
    event_id: int
    timestamp: str
    final: bool
    home: TeamSide
    away: TeamSide
    quality: QualityNote


def shooting_pct(shots: int, goals: int) -> float:
    """Goals per shot rounded to 2 places; 0.0 for a player without a shot."""
    return round(goals / shots, 2) if shots else 0.0


def status(score: int, other: int) -> str:
    """``winning``, ``losing`` or ``tied`` against the other side's score."""
    if score > other:
        return "winning"
    return "losing" if score < other else "tied"


def unknown_shooters(tally: Tally, team_id: int, players: Sequence[Player]) -> list[str]:
    """Jerseys that shot for a team but are not on its roster (their shots still count)."""
    numbers = {p.number for p in roster_of(team_id, players)}
    return sorted((j for (t, j) in tally.shots if t == team_id and j not in numbers), key=_jersey_order)


def _jersey_order(jersey: str) -> tuple[int, str]:
    return int(jersey), jersey


def player_lines(tally: Tally, team_id: int, players: Sequence[Player]) -> list[PlayerLine]:
    """Every roster player by id with in-game numbers, then shooters missing from the roster."""
    lines = []
    for player in roster_of(team_id, players):
        shots, goals = tally.shots.get((team_id, player.number), (0, 0))
        lines.append(_line(player.id, player.name, player.number, shots, goals))
    for jersey in unknown_shooters(tally, team_id, players):
        shots, goals = tally.shots[(team_id, jersey)]
        lines.append(_line(None, None, jersey, shots, goals))
    return lines


def _line(player_id: int | None, name: str | None, number: str, shots: int, goals: int) -> PlayerLine:
    return PlayerLine(id=player_id, name=name, number=number, shots=shots, goals=goals, pct=shooting_pct(shots, goals))


def team_side(tally: Tally, team: Team, opponent: Team, players: Sequence[Player]) -> TeamSide:
    """One side of the box score: the team, its record before the game, score and players."""
    score = tally.team_totals(team.id)[1]
    return TeamSide(
        teamid=team.id,
        name=team.name,
        conference=team.conference,
        wins=team.wins,
        losses=team.losses,
        score=score,
        status=status(score, tally.team_totals(opponent.id)[1]),
        players=player_lines(tally, team.id, players),
    )


def boxscore_id(game_id: str, event_id: int, per_game: bool) -> int | str:
    """The document key: the event id for the single stream, ``<game_id>/<event_id>`` per game."""
    return f"{game_id}/{event_id}" if per_game else event_id


def build_boxscore(
    tally: Tally, home: Team, away: Team, players: Sequence[Player], game_id: str, per_game: bool = False
) -> BoxScore:
    """The document for the stream as tallied; keyed by the latest event id (and game)."""
    if tally.last_event_id is None or tally.clock is None:
        raise ValueError("no event in the stream yet: there is no box score to build")
    return BoxScore(
        _id=boxscore_id(game_id, tally.last_event_id, per_game),
        game_id=game_id,
        event_id=tally.last_event_id,
        timestamp=tally.clock,
        final=tally.final,
        home=team_side(tally, home, away, players),
        away=team_side(tally, away, home, players),
        quality=QualityNote(
            rejected=tally.quality.rejected,
            duplicates=tally.quality.duplicates,
            examples=list(tally.quality.examples),
        ),
    )


def final_score(boxscore: BoxScore) -> dict[int, int]:
    """Goals per team id, e.g. ``{101: 14, 205: 9}``."""
    return {side["teamid"]: side["score"] for side in (boxscore["home"], boxscore["away"])}
