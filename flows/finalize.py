"""Finalize a game: write ``teams2`` and ``players2`` from the final box score.

    python -m flows.finalize

Recomputed from ``teams``/``players`` every time, so running it twice gives identical tables.
Exits non-zero, writing nothing, while the latest box score is not final.
"""

from __future__ import annotations

import sys

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from boxscore.report import final_summary, scoreline
from boxscore.roster import Player, Team
from boxscore.season import GameNotOver, players_after, require_final, teams_after
from tasks.boxscores import final_boxscores, game_count, latest_boxscore
from tasks.reference import read_reference, write_season_tables
from tasks.settings import Settings


@flow(name="finalize-game")
def finalize_game() -> tuple[list[Team], list[Player]]:
    """Read the final box scores and the base tables; write the tables after the games.

    Single stream: its latest box score must be final. Several games: every game with a final
    box score counts (games still running are left for a later finalize).
    """
    settings = Settings.from_env()
    logger = get_run_logger()
    mongo = (settings.mongo_url, settings.mongo_db, settings.mongo_collection)
    latest = latest_boxscore(*mongo)
    if latest is None or "game_id" not in latest:
        finals = [require_final(latest)]
    else:
        finals = final_boxscores(*mongo)
        if not finals:
            raise GameNotOver(f"none of the {game_count(*mongo)} games is over; teams2/players2 were not written")
    team_rows, player_rows = read_reference(settings.sql_url)
    teams2, players2 = teams_after(team_rows, finals), players_after(player_rows, finals)
    write_season_tables(settings.sql_url, teams2, players2)
    summary = "\n".join(final_summary(final, team_rows, teams2) for final in finals[:20])
    create_markdown_artifact(summary, key="final-result", description=scoreline(finals[-1]))
    logger.info(
        "finalized %d game(s), last %s: wrote %d teams2 and %d players2 rows",
        len(finals),
        scoreline(finals[-1]),
        len(teams2),
        len(players2),
    )
    return teams2, players2


if __name__ == "__main__":
    try:
        finalize_game()
    except GameNotOver as reason:
        print(f"finalize: {reason}", file=sys.stderr)
        sys.exit(2)
