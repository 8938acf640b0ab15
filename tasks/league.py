"""The reference tables as the live flow reads them: teams, players and the games' matchups.

SQLAlchemy is imported at the first read, not when the flow starts: nothing needs it before a
stream exists (``make bench-startup`` times the way to the first poll).
"""

from __future__ import annotations

from dataclasses import dataclass

from boxscore.games import Matchup
from boxscore.roster import League


@dataclass(frozen=True)
class ReferenceDatabase:
    """The SQL database's reference tables; ``single`` is the single stream's matchup (``None``: a prefix)."""

    sql_url: str
    single: Matchup | None

    def read(self) -> tuple[dict[str, Matchup], League]:
        """Teams and players, and the matchups: the single stream's, or the ``games`` table's."""
        from tasks.reference import read_matchups, read_reference

        league = League.of(*read_reference(self.sql_url))
        matchups = {self.single.game_id: self.single} if self.single else read_matchups(self.sql_url)
        return matchups, league
