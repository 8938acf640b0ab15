"""What the tests share: the game's teams, a reference tally, stream strategies, store readers.

Nothing here is the code under test: the reference tally counts the rules one event at a time
in plain Python, and the store readers query MongoDB and SQL directly.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import jsonschema
import jsonschema_rs
import pymongo
import sqlalchemy
from hypothesis import strategies as st

from boxscore.document import as_built
from boxscore.events import MAX_EXAMPLES, ParsedBlock
from boxscore.scoring import Goal
from boxscore.tally import Quality, Tally
from tests.recorded_game import SEED, naive_quarter, recount, reference_counts

#: The recorded game's two teams, home 101 and away 205.
GAME = frozenset({101, 205})


def reader(data: bytes) -> Callable[[int, int], bytes]:
    """Byte ranges of an in-memory stream object, asked for as S3 is: two whole offsets, in order."""

    def read(start: int, end: int) -> bytes:
        assert type(start) is int and type(end) is int and 0 <= start <= end <= len(data), (start, end)
        return data[start:end]

    return read


def tally_blocks(blocks: list[ParsedBlock]) -> Tally:
    """The reference tally of parsed blocks, counted one event at a time in plain Python.

    The rules as the README states them, and nothing of the core's tally: in stream order the
    first line of an event id counts; a line of team 0 marks the clock only; a quarter is 15
    minutes of the 60:00 clock, a moment on its boundary in the quarter it ends; the game is final
    at a clock of 00:00 or the -1 sentinel; the latest event is the largest id but the sentinel's.
    """
    shots: dict[tuple[int, str], tuple[int, int]] = {}
    quarters: dict[tuple[int, int], tuple[int, int]] = {}
    goals: list[Goal] = []
    seen: set[int] = set()
    lines, latest, final = 0, None, False
    for block in blocks:
        frame = block.events
        columns = (frame[name].tolist() for name in ("event_id", "clock", "team", "jersey", "goal"))
        for event_id, clock, team, jersey, goal in zip(*columns, strict=True):
            lines += 1
            if event_id in seen:
                continue
            seen.add(event_id)
            final = final or clock == "00:00" or event_id == -1
            if event_id != -1 and (latest is None or event_id > latest[0]):
                latest = (event_id, clock)
            if team == 0:
                continue
            for counts, key in ((shots, (team, jersey)), (quarters, (team, naive_quarter(clock)))):
                before = counts.get(key, (0, 0))
                counts[key] = (before[0] + 1, before[1] + goal)
            if goal == 1:
                goals.append(Goal(event_id, clock, team, jersey))
    examples = tuple(line for block in blocks for line in block.examples)[:MAX_EXAMPLES]
    quality = Quality(sum(block.rejected for block in blocks), lines - len(seen), examples)
    last_event_id, clock = latest or (None, None)
    return Tally(last_event_id, clock, final, shots, quality, quarters, tuple(sorted(goals)))


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


#: lines that send a long block from the vectorised parser to the line parser, each one way: odd
#: spacing, a sign, a 19-digit padded id, an id below the sentinel, a clock out of shape or range,
#: a lone CR, a quote, a jersey or goal flag out of range, a field short or over, junk, a stranger
DOUBTFUL_LINES = (
    "5  59:00 101 2 0",
    "5\t59:00 101 2 0",
    " 5 59:00 101 2 0",
    "5 59:00 101 2 0 ",
    "+5 59:00 101 2 0",
    "0000000000000000005 59:00 101 2 0",
    "-2 59:00 101 2 0",
    "5 9:00 101 2 0",
    "5 12:60 101 2 0",
    "5 60:01 101 2 0",
    "5 59:00 101 2 0\r",
    '5 59:00 101 "2" 0',
    "5 59:00 101 1000 0",
    "5 59:00 101 2 2",
    "5 59:00 101 2",
    "5 59:00 101 2 0 0",
    "not a shot",
    "5 59:00 999 2 1",
)


@st.composite
def long_streams(
    draw, min_bytes: int = 16 * 1024, doubtful: bool | None = None, duplicates: bool | None = None
) -> bytes:
    """A stream past the vectorised parser's threshold (``SMALL_BLOCK_BYTES``), as the feed writes it.

    Event ids rise from 0, written plain, zero-padded (up to 18 digits) or ``-0``, with the odd
    duplicate id, clock marks (team 0), a correction in place, the sentinel, CRLF line ends; in
    about a third of the examples one doubtful line (:data:`DOUBTFUL_LINES`) somewhere.
    ``doubtful`` and ``duplicates`` decide those two where a test needs every example on one
    path (``True``: always one, ``False``: never; ``None``: drawn).
    """
    shots = draw(
        st.lists(
            st.tuples(
                st.sampled_from([101, 205, 0]), st.sampled_from(["1", "2", "07", "22", "123"]), st.integers(0, 1)
            ),
            min_size=1,
            max_size=12,
        )
    )
    pad = draw(st.sampled_from([0, 0, 3, 18]))
    duplicate_every = draw(st.sampled_from({None: [0, 0, 7, 50], True: [7, 50], False: [0]}[duplicates]))
    size = draw(st.integers(min_bytes, 3 * min_bytes))
    lines: list[str] = []
    total, event = 0, 0
    while total <= size:  # the last line has no end of its own in half the examples: one more byte
        team, jersey, goal = shots[event % len(shots)]
        clock = 3600 - min(3600, event * 3600 // 2000)
        ident = "-0" if event == 0 and pad == 3 else f"{event:0{pad}d}"
        lines.append(f"{ident} {clock // 60:02d}:{clock % 60:02d} {team} {jersey} {goal}")
        if duplicate_every and event % duplicate_every == duplicate_every - 1:
            lines.append(lines[draw(st.integers(0, len(lines) - 1))])
        total += len(lines[-1]) + 1
        event += 1
    if draw(st.booleans()):
        i = draw(st.integers(0, len(lines) - 1))
        lines[i] = lines[i][:-1] + ("1" if lines[i].endswith("0") else "0")  # a correction in place
    if doubtful if doubtful is not None else draw(st.integers(0, 2)) == 2:
        lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(DOUBTFUL_LINES)))
    if draw(st.booleans()):
        lines.append("-1 00:00 0 0 0")
    end = draw(st.sampled_from(["\n", "\r\n"]))
    return (end.join(lines) + draw(st.sampled_from(["", end]))).encode()


@st.composite
def growing_long_streams(draw, doubtful: bool | None = None, duplicates: bool | None = None) -> list[bytes]:
    """Versions of a long stream as it grows: a first version past the threshold, then appends
    cut anywhere (mid-line too), and now and then a rewrite of the whole object.

    The first version's complete lines alone pass the threshold (a line is at most 40 bytes), and
    at least one version follows it: every example's first read is a long one and a tick follows.
    """
    data = draw(long_streams(min_bytes=16 * 1024 + 128, doubtful=doubtful, duplicates=duplicates))
    first = draw(st.integers(16 * 1024 + 64, len(data) - 1))
    cuts = sorted(draw(st.lists(st.integers(first + 1, len(data)), min_size=1, max_size=5)))  # it grows
    versions = [data[:cut] for cut in [first, *cuts]]
    if draw(st.booleans()):  # the scorer corrects the last line read (advance sees it and reads again)
        last = versions[-1]
        complete = last[: last.rfind(b"\n") + 1].rstrip(b"\r\n")
        flag = complete[-1:]
        if flag in (b"0", b"1"):
            at = len(complete) - 1
            versions.append(last[:at] + (b"1" if flag == b"0" else b"0") + last[at + 1 :])
    return versions


def examples(count: int) -> int:
    """How many examples a property test runs: ``count``; a tenth in the ``mutation`` profile,
    which runs the tests once per mutant (``make mutation``)."""
    return max(5, count // 10) if os.environ.get("HYPOTHESIS_PROFILE") == "mutation" else count


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


SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "boxscore.schema.json").read_text())
SEASON_SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "season.schema.json").read_text())
jsonschema.Draft202012Validator.check_schema(SCHEMA)
jsonschema.Draft202012Validator.check_schema(SEASON_SCHEMA)
#: the stored documents' validators, built once: jsonschema-rs, for a box score of the recorded
#: game takes 6.6 ms of CPU in jsonschema and 0.04 ms here, and the integration tests validate
#: every box score they read (the unit tier's tests of the schema itself use jsonschema's errors)
VALIDATOR = jsonschema_rs.validator_for(SCHEMA)
SEASON_VALIDATOR = jsonschema_rs.validator_for(SEASON_SCHEMA)


def valid_season(document: dict[str, Any] | None) -> dict[str, Any] | None:
    """The season document, once it validates against the published ``season.schema.json``."""
    if document is not None:
        SEASON_VALIDATOR.validate(json.loads(json.dumps(document, default=str)))
    return document


def valid(document: dict[str, Any] | None) -> dict[str, Any] | None:
    """The document, once it validates against the published ``boxscore.schema.json``."""
    if document is not None:
        VALIDATOR.validate(document)
    return document


#: when a box score built here was seen and stored, as the store would stamp it (fixed: the tests
#: of the core compare documents, not clocks)
WHEN = {"stored_at": "2026-03-14T18:05:09.250000Z", "seen_at": "2026-03-14T18:05:09.125000Z"}


def stamped(document: Any, stored_at: str = WHEN["stored_at"]) -> dict[str, Any]:
    """A box score the core built, as MongoDB would hold it: with :data:`WHEN` (or stored at ``stored_at``)."""
    return {**document, **WHEN, "stored_at": stored_at}


def as_stored(document: dict[str, Any] | None) -> dict[str, Any] | None:
    """A stored box score, validated, without its write's stamps: what the core built, to compare
    with an expected box score. Each stamp is checked first: a moment in UTC, seen before stored."""
    if document is None:
        return None
    valid(document)
    assert document["seen_at"] <= document["stored_at"], (document["seen_at"], document["stored_at"])
    return as_built(document)


#: the tests' clients, by URL
_MONGO_CLIENTS: dict[str, pymongo.MongoClient] = {}


def mongo_client(url: str) -> pymongo.MongoClient:
    """One client per server for the tests' reads, kept: a client's start (its monitor threads and
    handshakes, some 6 ms of CPU here and more on the server) would be most of a polled read's cost.
    A server stopped and started again is reconnected by the client. None is closed: closing a
    client whose server a test has stopped for good waits out its server selection (30 s) to end
    its sessions there, while an idle client only tries the gone server every 10 s."""
    if url not in _MONGO_CLIENTS:
        _MONGO_CLIENTS[url] = pymongo.MongoClient(url)
    return _MONGO_CLIENTS[url]


def boxscores(env: dict[str, str]) -> list[dict[str, Any]]:
    """Every box score the test stored, each validated against the published schema, as built (:func:`as_stored`)."""
    collection = mongo_client(env["MONGO_URL"])[env["MONGO_DB"]][env["MONGO_COLLECTION"]]
    documents = list(collection.find(sort=[("_id", 1)]))
    return [as_stored(document) for document in documents]  # type: ignore[misc]


def latest_stored(env: dict[str, str]) -> dict[str, Any] | None:
    """The single stream's newest box score (the highest event id), validated, as built: what a
    test waits on, read alone (:func:`boxscores` validates every one, a poll's whole cost)."""
    collection = mongo_client(env["MONGO_URL"])[env["MONGO_DB"]][env["MONGO_COLLECTION"]]
    return as_stored(collection.find_one(sort=[("_id", -1)]))


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
        assert [(q["shots"], q["goals"]) for q in team["periods"]] == [
            expected["quarters"].get((team["teamid"], quarter), (0, 0)) for quarter in (1, 2, 3, 4)
        ]
    assert [(goal["event_id"], goal["teamid"]) for goal in doc["scoring"]] == expected["goals"]
    if doc["scoring"]:
        last = doc["scoring"][-1]
        assert (last["home_score"], last["away_score"]) == (doc["home"]["score"], doc["away"]["score"])


def latest_of_game(env: dict[str, str], game_id: str) -> dict[str, Any] | None:
    """The documented page query for one game of a prefix: its latest box score, as built (:func:`as_stored`)."""
    collection = mongo_client(env["MONGO_URL"])[env["MONGO_DB"]][env["MONGO_COLLECTION"]]
    return as_stored(collection.find_one({"game_id": game_id}, sort=[("event_id", pymongo.DESCENDING)]))


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


#: what a test measured for a person to read (not to assert), printed at the end of the run
MEASURED: dict[str, str] = {}

#: every Reach of the session by test, printed at the end of the run (tests/conftest.py)
REACHES: dict[str, Counter[str]] = {}
#: the share each test asserts of each path (``python -m devstack.reaches`` reads them back)
BOUNDS: dict[str, dict[str, float]] = {}


class Reach:
    """The paths a property test's examples took: counted, reported to hypothesis (``event``),
    and printed with the session's summary, so the test can require a share of examples on each
    path and a reader of the output sees where the examples went."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.test = os.environ.get("PYTEST_CURRENT_TEST", "?").rsplit(" (", 1)[0]  # "<id> (call)"; ids hold spaces
        REACHES[self.test] = self.counts

    def took(self, *paths: str) -> None:
        """One example, which took these paths."""
        from hypothesis import event

        self.counts["examples"] += 1
        for path in paths:
            self.counts[path] += 1
            event(f"path: {path}")

    def assert_share(self, path: str, at_least: float) -> None:
        """At least this share of the examples took ``path``, in every profile: under ``make
        mutation`` a mutant that sends the examples down another path is caught here too."""
        BOUNDS.setdefault(self.test, {})[path] = at_least
        total = self.counts["examples"]
        assert total and self.counts[path] >= at_least * total, (
            f"only {self.counts[path]} of {total} examples took the {path} path: {dict(self.counts)}"
        )


def retry_delays(flow_run_id: object, task: str) -> list[float]:
    """Seconds each retry of a flow run's task ``task`` was scheduled after the failure before it,
    from the task run's state history in the Prefect API (its ``AwaitingRetry`` states)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    async def read() -> list[float]:
        async with get_client() as client:
            runs = await client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
            (run,) = [run for run in runs if run.name.startswith(task)]
            states = await client.read_task_run_states(run.id)
        retries = sorted((s for s in states if s.name == "AwaitingRetry"), key=lambda s: s.timestamp)
        return [(s.state_details.scheduled_time - s.timestamp).total_seconds() for s in retries]

    return asyncio.run(read())


# -- a clean clone of this checkout, and make as a user types it ---------------------------

ROOT = Path(__file__).resolve().parents[1]


def clean_checkout(directory: Path) -> Path:
    """The working tree's files that a clone would hold (tracked, or new and not ignored), copied."""
    import shutil
    import subprocess

    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            target = directory / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return directory


def with_migrated_prefect_database(checkout: Path, home: Path | None = None) -> Path:
    """The checkout, whose ``make up`` finds the Prefect database it migrates once per Prefect
    version already in its cache (the migration is a server's start of its own, tested once per
    run by the session's servers): this run's, in the user's cache, or a copy of it in the cache of
    ``home``, the HOME its commands run with when it is not ours."""
    import shutil

    from devstack.servers import prefect_database_template, prefect_databases

    template = prefect_database_template()
    if home is not None:
        cache = prefect_databases(home)
        cache.mkdir(parents=True, exist_ok=True)
        shutil.copy2(template, cache / template.name)
    return checkout


def make(
    checkout: Path,
    *targets: str,
    env: dict[str, str] | None = None,
    timeout: float = 600,
    replace_env: dict[str, str] | None = None,
):
    """``make <targets>`` in a checkout, with this checkout's virtualenv (already installed) as its
    venv, in this process's environment (or ``replace_env``) with ``env`` over it."""
    import subprocess

    return subprocess.run(
        ["make", "--no-print-directory", *targets, f"VENV={ROOT / '.venv'}"],
        cwd=checkout,
        env={**(os.environ if replace_env is None else replace_env), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
