"""The season document: schedule and results, standings and stat leaders, as the season pages show them.

One document per season in MongoDB (``sidearm.seasons``, docs/document.md), so a season page is
one query, as a box score is. Two writers share it, each owning its part:

- finalize writes the **tables** part (standings from ``teams2``, leaders from ``players2``, the
  games it counted or left out) with the schedule entries of the games it finalized;
- the live flow writes the **schedule** entry of each game whose box score it stores (live with
  score and clock, or final) and the planned games of the ``games`` table not yet on it.

Live games add a marker, never a second truth: standings and leaders are the season tables'
numbers, and a team or player in a live game is flagged by the page from the schedule
(:func:`playing_now`). Everything here is pure; the rules are stated in :data:`RULES`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from boxscore.document import BoxScore
from boxscore.games import Matchup
from boxscore.roster import Player, Team
from boxscore.season import Season

#: how many places a leaders' table shows (more when players tie at the last place)
LEADERS_TOP = 10
#: the fewest season shots that put a player in the shooting-percentage table
MIN_SHOTS = 10
#: the order of a standings table, said on the page and in the document
STANDINGS_RULE = "by win percentage, then more wins; teams equal in both share the rank (T-) and are listed by name"
LEADERS_RULE = "ties share the rank (T-) and are listed by name; a leader has at least one of the stat"

ScheduledGame = dict[str, Any]
SeasonDocument = dict[str, Any]


def schedule_key(game_id: str) -> str:
    """A game's field name in ``schedule``: its id with ``.`` written ``~`` (a dot would split an
    update path; ``~`` is in no game id, so the key reads back to one id)."""
    return game_id.replace(".", "~")


def win_pct(wins: int, losses: int) -> float:
    """Wins over games decided, to 3 places as standings print it (``.000`` before any game)."""
    decided = wins + losses
    return round(wins / decided, 3) if decided else 0.0


def shooting_pct(goals: int, shots: int) -> float:
    """Goals over shots, to 3 places, as the box score stores it."""
    return round(goals / shots, 3) if shots else 0.0


def _side(teamid: int, name: str) -> dict[str, Any]:
    return {"teamid": teamid, "name": name}


def planned_entry(matchup: Matchup, teams: Mapping[int, Team]) -> ScheduledGame:
    """A game of the ``games`` table before its first box score (a team the base tables lack is
    shown by its id)."""
    home, away = teams.get(matchup.home), teams.get(matchup.away)
    return {
        "game_id": matchup.game_id,
        "home": _side(matchup.home, home.name if home else f"team {matchup.home}"),
        "away": _side(matchup.away, away.name if away else f"team {matchup.away}"),
        "status": "scheduled",
        "home_score": None,
        "away_score": None,
        "clock": None,
        "period": None,
        "counted": False,
    }


def played_entry(boxscore: BoxScore, counted: bool = False) -> ScheduledGame:
    """A game as its latest box score has it: live with score, clock and quarter, or final.

    ``counted``: finalize counted it in the standings (the live flow never says so).
    """
    home, away = boxscore["home"], boxscore["away"]
    return {
        "game_id": boxscore["game_id"],
        "home": _side(home["teamid"], home["name"]),
        "away": _side(away["teamid"], away["name"]),
        "status": "final" if boxscore["final"] else "live",
        "home_score": home["score"],
        "away_score": away["score"],
        "clock": boxscore["period_clock"],
        "period": boxscore["period"],
        "counted": counted,
    }


@dataclass(frozen=True)
class Tables:
    """What finalize writes: the season tables after every counted game, in page order."""

    standings: list[dict[str, Any]]
    leaders: dict[str, list[dict[str, Any]]]
    skipped: list[dict[str, str]]
    final_games: int

    def fields(self) -> dict[str, Any]:
        """The document's fields for these tables, with the digest that says whether they changed."""
        body = {
            "standings": self.standings,
            "leaders": self.leaders,
            "skipped": self.skipped,
            "final_games": self.final_games,
            "rules": RULES,
        }
        digest = hashlib.blake2b(json.dumps(body, sort_keys=True).encode(), digest_size=8).hexdigest()
        return {**body, "tables_digest": digest}


#: the rules the tables follow, stored with them so a page or a reader can say them
RULES = {"standings": STANDINGS_RULE, "leaders": LEADERS_RULE, "leaders_top": LEADERS_TOP, "min_shots": MIN_SHOTS}


def _ranked(rows: list[dict[str, Any]], key: str | tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows already in order, each given its rank: one more than the rows strictly ahead; equal
    rows share it (``tied``)."""
    keys = (key,) if isinstance(key, str) else key
    values = [tuple(row[k] for k in keys) for row in rows]
    ranked = []
    for index, row in enumerate(rows):
        rank = next(i for i, value in enumerate(values) if value == values[index]) + 1
        tied = values.count(values[index]) > 1
        ranked.append({"rank": rank, "tied": tied, **row})
    return ranked


def standings(teams2: Iterable[Team]) -> list[dict[str, Any]]:
    """Each conference's table (conferences by name), in :data:`STANDINGS_RULE` order."""
    conferences: dict[str, list[Team]] = {}
    for team in teams2:
        conferences.setdefault(team.conference, []).append(team)
    tables = []
    for conference in sorted(conferences):
        rows: list[dict[str, Any]] = [
            {
                "teamid": t.id,
                "name": t.name,
                "wins": t.wins,
                "losses": t.losses,
                "pct": win_pct(t.wins, t.losses),
            }
            for t in conferences[conference]
        ]
        rows.sort(key=lambda r: (-r["pct"], -r["wins"], r["name"], r["teamid"]))
        tables.append({"conference": conference, "teams": _ranked(rows, ("pct", "wins"))})
    return tables


def _leaders_of(rows: list[dict[str, Any]], stat: str, top: int) -> list[dict[str, Any]]:
    rows = sorted(rows, key=lambda r: (-r[stat], r["name"], r["player_id"]))
    return [row for row in _ranked(rows, stat) if row["rank"] <= top]


def leaders(
    players2: Iterable[Player], teams: Mapping[int, Team], top: int = LEADERS_TOP, min_shots: int = MIN_SHOTS
) -> dict[str, list[dict[str, Any]]]:
    """The top ``top`` in goals, shots and shooting percentage (at least ``min_shots`` shots)."""
    rows: list[dict[str, Any]] = [
        {
            "player_id": p.id,
            "name": p.name,
            "number": p.number,
            "teamid": p.teamid,
            "team": teams[p.teamid].name if p.teamid in teams else f"team {p.teamid}",
            "shots": p.shots,
            "goals": p.goals,
            "pct": shooting_pct(p.goals, p.shots),
        }
        for p in players2
    ]
    return {
        "goals": _leaders_of([r for r in rows if r["goals"] > 0], "goals", top),
        "shots": _leaders_of([r for r in rows if r["shots"] > 0], "shots", top),
        "shooting_pct": _leaders_of([r for r in rows if r["shots"] >= min_shots and r["goals"] > 0], "pct", top),
    }


def tables_of(season: Season) -> Tables:
    """The tables part of the season document, from what finalize just wrote to SQL."""
    teams = {team.id: team for team in season.teams}
    return Tables(
        standings(season.teams),
        leaders(season.players, teams),
        [{"game_id": game, "reason": reason} for game, reason in sorted(season.skipped.items())],
        len(season.counted),
    )


def empty_season(season: str) -> SeasonDocument:
    """The fields a season document has before finalize first writes its tables."""
    return {
        "season": season,
        "version": 0,
        "standings": [],
        "leaders": {"goals": [], "shots": [], "shooting_pct": []},
        "skipped": [],
        "final_games": 0,
        "rules": RULES,
        "tables_digest": "",
        "schedule": {},
    }


# -- what a page shows besides the stored fields ----------------------------------------------------


def schedule_order(document: SeasonDocument) -> list[ScheduledGame]:
    """The schedule as a list: live games first, then scheduled, then final, each by game id."""
    rank = {"live": 0, "scheduled": 1, "final": 2}
    games = list((document.get("schedule") or {}).values())
    return sorted(games, key=lambda game: (rank.get(game["status"], 3), game["game_id"]))


def playing_now(document: SeasonDocument) -> dict[int, ScheduledGame]:
    """The live game of each team playing one now (the page's live marker in standings and leaders)."""
    live: dict[int, ScheduledGame] = {}
    for game in (document.get("schedule") or {}).values():
        if game["status"] == "live":
            live[game["home"]["teamid"]] = game
            live[game["away"]["teamid"]] = game
    return live


def has_results(document: SeasonDocument | None) -> bool:
    """Whether any game is final and counted: before that the tables say so rather than show zeros."""
    return bool(document) and int(document.get("final_games", 0)) > 0  # type: ignore[union-attr]
