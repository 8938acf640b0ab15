"""Services that are down: retried, then reported by name with the password masked; nothing partial."""

from __future__ import annotations

import pytest
import sqlalchemy

from devstack.servers import free_ports
from flows.finalize import finalize_game
from flows.gamestream import gamestream
from flows.live_boxscore import live_boxscore
from tasks import ServiceUnavailable
from tests.helpers import retry_delays, table_rows
from tests.recorded_game import FINAL_BOXSCORE, PLAYERS2, TEAMS2

SECRET = "hunter2-sql-secret"


@pytest.mark.parametrize("sql_url", ["sqlite"], indirect=True)
def test_sql_down_at_finalize_is_retried_after_1_2_4_s_fails_by_name_writes_nothing_and_a_rerun_fixes_it(
    pipeline_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    gamestream(delay=0)
    assert live_boxscore(poll_interval=0.05, finalize=False, settle_seconds=0.5) == FINAL_BOXSCORE
    down = f"postgresql+psycopg://sidearm:{SECRET}@127.0.0.1:{free_ports(1)[0]}/sidearmdb"
    monkeypatch.setenv("SQL_URL", down)
    state = finalize_game(return_state=True)
    assert state.is_failed()
    failure = state.result(raise_on_failure=False)
    assert isinstance(failure, ServiceUnavailable)
    # the first SQL task was retried 1, 2 and 4 s after each failure, as its IO_TASK says
    delays = retry_delays(state.state_details.flow_run_id, "read_reference")
    assert [round(delay) for delay in delays] == [1, 2, 4], delays
    message = str(failure)
    assert message.startswith("SQL database at postgresql+psycopg://sidearm:***@127.0.0.1:")
    assert "/sidearmdb is unreachable" in message and SECRET not in message
    captured = capfd.readouterr()
    assert SECRET not in captured.out + captured.err
    assert not sqlalchemy.inspect(sqlalchemy.create_engine(pipeline_env["SQL_URL"])).has_table("teams2")

    monkeypatch.setenv("SQL_URL", pipeline_env["SQL_URL"])  # the database is back: finalize again
    finalize_game()
    assert table_rows(pipeline_env["SQL_URL"], "teams2") == TEAMS2
    assert table_rows(pipeline_env["SQL_URL"], "players2") == PLAYERS2


@pytest.mark.parametrize("sql_url", ["sqlite"], indirect=True)
def test_mongo_down_is_reported_by_name(pipeline_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "MONGO_URL", f"mongodb://app:mongo-secret@127.0.0.1:{free_ports(1)[0]}/?serverSelectionTimeoutMS=300"
    )
    with pytest.raises(ServiceUnavailable, match=r"^MongoDB at mongodb://app:\*\*\*@127\.0\.0\.1:\d+/") as failure:
        finalize_game()
    assert "mongo-secret" not in str(failure.value)
