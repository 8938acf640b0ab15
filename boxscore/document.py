"""The box-score document: everything the page needs, in one MongoDB document.

Its contract is ``boxscore.schema.json`` (JSON Schema 2020-12, every field described), and
``docs/document.md`` shows the recorded game's final document in full. In short (``schema_version`` 3)::

    {"_id": 70, "game_id": "g...", "event_id": 70, "schema_version": 3,
     "timestamp": "00:00", "period": 4, "period_clock": "00:00", "final": true,
     "home": {"teamid": 101, "name": "syracuse", ..., "score": 14, "status": "won",
              "shots": 48, "pct": 0.292,
              "periods": [{"period": 1, "shots": 16, "goals": 6}, ...],
              "players": [{"id": 1, "name": "sam", "number": "6", "shots": 4, "goals": 2, "pct": 0.5}, ...]},
     "away": {...},
     "scoring": [{"event_id": 2, "period": 1, "period_clock": "11:13", "teamid": 205, "number": "8",
                  "player_id": 16, "name": "julie", "home_score": 0, "away_score": 1}, ...],
     "game_flow": {"lead_changes": 1, "ties": 1, "home_largest_lead": 7, "away_largest_lead": 1},
     "quality": {"rejected": 0, "duplicates": 0, "examples": []}}

``_id`` is the event id on a single stream and ``<game_id>/<event_id>`` with many games.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NotRequired, TypedDict

from boxscore.events import clock_seconds
from boxscore.periods import QUARTERS, in_quarter
from boxscore.roster import Player, Team, roster_of
from boxscore.scoring import ScoringPlay, game_flow, scoring_plays
from boxscore.tally import Tally


class PlayerLine(TypedDict):
    """A player's line; ``id`` and ``name`` are ``None`` for a shooter missing from the roster."""

    id: int | None
    name: str | None
    number: str
    shots: int
    goals: int
    pct: float


class QuarterLine(TypedDict):
    """One quarter of a team's line score."""

    period: int
    shots: int
    goals: int


class TeamSide(TypedDict):
    """One team in the box score: ``wins``/``losses`` are its record before the game."""

    teamid: int
    name: str
    conference: str
    wins: int
    losses: int
    score: int
    status: str
    shots: int
    pct: float
    periods: list[QuarterLine]
    players: list[PlayerLine]


class ScoringLine(TypedDict):
    """One goal of the scoring summary, with the score after it; ``player_id``/``name`` are ``None``
    for a shooter missing from the roster."""

    event_id: int
    period: int
    period_clock: str
    teamid: int
    number: str
    player_id: int | None
    name: str | None
    home_score: int
    away_score: int


class GameFlowNote(TypedDict):
    lead_changes: int
    ties: int
    home_largest_lead: int
    away_largest_lead: int


class QualityNote(TypedDict):
    """What the feed got wrong so far (shown on the page when lines were rejected)."""

    rejected: int
    duplicates: int
    examples: list[str]


class BoxScore(TypedDict):
    """The document in ``sidearm.boxscores``: everything the page needs, from one query.

    ``_id`` is the event id on a single stream and ``<game_id>/<event_id>`` when the stream is one
    of many games (prefix mode); ``game_id`` and ``event_id`` are always there. ``stored_at`` and
    ``seen_at`` are the write's, not the game's (:data:`WHEN_FIELDS`): the store adds them.
    """

    _id: int | str
    game_id: str
    event_id: int
    schema_version: int
    timestamp: str
    period: int
    period_clock: str
    final: bool
    home: TeamSide
    away: TeamSide
    scoring: list[ScoringLine]
    game_flow: GameFlowNote
    quality: QualityNote
    #: when MongoDB was given this box score (UTC, :func:`utc_text`): the current box score is the latest stored
    stored_at: NotRequired[str]
    #: when a poll first saw the stream differ from what the previous box score showed (UTC)
    seen_at: NotRequired[str]


#: The version of the document's contract (``boxscore.schema.json``): 2 added the quarters, the
#: scoring summary, the game flow and the team shots; 3 stores pct to 3 places; 4 adds when the
#: box score was stored and when its change was seen.
SCHEMA_VERSION = 4

#: What a box score says of its write rather than of its game: two builds of the same game
#: state are the same box score whenever each was stored.
WHEN_FIELDS = ("stored_at", "seen_at")


def as_built(document: Mapping[str, Any]) -> dict[str, Any]:
    """The box score as the core builds it: the stored document without :data:`WHEN_FIELDS`, so a
    stored box score compares equal to a new build of the same game state."""
    return {key: value for key, value in document.items() if key not in WHEN_FIELDS}


def utc_text(moment: datetime) -> str:
    """A moment as the document stores it: UTC, ISO 8601, to the microsecond, always 27 characters
    (``2026-03-14T18:05:09.250000Z``), so that text order is time order for MongoDB and any reader."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def current_order(document: Mapping[str, Any]) -> tuple[str, str]:
    """Where a box score stands in the order that makes one of them the current one: the latest
    stored, and among box scores of one write (one per game) the greatest game id. A document
    stored before ``stored_at`` existed comes before every other. MongoDB sorts the same way
    (``sort({stored_at: -1, game_id: -1})``)."""
    return document.get("stored_at", ""), document.get("game_id", "")


def shooting_pct(shots: int, goals: int) -> float:
    """Goals per shot rounded to 3 places, as box scores print it (9 of 22: .409); 0.0 without a shot."""
    return round(goals / shots, 3) if shots else 0.0


def status(score: int, other: int, final: bool = False) -> str:
    """``winning``, ``losing`` or ``tied`` against the other side's score; ``won``, ``lost`` or
    ``tied`` once the game is final."""
    if score > other:
        return "won" if final else "winning"
    if score < other:
        return "lost" if final else "losing"
    return "tied"


def unknown_shooters(tally: Tally, team_id: int, players: Sequence[Player]) -> list[str]:
    """Jerseys that shot for a team but are not on its roster (their shots still count)."""
    numbers = {p.number for p in roster_of(team_id, players)}
    return sorted((j for (t, j) in tally.shots if t == team_id and j not in numbers), key=jersey_order)


def jersey_order(jersey: str) -> tuple[int, str]:
    """Jerseys as box scores list them: by number (``2`` before ``10``; ``07`` after ``7``)."""
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


def team_side(
    tally: Tally, team: Team, players: Sequence[Player], totals: tuple[int, int], opponent_score: int
) -> TeamSide:
    """One side of the box score: the team, its record before the game, score and players.

    ``totals`` are the team's (shots, goals) and ``opponent_score`` the other side's goals, each
    added up once per document (:meth:`Tally.team_totals` walks every shooter).
    """
    shots, score = totals
    return TeamSide(
        teamid=team.id,
        name=team.name,
        conference=team.conference,
        wins=team.wins,
        losses=team.losses,
        score=score,
        status=status(score, opponent_score, tally.final),
        shots=shots,
        pct=shooting_pct(shots, score),
        periods=quarter_lines(tally, team.id),
        players=player_lines(tally, team.id, players),
    )


def quarter_lines(tally: Tally, team_id: int) -> list[QuarterLine]:
    """Always four quarters, zeros for those not reached (the stream cannot carry overtime)."""
    lines = []
    for quarter in range(1, QUARTERS + 1):
        shots, goals = tally.quarters.get((team_id, quarter), (0, 0))
        lines.append(QuarterLine(period=quarter, shots=shots, goals=goals))
    return lines


def scoring_summary(
    plays: Sequence[ScoringPlay], home: Team, away: Team, players: Sequence[Player]
) -> list[ScoringLine]:
    """Every goal in event-id order with its scorer and the score after it."""
    rostered = {(p.teamid, p.number): p for p in players if p.teamid in (home.id, away.id)}
    lines = []
    for play in plays:
        scorer = rostered.get((play.team, play.jersey))
        lines.append(
            ScoringLine(
                event_id=play.event_id,
                period=play.period,
                period_clock=play.period_clock,
                teamid=play.team,
                number=play.jersey,
                player_id=scorer.id if scorer else None,
                name=scorer.name if scorer else None,
                home_score=play.home_score,
                away_score=play.away_score,
            )
        )
    return lines


def boxscore_id(game_id: str, event_id: int, per_game: bool) -> int | str:
    """The document key: the event id for the single stream, ``<game_id>/<event_id>`` per game."""
    return f"{game_id}/{event_id}" if per_game else event_id


def build_boxscore(
    tally: Tally, home: Team, away: Team, players: Sequence[Player], game_id: str, per_game: bool = False
) -> BoxScore:
    """The document for the stream as tallied; keyed by the latest event id (and game)."""
    if tally.last_event_id is None or tally.clock is None:
        raise ValueError("no event in the stream yet: there is no box score to build")
    period, period_clock = in_quarter(clock_seconds(tally.clock))
    plays = scoring_plays(tally.goals, home.id, away.id)
    flow = game_flow(plays)
    home_totals, away_totals = tally.team_totals(home.id), tally.team_totals(away.id)
    return BoxScore(
        _id=boxscore_id(game_id, tally.last_event_id, per_game),
        game_id=game_id,
        event_id=tally.last_event_id,
        schema_version=SCHEMA_VERSION,
        timestamp=tally.clock,
        period=period,
        period_clock=period_clock,
        final=tally.final,
        home=team_side(tally, home, players, home_totals, away_totals[1]),
        away=team_side(tally, away, players, away_totals, home_totals[1]),
        scoring=scoring_summary(plays, home, away, players),
        game_flow=GameFlowNote(
            lead_changes=flow.lead_changes,
            ties=flow.ties,
            home_largest_lead=flow.home_largest_lead,
            away_largest_lead=flow.away_largest_lead,
        ),
        quality=QualityNote(
            rejected=tally.quality.rejected,
            duplicates=tally.quality.duplicates,
            examples=list(tally.quality.examples),
        ),
    )


def final_score(boxscore: BoxScore) -> dict[int, int]:
    """Goals per team id, e.g. ``{101: 14, 205: 9}``."""
    return {side["teamid"]: side["score"] for side in (boxscore["home"], boxscore["away"])}
