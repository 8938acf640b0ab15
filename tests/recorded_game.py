"""Expected values for the recorded game (data/seed/game_events.txt), worked out by hand.

Nothing here imports the code under test: the final box score and the season tables are
literals counted from the events file, and :func:`reference_counts` is a deliberately naive
re-count used to check intermediate box scores.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

SEED = Path(__file__).resolve().parents[1] / "data" / "seed"
EVENTS_FILE = SEED / "game_events.txt"


def derived_game_id(first_line: str) -> str:
    """README's rule for a game nobody named: ``g`` + 12 hex digits of its first line's SHA-256."""
    return "g" + hashlib.sha256(first_line.encode()).hexdigest()[:12]


RECORDED_GAME_ID = derived_game_id(EVENTS_FILE.read_text().split("\n")[0].strip())

# (id, name, number, shots, goals, pct) in the game, ordered by id; pct is goals per shot to 3 places.
HOME_PLAYERS = [
    (1, "sam", "6", 4, 2, 0.5),
    (2, "sarah", "1", 8, 6, 0.75),
    (3, "steve", "2", 7, 2, 0.286),
    (4, "stone", "13", 7, 1, 0.143),
    (5, "sean", "17", 2, 0, 0.0),
    (6, "sly", "8", 4, 0, 0.0),
    (7, "sol", "9", 5, 0, 0.0),
    (8, "shree", "4", 5, 1, 0.2),
    (9, "shelly", "15", 3, 1, 0.333),
    (10, "swede", "10", 3, 1, 0.333),
]
AWAY_PLAYERS = [
    (11, "jimmy", "1", 3, 3, 1.0),
    (12, "julie", "9", 4, 0, 0.0),
    (13, "james", "2", 3, 1, 0.333),
    (14, "jane", "15", 2, 2, 1.0),
    (15, "jimmy", "16", 1, 0, 0.0),
    (16, "julie", "8", 2, 1, 0.5),
    (17, "james", "17", 3, 1, 0.333),
    (18, "jane", "3", 1, 0, 0.0),
    (19, "jimmy", "5", 2, 1, 0.5),
    (20, "julie", "22", 1, 0, 0.0),
]


def _players(rows: list[tuple]) -> list[dict]:
    keys = ("id", "name", "number", "shots", "goals", "pct")
    return [dict(zip(keys, row, strict=True)) for row in rows]


# Every goal, counted by hand from the events file: (event id, quarter, time left in it, team,
# jersey, player id, name, home score, away score) after the goal.
SCORING = [
    (2, 1, "11:13", 205, "8", 16, "julie", 0, 1),
    (4, 1, "10:03", 101, "1", 2, "sarah", 1, 1),
    (10, 1, "04:55", 101, "1", 2, "sarah", 2, 1),
    (11, 1, "04:28", 101, "2", 3, "steve", 3, 1),
    (12, 1, "03:52", 101, "10", 10, "swede", 4, 1),
    (13, 1, "02:52", 101, "4", 8, "shree", 5, 1),
    (16, 1, "00:49", 101, "1", 2, "sarah", 6, 1),
    (18, 2, "13:29", 205, "1", 11, "jimmy", 6, 2),
    (19, 2, "11:54", 205, "1", 11, "jimmy", 6, 3),
    (20, 2, "11:09", 101, "1", 2, "sarah", 7, 3),
    (21, 2, "11:03", 205, "5", 19, "jimmy", 7, 4),
    (24, 2, "10:20", 101, "1", 2, "sarah", 8, 4),
    (27, 2, "08:03", 101, "13", 4, "stone", 9, 4),
    (28, 2, "07:48", 205, "15", 14, "jane", 9, 5),
    (29, 2, "07:31", 205, "15", 14, "jane", 9, 6),
    (33, 2, "04:22", 101, "15", 9, "shelly", 10, 6),
    (47, 3, "09:57", 101, "6", 1, "sam", 11, 6),
    (48, 3, "08:57", 101, "6", 1, "sam", 12, 6),
    (52, 3, "05:22", 101, "1", 2, "sarah", 13, 6),
    (55, 3, "02:23", 205, "1", 11, "jimmy", 13, 7),
    (59, 4, "13:07", 205, "2", 13, "james", 13, 8),
    (60, 4, "12:32", 205, "17", 17, "james", 13, 9),
    (62, 4, "09:05", 101, "2", 3, "steve", 14, 9),
]


def _periods(shots: tuple[int, ...], goals: tuple[int, ...]) -> list[dict]:
    return [{"period": q, "shots": s, "goals": g} for q, (s, g) in enumerate(zip(shots, goals, strict=True), 1)]


def _scoring(rows: list[tuple]) -> list[dict]:
    keys = ("event_id", "period", "period_clock", "teamid", "number", "player_id", "name", "home_score", "away_score")
    return [dict(zip(keys, row, strict=True)) for row in rows]


FINAL_BOXSCORE = {
    "_id": 70,
    "game_id": RECORDED_GAME_ID,
    "event_id": 70,
    "schema_version": 4,
    "timestamp": "00:00",
    "period": 4,
    "period_clock": "00:00",
    "final": True,
    "home": {
        "teamid": 101,
        "name": "syracuse",
        "conference": "acc",
        "wins": 11,
        "losses": 2,
        "score": 14,
        "status": "won",
        "shots": 48,
        "pct": 0.292,
        "periods": _periods((16, 16, 6, 10), (6, 4, 3, 1)),
        "players": _players(HOME_PLAYERS),
    },
    "away": {
        "teamid": 205,
        "name": "johns hopkins",
        "conference": "big10",
        "wins": 9,
        "losses": 4,
        "score": 9,
        "status": "lost",
        "shots": 22,
        "pct": 0.409,
        "periods": _periods((2, 7, 10, 3), (1, 5, 1, 2)),
        "players": _players(AWAY_PLAYERS),
    },
    "scoring": _scoring(SCORING),
    "game_flow": {"lead_changes": 1, "ties": 1, "home_largest_lead": 7, "away_largest_lead": 1},
    "quality": {"rejected": 0, "duplicates": 0, "examples": []},
}

#: the final as MongoDB holds it: the box score as built, and when it was seen and stored
STORED_FINAL = {**FINAL_BOXSCORE, "stored_at": "2026-03-14T18:05:09.250000Z", "seen_at": "2026-03-14T18:05:09.125000Z"}

# teams2 and players2 after the game: (id, name, conference, wins, losses) / (id, name, number, shots, goals, teamid)
TEAMS2 = [(101, "syracuse", "acc", 12, 2), (205, "johns hopkins", "big10", 9, 5)]
PLAYERS2 = [
    (1, "sam", "6", 60, 25, 101),
    (2, "sarah", "1", 93, 40, 101),
    (3, "steve", "2", 67, 22, 101),
    (4, "stone", "13", 40, 11, 101),
    (5, "sean", "17", 28, 9, 101),
    (6, "sly", "8", 82, 15, 101),
    (7, "sol", "9", 57, 20, 101),
    (8, "shree", "4", 25, 5, 101),
    (9, "shelly", "15", 13, 3, 101),
    (10, "swede", "10", 93, 51, 101),
    (11, "jimmy", "1", 103, 53, 205),
    (12, "julie", "9", 14, 0, 205),
    (13, "james", "2", 48, 16, 205),
    (14, "jane", "15", 84, 48, 205),
    (15, "jimmy", "16", 43, 30, 205),
    (16, "julie", "8", 69, 33, 205),
    (17, "james", "17", 43, 15, 205),
    (18, "jane", "3", 92, 40, 205),
    (19, "jimmy", "5", 80, 23, 205),
    (20, "julie", "22", 84, 19, 205),
]


def event_lines() -> list[str]:
    """The recorded game's lines, as the simulator writes them."""
    return EVENTS_FILE.read_text().split("\n")


def reference_counts(upto_event: int) -> dict:
    """A naive re-count of the recorded game's events with id <= upto_event."""
    return recount(event_lines(), upto_event)


def naive_quarter(clock: str) -> int:
    """The quarter of a ``mm:ss`` clock counted by hand: 15 minutes of play each, a moment on a
    boundary in the quarter it ends (60:00 to 45:00 is Q1, 44:59 Q2)."""
    played = 3600 - (int(clock[:2]) * 60 + int(clock[3:]))
    return max(1, (played + 899) // 900)


def recount(lines: list[str], upto_event: int) -> dict:
    """A naive re-count of clean event lines with id <= upto_event (the sentinel -1 excluded).

    Returns {"score": {team: goals}, "shots": {(team, jersey): (shots, goals)}, "clock": str,
    "final": bool, "quarters": {(team, quarter): (shots, goals)}, "goals": [(event id, team)]},
    a quarter being 15 minutes of the 60:00 clock, a moment on a boundary in the quarter it ends.
    """
    teams = sorted({int(line.split()[2]) for line in lines if line.split()[2] != "0"})
    score = {team: 0 for team in teams}
    shots: dict = {}
    quarters: dict = {}
    goals: list = []
    clock, final = None, False
    last_id = max(int(line.split()[0]) for line in lines)
    for line in lines:
        event, clk, team, jersey, goal = line.split()
        if int(event) > upto_event or int(event) < 0:
            if int(event) == -1 and upto_event >= last_id:
                final = True
            continue
        if int(event) == upto_event:
            clock = clk
        if clk == "00:00":
            final = True
        if team == "0":
            continue
        s, g = shots.get((int(team), jersey), (0, 0))
        shots[(int(team), jersey)] = (s + 1, g + int(goal))
        score[int(team)] += int(goal)
        quarter = (int(team), naive_quarter(clk))
        s, g = quarters.get(quarter, (0, 0))
        quarters[quarter] = (s + 1, g + int(goal))
        if goal == "1":
            goals.append((int(event), int(team)))
    return {"score": score, "shots": shots, "clock": clock, "final": final, "quarters": quarters, "goals": goals}


# The line score of the recorded game by quarter, counted by hand from the events file with the
# quarter rule (Q1 60:00-45:00, Q2 44:59-30:00, Q3 29:59-15:00, Q4 14:59-00:00): goals, then shots.
LINE_SCORE = {101: (6, 4, 3, 1), 205: (1, 5, 1, 2)}  # Syracuse 14, Johns Hopkins 9
SHOTS_BY_QUARTER = {101: (16, 16, 6, 10), 205: (2, 7, 10, 3)}
GOALS = 23
#: (event id, quarter, time left in it, team, jersey, home score, away score) of the first and last goal
FIRST_GOAL = (2, 1, "11:13", 205, "8", 0, 1)
LAST_GOAL = (62, 4, "09:05", 101, "2", 14, 9)
#: one lead change (Johns Hopkins led 0-1, Syracuse tied 1-1 and led 2-1), one tie, largest leads 7 and 1
GAME_FLOW = {"lead_changes": 1, "ties": 1, "home_largest_lead": 7, "away_largest_lead": 1}
