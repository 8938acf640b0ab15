"""The finalize SQL is portable Core: it compiles for SQL Server without a server or pyodbc."""

import subprocess
import sys
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.dialects.mssql import pyodbc as mssql_pyodbc
from sqlalchemy.schema import CreateTable

from boxscore.roster import Player, Team
from boxscore.season import GameResult, PlayerResult
from tasks.reference import (
    players2,
    replace_statements,
    result_players,
    result_statements,
    results,
    season_lock,
    teams2,
)

ROOT = Path(__file__).resolve().parents[2]

#: What ``mssql+pyodbc://`` uses, built without importing the driver.
MSSQL = mssql_pyodbc.dialect(paramstyle="qmark")


def test_finalize_statements_compile_for_mssql() -> None:
    statements = replace_statements(
        teams2, players2, [Team(101, "syracuse", "acc", 12, 2)], [Player(1, "sam", "6", 60, 25, 101)]
    )
    compiled = [str(statement.compile(dialect=MSSQL)) for statement, _ in statements]
    assert compiled == [
        "DELETE FROM players2",
        "DELETE FROM teams2",
        "INSERT INTO teams2 (id, name, conference, wins, losses) VALUES (?, ?, ?, ?, ?)",
        "INSERT INTO players2 (id, name, number, shots, goals, teamid) VALUES (?, ?, ?, ?, ?, ?)",
    ]
    assert [params for _, params in statements][2:] == [
        [{"id": 101, "name": "syracuse", "conference": "acc", "wins": 12, "losses": 2}],
        [{"id": 1, "name": "sam", "number": "6", "shots": 60, "goals": 25, "teamid": 101}],
    ]


def test_season_tables_have_the_seed_schema_on_mssql() -> None:
    ddl = " ".join(str(CreateTable(players2).compile(dialect=MSSQL)).split())
    assert ddl == (
        "CREATE TABLE players2 ( id INTEGER NOT NULL, name VARCHAR(50) NOT NULL, number VARCHAR(3) NOT NULL, "
        "shots INTEGER NOT NULL, goals INTEGER NOT NULL, teamid INTEGER NOT NULL, PRIMARY KEY (id), "
        "FOREIGN KEY(teamid) REFERENCES teams2 (id) )"
    )


def test_the_results_statements_compile_for_mssql() -> None:
    result = GameResult("g1", 101, 205, 14, 9, 70, "00:00", (PlayerResult(1, 4, 2),))
    compiled = [" ".join(str(statement.compile(dialect=MSSQL)).split()) for statement, _ in result_statements([result])]
    assert compiled == [
        "DELETE FROM result_players WHERE result_players.game_id IN (__[POSTCOMPILE_game_id_1])",
        "DELETE FROM results WHERE results.game_id IN (__[POSTCOMPILE_game_id_1])",
        "INSERT INTO results (game_id, home, away, home_score, away_score, event_id, clock) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        "INSERT INTO result_players (game_id, player_id, shots, goals) VALUES (?, ?, ?, ?)",
    ]
    assert [params for _, params in result_statements([result])][2:] == [
        [
            {
                "game_id": "g1",
                "home": 101,
                "away": 205,
                "home_score": 14,
                "away_score": 9,
                "event_id": 70,
                "clock": "00:00",
            }
        ],
        [{"game_id": "g1", "player_id": 1, "shots": 4, "goals": 2}],
    ]
    take_turn = update(season_lock).where(season_lock.c.id == 1).values(version=season_lock.c.version + 1)
    assert str(take_turn.compile(dialect=MSSQL)) == (
        "UPDATE season_lock SET version=(season_lock.version + ?) WHERE season_lock.id = ?"
    )
    ddl = [" ".join(str(CreateTable(table).compile(dialect=MSSQL)).split()) for table in (results, result_players)]
    assert ddl == [
        "CREATE TABLE results ( game_id VARCHAR(64) NOT NULL, home INTEGER NOT NULL, away INTEGER NOT NULL, "
        "home_score INTEGER NOT NULL, away_score INTEGER NOT NULL, event_id INTEGER NOT NULL, "
        "clock VARCHAR(5) NOT NULL, PRIMARY KEY (game_id) )",
        "CREATE TABLE result_players ( game_id VARCHAR(64) NOT NULL, player_id INTEGER NOT NULL, "
        "shots INTEGER NOT NULL, goals INTEGER NOT NULL, PRIMARY KEY (game_id, player_id) )",
    ]


def imports_pyodbc(*urls: str) -> list[str]:
    """In a fresh process per URL, all at once: create an engine, connect where it can, say if
    pyodbc was imported."""
    code = (
        "import sys\n"
        "from tasks.reference import sql_engine\n"
        "from tasks.settings import Settings\n"
        "url = sys.argv[1]\n"
        "Settings.from_env({'SQL_URL': url}, env_file='')\n"
        "try:\n"
        "    engine = sql_engine(url)\n"
        "    engine.connect().close() if engine.dialect.name == 'sqlite' else None\n"
        "except ImportError as error:\n"
        "    print('ImportError', error)\n"
        "print('pyodbc' in sys.modules)\n"
    )
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", code, url], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for url in urls
    ]
    outputs = []
    for run in runs:
        out, err = run.communicate(timeout=60)
        assert run.returncode == 0, err
        outputs.append(out.strip())
    return outputs


def test_pyodbc_is_imported_only_for_an_mssql_url() -> None:
    """A SQLite engine, created and connected, never imports pyodbc (nor needs unixODBC); an
    ``mssql+pyodbc`` engine does (or fails for want of unixODBC, where it is not installed)."""
    sqlite, mssql = imports_pyodbc(
        "sqlite://", "mssql+pyodbc://sa@mssql:1433/sidearmdb?driver=ODBC+Driver+18+for+SQL+Server"
    )
    assert sqlite == "False"
    assert mssql == "True" or (mssql.startswith("ImportError libodbc") and mssql.endswith("False")), mssql
