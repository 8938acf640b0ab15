"""One failure stays one failure: a broken game, reference row or service never stops the others,
and a run that cannot succeed ends within its timeouts, naming the service.

Each test breaks or withholds one real thing (a PostgreSQL database, an S3 endpoint, a games
row, a Dask cluster's workers) and checks the exact box scores and tables of what was unaffected.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import s3fs
import sqlalchemy

from boxscore.games import Matchup
from boxscore.live import StreamTimeout
from boxscore.replay import replay_frames
from devstack.follow import Background
from devstack.servers import DaskScheduler, free_ports, wait_until
from flows.gamestream import SEED_DIR
from flows.live_boxscore import live_boxscore
from tasks.reference import read_seed, reset_reference
from tasks.stream import S3NotSet, write_stream
from tests.helpers import expected_season, latest_of_game, table_rows
from tests.integration.conftest import POSTGRES_ADMIN_URL
from tests.integration.test_season import GAME_A, GAME_B

FAST = {"poll_interval": 0.05, "wait_for_stream": 60, "stall_timeout": 120, "settle_seconds": 0.5}


def prefix_of(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> str:
    prefix = env["GAMESTREAM_URL"].rsplit("/", 1)[0] + "/games/"
    monkeypatch.setenv("GAMESTREAM_URL", prefix)
    return prefix


def frames(text: str) -> list[str]:
    return [frame.text for frame in replay_frames(text)]


def allow_connections(sql_url: str, allowed: bool) -> None:
    """Open or close a PostgreSQL database to new connections, ending the open ones when closing."""
    name = sqlalchemy.engine.make_url(sql_url).database
    admin = sqlalchemy.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}')
        if not allowed:
            connection.exec_driver_sql(
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' "
                "AND pid <> pg_backend_pid()"
            )
    admin.dispose()


@pytest.mark.parametrize("sql_url", ["postgresql"], indirect=True)
def test_a_failing_finalize_is_retried_while_the_other_game_goes_on(
    pipeline_env: dict[str, str], storage: dict, monkeypatch: pytest.MonkeyPatch, flow_log: list[str]
) -> None:
    prefix, sql = prefix_of(pipeline_env, monkeypatch), pipeline_env["SQL_URL"]
    env = {**pipeline_env, "GAMESTREAM_URL": prefix}
    reset_reference(sql, *read_seed(SEED_DIR), [Matchup("g1", 101, 205), Matchup("g2", 101, 205)])
    short, long = frames(GAME_B), frames(GAME_A)
    write_stream(prefix + "g1.txt", short[5], storage)
    write_stream(prefix + "g2.txt", long[5], storage)
    live = Background(lambda: live_boxscore(**FAST)).start()
    try:
        wait_until(lambda: latest_of_game(env, "g1") and latest_of_game(env, "g2"), 60, "both games' box scores")
        allow_connections(sql, False)
        write_stream(prefix + "g1.txt", short[-1], storage)  # g1 is over: its finalize fails
        wait_until(lambda: any(line.startswith("finalize (SQL database at ") for line in flow_log), 60, "a failure")
        for k in (20, 40, 60):  # meanwhile g2 is followed as before
            write_stream(prefix + "g2.txt", long[k], storage)
            wait_until(lambda k=k: latest_of_game(env, "g2")["event_id"] == k, 60, f"g2 at event {k}")
        assert latest_of_game(env, "g1")["final"]
    finally:
        allow_connections(sql, True)
    write_stream(prefix + "g2.txt", long[-1], storage)
    finals = live.result(timeout=180)
    assert sorted(finals) == ["g1", "g2"]
    assert (table_rows(sql, "teams2"), table_rows(sql, "players2")) == expected_season(
        [(101, 205, GAME_B), (101, 205, GAME_A)]
    )
    failure = next(line for line in flow_log if line.startswith("finalize (SQL database at "))
    name = sqlalchemy.engine.make_url(sql).database
    assert f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}) failed (ServiceUnavailable: SQL database" in failure
    assert "final game(s) are finalized at the next attempt, next attempt in 1 s" in failure
    assert any(line.startswith("finalize (SQL database at ") and "answers again" in line for line in flow_log)


@pytest.mark.parametrize("sql_url", ["sqlite"], indirect=True)
def test_a_game_with_an_unknown_team_or_without_a_matchup_is_skipped_by_name(
    pipeline_env: dict[str, str], storage: dict, monkeypatch: pytest.MonkeyPatch, flow_log: list[str]
) -> None:
    prefix, sql = prefix_of(pipeline_env, monkeypatch), pipeline_env["SQL_URL"]
    reset_reference(sql, *read_seed(SEED_DIR), [Matchup("g1", 101, 205), Matchup("g2", 101, 999)])
    for game in ("g1", "g2", "g3"):  # g2 names team 999, which does not exist; g3 has no games row
        write_stream(f"{prefix}{game}.txt", GAME_A, storage)
    finals = live_boxscore(**FAST)
    assert sorted(finals) == ["g1"]
    assert (finals["g1"]["event_id"], finals["g1"]["home"]["score"], finals["g1"]["away"]["score"]) == (70, 14, 9)
    assert (table_rows(sql, "teams2"), table_rows(sql, "players2")) == expected_season([(101, 205, GAME_A)])
    warnings = [line for line in flow_log if "skipping" in line]
    assert warnings == [
        "game g2: team 999 is not in the teams table; skipping the game",
        "game g3 is not in the games table yet; skipping it",
    ]


@pytest.mark.parametrize("sql_url", ["sqlite"], indirect=True)
def test_games_that_never_get_a_matchup_end_the_run_within_wait_for_stream(
    pipeline_env: dict[str, str], storage: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix, sql = prefix_of(pipeline_env, monkeypatch), pipeline_env["SQL_URL"]
    reset_reference(sql, *read_seed(SEED_DIR), [])
    write_stream(prefix + "g7.txt", GAME_A, storage)
    with pytest.raises(
        StreamTimeout, match=r"within 2 s: no game could be read \(g7\): .* \(SQL database at sqlite:///"
    ):
        live_boxscore(**{**FAST, "wait_for_stream": 2})


@pytest.mark.parametrize("sql_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("broken", ["unreachable endpoint", "wrong secret key"])
def test_s3_failing_from_the_start_ends_the_run_naming_s3_and_its_masked_address(
    pipeline_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, broken: str
) -> None:
    if broken == "unreachable endpoint":
        (port,) = free_ports(1)
        endpoint = f"http://sidearm:Sa1-endpoint-secret@127.0.0.1:{port}"
        monkeypatch.setenv("S3_ENDPOINT_URL", endpoint)
        shown = f"http://sidearm:***@127.0.0.1:{port}"
    else:
        monkeypatch.setenv("S3_SECRET_KEY", "Sa1-wrong-secret-key")
        shown = pipeline_env["S3_ENDPOINT_URL"]
    with pytest.raises((StreamTimeout, S3NotSet)) as failure:
        live_boxscore(**{**FAST, "wait_for_stream": 3})
    message = str(failure.value)
    if broken == "unreachable endpoint":  # an endpoint with a user in it: the polls fail, named masked
        assert message.startswith("nothing could be followed within 3 s: S3 (")
        assert f" at {shown}) keeps failing (" in message
    else:  # refused credentials are refused before the first poll (tests/integration/test_mistakes.py)
        assert (
            message
            == f"S3 at {shown} refused the credentials (SignatureDoesNotMatch): correct S3_ACCESS_KEY and S3_SECRET_KEY"
        )
    assert "Sa1-endpoint-secret" not in message and "Sa1-wrong-secret-key" not in message


@pytest.mark.parametrize("sql_url", ["sqlite"], indirect=True)
def test_a_dask_scheduler_without_workers_ends_the_run_naming_dask(
    pipeline_env: dict[str, str], storage: dict, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    reset_reference(pipeline_env["SQL_URL"], *read_seed(SEED_DIR))
    write_stream(pipeline_env["GAMESTREAM_URL"], GAME_A, storage)
    scheduler = DaskScheduler(tmp_path / "dask").start(timeout=60)
    try:
        monkeypatch.setenv("DASK_ADDRESS", scheduler.address)
        with pytest.raises(StreamTimeout) as failure:
            live_boxscore(**{**FAST, "wait_for_stream": 3, "read_timeout": 1})
    finally:
        scheduler.stop()
    assert f"Dask at {scheduler.address} did not finish the read within 1 s (0 worker(s))" in str(failure.value)


@pytest.mark.parametrize("sql_url", ["sqlite"], indirect=True)
def test_an_unreadable_object_stops_only_its_own_game(
    pipeline_env: dict[str, str], storage: dict, monkeypatch: pytest.MonkeyPatch, flow_log: list[str]
) -> None:
    prefix, sql = prefix_of(pipeline_env, monkeypatch), pipeline_env["SQL_URL"]
    reset_reference(sql, *read_seed(SEED_DIR), [Matchup("g1", 101, 205), Matchup("g2", 101, 205)])
    write_stream(prefix + "g1.txt", GAME_A, storage)
    # g2 is listed, but encrypted with a customer key (SSE-C) that the pipeline does not have: every GET fails
    fs = s3fs.S3FileSystem(**storage)
    fs.pipe_file(
        (prefix + "g2.txt").removeprefix("s3://"),
        GAME_B.encode(),
        SSECustomerAlgorithm="AES256",
        SSECustomerKey=os.urandom(32),
    )
    finals = live_boxscore(**FAST)
    assert sorted(finals) == ["g1"]
    assert (finals["g1"]["event_id"], finals["g1"]["home"]["score"], finals["g1"]["away"]["score"]) == (70, 14, 9)
    assert latest_of_game({**pipeline_env, "GAMESTREAM_URL": prefix}, "g2") is None
    assert (table_rows(sql, "teams2"), table_rows(sql, "players2")) == expected_season([(101, 205, GAME_A)])
    failure = next(line for line in flow_log if line.startswith("game g2: reading "))
    assert failure.startswith(f"game g2: reading {prefix}g2.txt failed (OSError: ")
    assert "customer key" in failure and failure.endswith("its box score stays as it was, next attempt in 1 s")
