"""The season tables: ``teams2`` (records) and ``players2`` (totals) after every finished game.

Both are recomputed from the untouched base tables plus the result of every finished game so far,
never by adding to the previous ``*2`` tables: finalizing twice, or a game replayed, gives
identical tables, and a game finalized again with corrected lines replaces its earlier result.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from boxscore.document import BoxScore
from boxscore.roster import Player, Team


class GameNotOver(RuntimeError):
    """Finalize was asked for a game whose latest box score is not final."""


def require_final(boxscore: BoxScore | None) -> BoxScore:
    """The box score, if it is final; otherwise a clear reason why nothing can be written."""
    if boxscore is None:
        raise GameNotOver("no box score found: the game has not started, so there is nothing to finalize")
    if not boxscore.get("final"):
        raise GameNotOver(
            f"the game is not over: the latest box score (event {boxscore['_id']}, clock {boxscore['timestamp']}) "
            "is not final; teams2/players2 were not written"
        )
    return boxscore


@dataclass(frozen=True)
class PlayerResult:
    """What one rostered player added in a game."""

    player_id: int
    shots: int
    goals: int


@dataclass(frozen=True)
class GameResult:
    """What a finished game adds to the season: the result and each rostered player's line.

    Stored in the ``results`` and ``result_players`` tables; shooters missing from the roster
    have no season row, so they are not kept here.
    """

    game_id: str
    home: int
    away: int
    home_score: int
    away_score: int
    event_id: int
    clock: str
    players: tuple[PlayerResult, ...]


def result_of(game_id: str, final: BoxScore) -> GameResult:
    """The season's view of a final box score."""
    home, away = final["home"], final["away"]
    lines = (line for side in (home, away) for line in side["players"])
    return GameResult(
        game_id,
        home["teamid"],
        away["teamid"],
        home["score"],
        away["score"],
        int(final.get("event_id", final["_id"])),
        final["timestamp"],
        tuple(PlayerResult(line["id"], line["shots"], line["goals"]) for line in lines if line["id"] is not None),
    )


def missing_references(result: GameResult, teams: Sequence[Team], players: Sequence[Player]) -> list[str]:
    """The teams and players a result names that the base tables lack (by id), in words."""
    team_ids, player_ids = {team.id for team in teams}, {player.id for player in players}
    missing = [f"team {team}" for team in (result.home, result.away) if team not in team_ids]
    missing += [f"player {line.player_id}" for line in result.players if line.player_id not in player_ids]
    return missing


def teams_after(teams: Sequence[Team], results: Iterable[GameResult]) -> list[Team]:
    """Records after the games: the winner's wins +1, the loser's losses +1, a tie changes neither."""
    by_id = {team.id: team for team in teams}
    for result in results:
        if result.home_score == result.away_score:
            continue
        winner, loser = (
            (result.home, result.away) if result.home_score > result.away_score else (result.away, result.home)
        )
        by_id[winner] = replace(by_id[winner], wins=by_id[winner].wins + 1)
        by_id[loser] = replace(by_id[loser], losses=by_id[loser].losses + 1)
    return sorted(by_id.values(), key=lambda team: team.id)


def players_after(players: Sequence[Player], results: Iterable[GameResult]) -> list[Player]:
    """Season totals after the games: each rostered player's shots and goals plus the games'."""
    by_id = {player.id: player for player in players}
    for result in results:
        for line in result.players:
            player = by_id[line.player_id]
            by_id[player.id] = replace(player, shots=player.shots + line.shots, goals=player.goals + line.goals)
    return sorted(by_id.values(), key=lambda player: player.id)


@dataclass(frozen=True)
class Season:
    """The tables after every finished game that can count, and why any other one cannot."""

    teams: list[Team]
    players: list[Player]
    skipped: dict[str, str]  # game id -> what the base tables lack
    counted: tuple[str, ...] = ()  # the games whose results are in the tables


def season_after(teams: Sequence[Team], players: Sequence[Player], results: Iterable[GameResult]) -> Season:
    """Base tables plus every result; a result naming a team or player the base lacks is skipped."""
    counted, skipped = [], {}
    for result in results:
        missing = missing_references(result, teams, players)
        if missing:
            skipped[result.game_id] = ", ".join(missing) + " not in the base tables"
        else:
            counted.append(result)
    counted_ids = tuple(result.game_id for result in counted)
    return Season(teams_after(teams, counted), players_after(players, counted), skipped, counted_ids)
