"""The reference tables in ``sidearmdb`` through SQLAlchemy Core (SQLite, PostgreSQL, SQL Server).

``teams``/``players`` are read; ``teams2``/``players2`` (same columns and types) are written
after the game. Only portable Core constructs are used, so the same statements compile for the
``mssql`` dialect; ``pyodbc`` is imported by SQLAlchemy only when an ``mssql+pyodbc`` URL is used.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path
from typing import Any

from prefect import task
from sqlalchemy import (
    Column,
    Engine,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    delete,
    insert,
    inspect,
    select,
)
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.sql.dml import Delete, Insert

from boxscore.games import Matchup
from boxscore.roster import Player, Team, players_from_rows, teams_from_rows
from tasks import IO_TASK, reaching

SQL_DOWN = (OperationalError, InterfaceError)

metadata = MetaData()

#: A DML statement and its executemany parameters (``None`` for none).
Statement = tuple[Delete | Insert, list[dict[str, Any]] | None]


def _teams_table(name: str) -> Table:
    return Table(
        name,
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("name", String(50), nullable=False),
        Column("conference", String(50), nullable=False),
        Column("wins", Integer, nullable=False),
        Column("losses", Integer, nullable=False),
    )


def _players_table(name: str, teams: Table) -> Table:
    return Table(
        name,
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("name", String(50), nullable=False),
        Column("number", String(3), nullable=False),
        Column("shots", Integer, nullable=False),
        Column("goals", Integer, nullable=False),
        Column("teamid", Integer, ForeignKey(teams.c.id), nullable=False),
    )


#: Who plays each game of a multi-game prefix (``<game_id>.txt``): written by the simulator.
games = Table(
    "games",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("home", Integer, nullable=False),
    Column("away", Integer, nullable=False),
)

teams = _teams_table("teams")
players = _players_table("players", teams)
teams2 = _teams_table("teams2")
players2 = _players_table("players2", teams2)


@lru_cache(maxsize=8)
def sql_engine(url: str) -> Engine:
    """One engine (and pool) per URL; ``pool_pre_ping`` survives a restarted server."""
    return create_engine(url, pool_pre_ping=True)


def replace_statements(
    team_table: Table, player_table: Table, team_rows: Sequence[Team], player_rows: Sequence[Player]
) -> list[Statement]:
    """Statements that make the two tables hold exactly these rows (players first: foreign key).

    Inserts are executemany with bound parameters: no SQL text is built from data, and no
    dialect limit on rows per ``VALUES`` applies.
    """
    statements: list[Statement] = [(delete(player_table), None), (delete(team_table), None)]
    if team_rows:
        statements.append((insert(team_table), [asdict(row) for row in team_rows]))
    if player_rows:
        statements.append((insert(player_table), [asdict(row) for row in player_rows]))
    return statements


def _replace_tables(
    url: str, team_table: Table, player_table: Table, team_rows: Sequence[Team], player_rows: Sequence[Player]
) -> None:
    engine = sql_engine(url)
    with reaching("SQL database", url, SQL_DOWN):
        metadata.create_all(engine, tables=[team_table, player_table])
        with engine.begin() as connection:  # one transaction: readers see the old tables or the new ones
            for statement, parameters in replace_statements(team_table, player_table, team_rows, player_rows):
                connection.execute(statement, parameters)


def _read_tables(url: str, team_table: Table, player_table: Table) -> tuple[list[Team], list[Player]]:
    with reaching("SQL database", url, SQL_DOWN), sql_engine(url).connect() as connection:
        team_rows = connection.execute(select(team_table)).mappings().all()
        player_rows = connection.execute(select(player_table)).mappings().all()
    return teams_from_rows(team_rows), players_from_rows(player_rows)


@task(**IO_TASK)
def read_reference(url: str) -> tuple[list[Team], list[Player]]:
    """Teams and players (season totals before the game)."""
    return _read_tables(url, teams, players)


def read_season_tables(url: str) -> tuple[list[Team], list[Player]]:
    """``teams2`` and ``players2`` (records and totals after the game)."""
    return _read_tables(url, teams2, players2)


@task(**IO_TASK)
def read_matchups(url: str) -> dict[str, Matchup]:
    """Home and away of every game in the ``games`` table (empty when there is none)."""
    engine = sql_engine(url)
    if not inspect(engine).has_table(games.name):
        return {}
    with engine.connect() as connection:
        rows = connection.execute(select(games)).all()
    return {row.id: Matchup(row.id, row.home, row.away) for row in rows}


@task(**IO_TASK)
def reset_reference(
    url: str, team_rows: Sequence[Team], player_rows: Sequence[Player], matchups: Sequence[Matchup] = ()
) -> None:
    """Make ``teams``/``players`` (and ``games``) hold the given rows, creating missing tables."""
    _replace_tables(url, teams, players, team_rows, player_rows)
    engine = sql_engine(url)
    metadata.create_all(engine, tables=[games])
    with engine.begin() as connection:
        connection.execute(delete(games))
        if matchups:
            connection.execute(insert(games), [{"id": m.game_id, "home": m.home, "away": m.away} for m in matchups])


@task(**IO_TASK)
def write_season_tables(url: str, team_rows: Sequence[Team], player_rows: Sequence[Player]) -> None:
    """Replace ``teams2``/``players2`` atomically: a rerun yields identical tables."""
    _replace_tables(url, teams2, players2, team_rows, player_rows)


def read_seed(directory: Path) -> tuple[list[Team], list[Player]]:
    """The seed tables shipped in ``data/seed`` (CSV exports of ``sidearmdb``)."""
    with (
        (directory / "teams.csv").open(newline="") as team_file,
        (directory / "players.csv").open(newline="") as player_file,
    ):
        return teams_from_rows(csv.DictReader(team_file)), players_from_rows(csv.DictReader(player_file))
