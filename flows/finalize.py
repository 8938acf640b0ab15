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
from boxscore.settings import Settings
from tasks.boxscores import latest_boxscore
from tasks.reference import read_reference, write_season_tables


@flow(name="finalize-game")
def finalize_game() -> tuple[list[Team], list[Player]]:
    """Read the final box score and the base tables; write the tables after the game."""
    settings = Settings.from_env()
    logger = get_run_logger()
    final = require_final(latest_boxscore(settings.mongo_url, settings.mongo_db, settings.mongo_collection))
    team_rows, player_rows = read_reference(settings.sql_url)
    teams2, players2 = teams_after(team_rows, [final]), players_after(player_rows, [final])
    write_season_tables(settings.sql_url, teams2, players2)
    create_markdown_artifact(final_summary(final, team_rows, teams2), key="final-result", description=scoreline(final))
    logger.info("finalized %s: wrote %d teams2 and %d players2 rows", scoreline(final), len(teams2), len(players2))
    return teams2, players2


if __name__ == "__main__":
    try:
        finalize_game()
    except GameNotOver as reason:
        print(f"finalize: {reason}", file=sys.stderr)
        sys.exit(2)
