"""The season tables after the game: ``teams2`` (records) and ``players2`` (totals).

Both are recomputed from the untouched base tables plus the final box scores, never by adding
to the previous ``*2`` tables, so finalizing twice gives identical tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from boxscore.document import BoxScore, final_score
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


def teams_after(teams: Sequence[Team], finals: Iterable[BoxScore]) -> list[Team]:
    """Records after the games: the winner's wins +1, the loser's losses +1, a tie changes neither."""
    by_id = {team.id: team for team in teams}
    for boxscore in finals:
        (a, a_goals), (b, b_goals) = final_score(boxscore).items()
        if a_goals == b_goals:
            continue
        winner, loser = (a, b) if a_goals > b_goals else (b, a)
        by_id[winner] = replace(by_id[winner], wins=by_id[winner].wins + 1)
        by_id[loser] = replace(by_id[loser], losses=by_id[loser].losses + 1)
    return sorted(by_id.values(), key=lambda team: team.id)


def players_after(players: Sequence[Player], finals: Iterable[BoxScore]) -> list[Player]:
    """Season totals after the games: each rostered player's shots and goals plus the game's."""
    by_id = {player.id: player for player in players}
    for boxscore in finals:
        for side in ("home", "away"):
            for line in boxscore[side]["players"]:
                if line["id"] is None:
                    continue  # a jersey missing from the roster has no season row to add to
                player = by_id[line["id"]]
                by_id[player.id] = replace(
                    player, shots=player.shots + line["shots"], goals=player.goals + line["goals"]
                )
    return sorted(by_id.values(), key=lambda player: player.id)
