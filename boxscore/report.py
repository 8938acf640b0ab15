"""The box score and season tables as text tables, for the terminal and the demo."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import astuple, fields
from string import capwords
from typing import TYPE_CHECKING, Any

from tabulate import tabulate

from boxscore.document import BoxScore
from boxscore.events import GAME_LENGTH_SECONDS, clock_seconds
from boxscore.roster import Player, Team

if TYPE_CHECKING:
    from boxscore.watch import GameFigures


def team_name(name: str) -> str:
    """A team as a person reads it, wherever it is shown: ``johns hopkins`` -> ``Johns Hopkins``.

    The tables and the document keep the name as the teams table gives it; ``capwords`` (not
    ``str.title``) leaves ``st. john's`` as ``St. John's``."""
    return capwords(name)


def game_state(boxscore: BoxScore) -> str:
    """``Final``, or the quarter and its clock while live: ``Q2 11:13``."""
    return "Final" if boxscore["final"] else f"Q{boxscore['period']} {boxscore['period_clock']}"


def score(boxscore: BoxScore) -> str:
    """The score, the visitor first: ``Johns Hopkins 9 - 14 Syracuse``."""
    home, away = boxscore["home"], boxscore["away"]
    return f"{team_name(away['name'])} {away['score']} - {home['score']} {team_name(home['name'])}"


def scoreline(boxscore: BoxScore) -> str:
    """The score as the page's scoreboard reads it, the visitor first:
    ``Johns Hopkins 9 - 14 Syracuse, Final (event 70)``."""
    return f"{score(boxscore)}, {game_state(boxscore)} (event {boxscore['_id']})"


def boxscore_table(boxscore: BoxScore) -> str:
    """Both teams' player lines under the scoreline."""
    parts = [scoreline(boxscore)]
    for side in ("home", "away"):
        team = boxscore[side]
        rows = [(p["id"], p["name"], p["number"], p["shots"], p["goals"], f"{p['pct']:.3f}") for p in team["players"]]
        parts.append(
            f"\n{side}: {team_name(team['name'])} ({team['conference']}, {team['wins']}-{team['losses']}) "
            f"{team['score']} {team['status']}"
        )
        parts.append(
            tabulate(
                rows, headers=["id", "name", "#", "shots", "goals", "pct"], tablefmt="github", disable_numparse=True
            )
        )
    return "\n".join(parts)


def rows_table(rows: Sequence[Team] | Sequence[Player]) -> str:
    """A table of teams or players, one row each."""
    if not rows:
        return "(no rows)"
    table: str = tabulate(
        [astuple(row) for row in rows],
        headers=[f.name for f in fields(rows[0])],
        tablefmt="github",
        disable_numparse=True,
    )
    return table


def line_score(boxscore: BoxScore) -> str:
    """The line score as a Markdown table, the visitor first: team | 1 | 2 | 3 | 4 | T (goals), shots."""
    lines = ["| team | 1 | 2 | 3 | 4 | T | shots |", "|---|---|---|---|---|---|---|"]
    for side in ("away", "home"):
        team = boxscore[side]
        goals = " | ".join(str(quarter["goals"]) for quarter in team["periods"])
        lines.append(f"| {team_name(team['name'])} | {goals} | {team['score']} | {team['shots']} |")
    return "\n".join(lines)


def boxscore_rows(boxscore: BoxScore) -> list[dict[str, object]]:
    """One row per player line of both teams (the UI's table artifact)."""
    return [
        {
            "team": team_name(boxscore[side]["name"]),
            "id": p["id"],
            "name": p["name"],
            "number": p["number"],
            "shots": p["shots"],
            "goals": p["goals"],
            "pct": p["pct"],
        }
        for side in ("home", "away")
        for p in boxscore[side]["players"]
    ]


#: the Prefect UI's games table shows at most this many games: ten thousand rows made an artifact
#: of 1.6 MB every 30 s, whose event Prefect refuses (over its size limit) and no one reads
GAMES_SHOWN = 500
#: past ``GAMES_SHOWN`` games, which states the table keeps first: where an operator looks first
_NEEDS_A_LOOK = {"live": 0, "waiting": 1, "final": 2, "finalized": 3}


def games_rows(games: Mapping[str, GameFigures], limit: int = GAMES_SHOWN) -> list[dict[str, object]]:
    """A prefix run's games, one row each in game id order, for the Prefect UI's table.

    More than ``limit`` games: the ``limit`` that most need a look, the furthest behind first,
    then live, waiting and over (:func:`games_shown` says so in the table's description).
    """
    shown = sorted(games)
    if len(games) > limit:
        need = sorted(games, key=lambda game: (-games[game].behind, _NEEDS_A_LOOK[games[game].state], game))
        shown = sorted(need[:limit])
    return [
        {
            "game": game,
            "state": games[game].state,
            "score": games[game].score,
            "clock": games[game].clock,
            "box scores": games[game].written,
            "events": games[game].events,
            "rejected lines": games[game].rejected,
        }
        for game in shown
    ]


def games_shown(games: Mapping[str, GameFigures], limit: int = GAMES_SHOWN) -> str:
    """The games table's description: how many games, how many over, and which the table shows."""
    over = sum(figures.state in ("final", "finalized") for figures in games.values())
    said = f"{len(games)} games followed, {over} over"
    if len(games) > limit:
        said += f"; the {limit} that most need a look are shown (behind, live, waiting, over), all in the metrics"
    return said


def game_progress(boxscore: BoxScore) -> float:
    """Percent of the 60 minutes played at the box score's clock (100 once final)."""
    if boxscore["final"]:
        return 100.0
    remaining = clock_seconds(boxscore["timestamp"])
    return round(100.0 * (GAME_LENGTH_SECONDS - remaining) / GAME_LENGTH_SECONDS, 1)


def final_summary(final: BoxScore, before: Sequence[Team], after: Sequence[Team]) -> str:
    """Markdown: the final result and how each team's record changed."""
    playing = {final[side]["teamid"] for side in ("home", "away")}
    rows = [
        f"| {team_name(old.name)} | {old.wins}-{old.losses} | {new.wins}-{new.losses} |"
        for old, new in zip(before, after, strict=True)
        if old.id in playing and (old.wins, old.losses) != (new.wins, new.losses)
    ]
    lines = [
        f"# Final: {scoreline(final)}",
        "",
        "## teams2: records after the game",
        "",
        "| team | before | after |",
        "|---|---|---|",
        *rows,
    ]
    if not rows:
        lines.append("| (a tie: no record changed) | | |")
    return "\n".join(lines) + "\n"


def _rank(row: Mapping[str, Any]) -> str:
    return f"T-{row['rank']}" if row["tied"] else str(row["rank"])


def season_report(document: Mapping[str, Any], top: int = 5) -> str:
    """The season document as the pages show it, in text: each conference's standings and the
    first ``top`` places of each leaders' table."""
    parts = [f"season {document['season']}: {document['final_games']} final game(s) counted"]
    for table in document["standings"]:
        rows = [
            (_rank(r), team_name(r["name"]), r["wins"], r["losses"], f"{r['pct']:.3f}".removeprefix("0"))
            for r in table["teams"]
        ]
        headers = ["rank", f"{table['conference']}", "W", "L", "pct"]
        parts.append(tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True))
    for key, heading in (("goals", "goals"), ("shots", "shots"), ("shooting_pct", "pct")):
        stat = "pct" if key == "shooting_pct" else key
        places = [
            (
                _rank(r),
                f"{capwords(r['name'])} #{r['number']}",
                team_name(r["team"]),
                f"{r['pct']:.3f}".removeprefix("0") if stat == "pct" else str(r[stat]),
            )
            for r in document["leaders"][key]
            if r["rank"] <= top
        ]
        headers = ["rank", f"{heading} leaders", "team", heading]
        parts.append(tabulate(places, headers=headers, tablefmt="github", disable_numparse=True))
    return "\n\n".join(parts)
