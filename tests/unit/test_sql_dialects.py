"""The finalize SQL is portable Core: it compiles for SQL Server without a server or pyodbc."""

import sys

from sqlalchemy.dialects.mssql import pyodbc as mssql_pyodbc
from sqlalchemy.schema import CreateTable

from boxscore.roster import Player, Team
from tasks.reference import players2, replace_statements, teams2

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


def test_pyodbc_is_not_imported_without_an_mssql_url() -> None:
    assert "pyodbc" not in sys.modules
