"""What the tests share: the game's teams, a reference tally, stream strategies, store readers.

Nothing here is the code under test: the reference tally is the plain pandas reading of the
rules (de-duplicate, group, count), and the store readers query MongoDB and SQL directly.
"""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote, quote_plus

import pandas as pd
import pymongo
import sqlalchemy
from hypothesis import strategies as st

from boxscore.events import MAX_EXAMPLES, ParsedBlock
from boxscore.tally import Quality, Tally, assemble_tally, tally_parts
from tests.recorded_game import SEED, recount, reference_counts

#: The recorded game's two teams, home 101 and away 205.
GAME = frozenset({101, 205})


def reader(data: bytes) -> Callable[[int, int], bytes]:
    """Byte ranges of an in-memory stream object."""
    return lambda start, end: data[start:end]


def tally_blocks(blocks: list[ParsedBlock]) -> Tally:
    """The reference tally: every block's events in one frame, the first line per event id counts."""
    events = pd.concat([block.events for block in blocks], ignore_index=True)
    unique = events.drop_duplicates(subset="event_id", keep="first")
    shots, latest, final = tally_parts(unique)
    examples = tuple(line for block in blocks for line in block.examples)[:MAX_EXAMPLES]
    quality = Quality(sum(block.rejected for block in blocks), len(events) - len(unique), examples)
    return assemble_tally(shots, latest, bool(final), quality)


# -- stream text for property tests ---------------------------------------------------------

valid_text_line = st.builds(
    lambda e, m, s, t, j, g: f"{e} {m:02d}:{s:02d} {t} {j} {g}",
    st.integers(-3, 200),
    st.integers(0, 61),
    st.integers(0, 60),
    st.sampled_from([0, 101, 205, 999]),
    st.sampled_from(["1", "06", "22", "1000"]),
    st.sampled_from([0, 1, 2]),
)
text_line = st.one_of(valid_text_line, valid_text_line, st.text(max_size=25), st.just(""), st.just("  "))
text_blocks = st.builds(
    lambda lines, end: "\n".join(lines) + end, st.lists(text_line, max_size=12), st.sampled_from(["", "\n", "\r\n"])
)


valid_line = st.builds(
    lambda team, jersey, goal, minute: (team, jersey, goal, minute),
    st.sampled_from([101, 205, 0, 999]),
    st.sampled_from(["1", "2", "6", "99"]),
    st.integers(0, 1),
    st.integers(0, 60),
)
junk = st.text(alphabet="0123456789 :-x\t\r", max_size=20)


@st.composite
def histories(draw):
    """A sequence of object versions: appends (good, junk, duplicate, gap) and rewrites."""
    lines: list[str] = []
    next_id = 0
    versions: list[bytes] = []
    for _ in range(draw(st.integers(1, 12))):
        action = draw(
            st.sampled_from(
                [
                    "append",
                    "append",
                    "append",
                    "junk",
                    "duplicate",
                    "gap",
                    "truncate",
                    "correct_last",
                    "sentinel",
                    "no_newline",
                ]
            )
        )
        if action in ("append", "gap", "sentinel", "no_newline"):
            for _ in range(draw(st.integers(1, 4))):
                team, jersey, goal, minute = draw(valid_line)
                if action == "gap":
                    next_id += draw(st.integers(2, 5))
                event = -1 if action == "sentinel" else next_id
                lines.append(f"{event} {minute:02d}:00 {team} {jersey} {goal}\n")
                next_id += 1
        elif action == "junk":
            lines.append(draw(junk) + "\n")
        elif action == "duplicate" and lines:
            lines.append(draw(st.sampled_from(lines)))
        elif action == "truncate" and lines:
            lines = lines[: draw(st.integers(0, len(lines) - 1))]
        elif action == "correct_last" and lines:
            lines[-1] = (
                lines[-1].replace(" 0\n", " 1\n") if lines[-1].endswith(" 0\n") else lines[-1].replace(" 1\n", " 0\n")
            )
        data = "".join(lines).encode()
        if action == "no_newline":
            data = data.rstrip(b"\n")
        versions.append(data)
    return versions


# -- reading the stores back ----------------------------------------------------------------


def boxscores(env: dict[str, str]) -> list[dict[str, Any]]:
    with pymongo.MongoClient(env["MONGO_URL"]) as client:
        return list(client[env["MONGO_DB"]][env["MONGO_COLLECTION"]].find(sort=[("_id", 1)]))


def table_rows(url: str, table: str) -> list[tuple]:
    with sqlalchemy.create_engine(url).connect() as connection:
        return [tuple(row) for row in connection.execute(sqlalchemy.text(f"SELECT * FROM {table} ORDER BY id"))]


def assert_matches_events(doc: dict[str, Any]) -> None:
    """A box score is exactly the naive re-count of the events up to its _id."""
    expected = reference_counts(doc["_id"])
    assert (doc["timestamp"], doc["final"]) == (expected["clock"], expected["final"])
    for side in ("home", "away"):
        team = doc[side]
        assert team["score"] == expected["score"][team["teamid"]]
        for line in team["players"]:
            assert (line["shots"], line["goals"]) == expected["shots"].get((team["teamid"], line["number"]), (0, 0))


def latest_of_game(env: dict[str, str], game_id: str) -> dict[str, Any] | None:
    """The documented page query for one game of a prefix: its latest box score."""
    with pymongo.MongoClient(env["MONGO_URL"]) as client:
        collection = client[env["MONGO_DB"]][env["MONGO_COLLECTION"]]
        return collection.find_one({"game_id": game_id}, sort=[("event_id", pymongo.DESCENDING)])


def expected_season(
    games: list[tuple[int, int, str]], extra_teams: Sequence[tuple] = (), extra_players: Sequence[tuple] = ()
) -> tuple[list[tuple], list[tuple]]:
    """teams2/players2 recounted naively: the seed CSVs (plus extra rows) and each (home, away, text).

    A plain reading of the sport's rules, independent of the code under test: the winner of
    each game gets a win and the loser a loss, and each rostered jersey adds its shots and goals.
    """
    teams = {
        int(r["id"]): [int(r["id"]), r["name"], r["conference"], int(r["wins"]), int(r["losses"])]
        for r in csv.DictReader((SEED / "teams.csv").open())
    }
    players = {
        int(r["id"]): [int(r["id"]), r["name"], r["number"], int(r["shots"]), int(r["goals"]), int(r["teamid"])]
        for r in csv.DictReader((SEED / "players.csv").open())
    }
    teams |= {row[0]: list(row) for row in extra_teams}
    players |= {row[0]: list(row) for row in extra_players}
    for home, away, text in games:
        counts = recount([line for line in text.split("\n") if line.strip()], 10**9)
        home_goals, away_goals = counts["score"].get(home, 0), counts["score"].get(away, 0)
        if home_goals != away_goals:
            winner, loser = (home, away) if home_goals > away_goals else (away, home)
            teams[winner][3] += 1
            teams[loser][4] += 1
        for row in players.values():
            if row[5] in (home, away):
                shots, goals = counts["shots"].get((row[5], row[2]), (0, 0))
                row[3] += shots
                row[4] += goals
    return [tuple(teams[k]) for k in sorted(teams)], [tuple(players[k]) for k in sorted(players)]


def task_runs(flow_run_id: object, api_url: str | None = None) -> list[tuple[str, str]]:
    """(name, state) of a flow run's task runs, as the Prefect API recorded them, sorted.

    ``api_url``: that server's API; without it, the one the session's settings name.
    """
    from prefect.client.orchestration import PrefectClient, get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    async def read() -> list[tuple[str, str]]:
        async with PrefectClient(api=api_url) if api_url else get_client() as client:
            runs = await client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
        return sorted((run.name, run.state_name or "") for run in runs)

    return asyncio.run(read())


def secret_pieces(secret: str) -> set[str]:
    """Every 4-character piece of a secret, raw and as urllib percent-encodes it.

    The oracle of the masking tests: it knows nothing of the masker, so a secret shown in part
    (an ODBC-escaped tail, half a percent-encoding) is found as surely as one shown whole.
    """
    forms = {secret, quote(secret, safe=""), quote_plus(secret)}
    return {form[i : i + 4] for form in forms for i in range(len(form) - 3)}


def shown_pieces(secret: str, text: str) -> set[str]:
    """The pieces of ``secret`` that ``text`` shows."""
    return {piece for piece in secret_pieces(secret) if piece in text}
