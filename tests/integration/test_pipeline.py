"""The whole pipeline against real servers: SeaweedFS, SecantusDB, Dask, SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy

from boxscore.roster import Player, Team
from devstack.follow import start_polling
from devstack.servers import offline_prefect_env
from flows.finalize import finalize_game
from flows.gamestream import SEED_DIR, gamestream
from flows.live_boxscore import StreamTimeout, live_boxscore
from tasks.reference import reset_reference
from tests.helpers import assert_matches_events, boxscores, table_rows
from tests.recorded_game import FINAL_BOXSCORE, PLAYERS2, TEAMS2, event_lines

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("sql_url", "mongo_server"),
    [("sqlite", "secantusdb"), ("postgresql", "secantusdb"), ("sqlite", "ferretdb")],
    indirect=True,
)
def test_live_flow_follows_a_growing_stream(pipeline_env: dict[str, str]) -> None:
    """The live flow polls first; then the simulator replays the game: every document is right."""
    live = start_polling(
        lambda: live_boxscore(poll_interval=0.2, wait_for_stream=120, stall_timeout=60, settle_seconds=0.5)
    )
    assert gamestream(delay=0.002) == 72
    final = live.result(timeout=120)

    assert final == FINAL_BOXSCORE
    docs = boxscores(pipeline_env)
    assert docs[-1] == FINAL_BOXSCORE
    assert len(docs) >= 5, "the live flow should have seen the stream grow several times"
    assert len({d["_id"] for d in docs}) == len(docs)
    for doc in docs:
        assert_matches_events(doc)
    assert table_rows(pipeline_env["SQL_URL"], "teams2") == TEAMS2
    assert table_rows(pipeline_env["SQL_URL"], "players2") == PLAYERS2


# no SQL of its own to port: PostgreSQL runs the whole pipeline (above)
@pytest.mark.parametrize("sql_url", ["sqlite"], indirect=True)
def test_rerunning_on_a_finished_stream_rewrites_not_duplicates(pipeline_env: dict[str, str]) -> None:
    gamestream(delay=0)
    assert live_boxscore(poll_interval=0.05, settle_seconds=0.5) == FINAL_BOXSCORE
    assert live_boxscore(poll_interval=0.05, settle_seconds=0.5) == FINAL_BOXSCORE
    assert [d["_id"] for d in boxscores(pipeline_env)] == [70]
    finalize_game()
    assert table_rows(pipeline_env["SQL_URL"], "teams2") == TEAMS2
    assert table_rows(pipeline_env["SQL_URL"], "players2") == PLAYERS2


# no SQL of its own to port: PostgreSQL runs the whole pipeline (above)
@pytest.mark.parametrize("sql_url", ["sqlite"], indirect=True)
def test_finalize_refuses_a_game_in_progress(pipeline_env: dict[str, str], tmp_path) -> None:
    half = tmp_path / "half.txt"
    half.write_text("\n".join(event_lines()[:41]) + "\n")
    gamestream(delay=0, events_file=str(half))
    with pytest.raises(StreamTimeout, match="has not changed"):
        live_boxscore(poll_interval=0.05, stall_timeout=0.5)
    assert [d["_id"] for d in boxscores(pipeline_env)] == [40]
    with pytest.raises(Exception, match=r"not over.*event 40, clock 30:07"):
        finalize_game()
    from prefect.settings import PREFECT_API_URL

    command = subprocess.run(  # as a user types it: exit code 2, the reason last
        [sys.executable, "-m", "flows.finalize"],
        cwd=ROOT,
        env={
            **offline_prefect_env(tmp_path / "home", str(PREFECT_API_URL.value())),
            "PYTHONPATH": str(ROOT),
            **pipeline_env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert command.returncode == 2, command.stderr[-2000:]
    assert command.stderr.strip().splitlines()[-1].startswith("python -m flows.finalize: the game is not over")
    assert "(event 40, clock 30:07) is not final" in command.stderr.strip().splitlines()[-1]
    inspector = sqlalchemy.inspect(sqlalchemy.create_engine(pipeline_env["SQL_URL"]))
    assert not inspector.has_table("teams2") and not inspector.has_table("players2")


# no SQL of its own to port: PostgreSQL runs the whole pipeline (above)
@pytest.mark.parametrize("sql_url", ["sqlite"], indirect=True)
def test_live_flow_gives_up_on_a_stream_that_never_appears(pipeline_env: dict[str, str]) -> None:
    with pytest.raises(
        StreamTimeout, match=r"nothing could be followed within 1 s: s3://\S+/gamestream\.txt did not appear"
    ):
        live_boxscore(poll_interval=0.1, wait_for_stream=1)
    assert boxscores(pipeline_env) == []


# no SQL of its own to port: PostgreSQL runs the whole pipeline (above)
@pytest.mark.parametrize("sql_url", ["sqlite"], indirect=True)
def test_the_replay_leaves_populated_reference_tables_as_they_are(
    pipeline_env: dict[str, str], flow_log: list[str]
) -> None:
    """A database with its own teams and players keeps them; only --reset-tables replaces them, saying where."""
    url = pipeline_env["SQL_URL"]
    with (SEED_DIR / "teams.csv").open(newline="") as file:
        seed_teams = [
            (int(r["id"]), r["name"], r["conference"], int(r["wins"]), int(r["losses"])) for r in csv.DictReader(file)
        ]
    # the user's own sidearmdb: one team with other records, one player
    reset_reference.fn(url, [Team(101, "Syracuse", "ACC", 40, 2)], [Player(1, "Own Player", "6", 90, 40, 101)])

    assert gamestream(delay=0) == 72
    assert table_rows(url, "teams") == [(101, "Syracuse", "ACC", 40, 2)]
    assert table_rows(url, "players") == [(1, "Own Player", "6", 90, 40, 101)]
    assert any("lacks the replay's teams 205 and was left as it is" in line for line in flow_log)

    assert gamestream(delay=0, reset_tables=True) == 72
    assert table_rows(url, "teams") == sorted(seed_teams)
    database = "sidearm_test_" if url.startswith("postgresql") else "sidearmdb.sqlite"
    assert any(
        line.startswith("replacing the tables teams, players and games in ") and database in line for line in flow_log
    )
