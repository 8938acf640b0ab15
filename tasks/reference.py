"""The reference tables in ``sidearmdb`` through SQLAlchemy Core (SQLite, PostgreSQL, SQL Server).

``teams``/``players`` are read; ``teams2``/``players2`` (same columns and types) are written
after the game. Only portable Core constructs are used, so the same statements compile for the
``mssql`` dialect; ``pyodbc`` is imported by SQLAlchemy only when an ``mssql+pyodbc`` URL is used.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from prefect import task
from sqlalchemy import (
    Column,
    Connection,
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
    update,
)
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError, ProgrammingError
from sqlalchemy.sql.dml import Delete, Insert

from boxscore.games import Matchup
from boxscore.roster import Player, Team, players_from_rows, teams_from_rows
from boxscore.season import GameResult, PlayerResult, Season, season_after
from tasks import reaching
from tasks.retried import IO_TASK

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

#: Every finished game's result and its rostered players' lines: what the season tables add up.
results = Table(
    "results",
    metadata,
    Column("game_id", String(64), primary_key=True),
    Column("home", Integer, nullable=False),
    Column("away", Integer, nullable=False),
    Column("home_score", Integer, nullable=False),
    Column("away_score", Integer, nullable=False),
    Column("event_id", Integer, nullable=False),
    Column("clock", String(5), nullable=False),
)
result_players = Table(
    "result_players",
    metadata,
    Column("game_id", String(64), primary_key=True),
    Column("player_id", Integer, primary_key=True, autoincrement=False),
    Column("shots", Integer, nullable=False),
    Column("goals", Integer, nullable=False),
)
#: One row that each finalize updates first, so finalizers take turns on every database.
season_lock = Table(
    "season_lock",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", Integer, nullable=False),
)
SEASON_TABLES = [results, result_players, season_lock]

teams = _teams_table("teams")
players = _players_table("players", teams)
teams2 = _teams_table("teams2")
players2 = _players_table("players2", teams2)


@lru_cache(maxsize=8)
def sql_engine(url: str) -> Engine:
    """One engine (and pool) per URL; ``pool_pre_ping`` survives a restarted server.

    SQLite waits up to 30 s for another finalizer's transaction instead of failing at once.
    """
    connect_args = {"timeout": 30} if url.startswith("sqlite") else {}
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


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
    with reaching("SQL database", url, SQL_DOWN, "SQL_URL"):
        metadata.create_all(engine, tables=[team_table, player_table])
        with engine.begin() as connection:  # one transaction: readers see the old tables or the new ones
            for statement, parameters in replace_statements(team_table, player_table, team_rows, player_rows):
                connection.execute(statement, parameters)


def _read_tables(url: str, team_table: Table, player_table: Table) -> tuple[list[Team], list[Player]]:
    with reaching("SQL database", url, SQL_DOWN, "SQL_URL"), sql_engine(url).connect() as connection:
        team_rows = connection.execute(select(team_table)).mappings().all()
        player_rows = connection.execute(select(player_table)).mappings().all()
    return teams_from_rows(team_rows), players_from_rows(player_rows)


@task(**IO_TASK)
def read_reference(url: str) -> tuple[list[Team], list[Player]]:
    """Teams and players (season totals before the game)."""
    return _read_tables(url, teams, players)


def read_season_tables(url: str) -> tuple[list[Team], list[Player]]:
    """``teams2`` and ``players2`` (records and totals after the game); empty before finalize wrote them."""
    with reaching("SQL database", url, SQL_DOWN, "SQL_URL"):
        if not inspect(sql_engine(url)).has_table(teams2.name):
            return [], []
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
    """Make ``teams``/``players`` (and ``games``) hold exactly the given rows, creating missing tables.

    This replaces reference data: the simulator does it only when asked (``--reset-tables``).
    """
    _replace_tables(url, teams, players, team_rows, player_rows)
    engine = sql_engine(url)
    metadata.create_all(engine, tables=[games])
    with engine.begin() as connection:
        connection.execute(delete(games))
        if matchups:
            connection.execute(insert(games), [{"id": m.game_id, "home": m.home, "away": m.away} for m in matchups])


@dataclass(frozen=True)
class Seeded:
    """What :func:`seed_reference` did: whether it filled the (empty) base tables, and what was missing."""

    filled: bool
    missing_teams: tuple[int, ...] = ()
    added_games: int = 0


@task(**IO_TASK)
def seed_reference(
    url: str, team_rows: Sequence[Team], player_rows: Sequence[Player], matchups: Sequence[Matchup] = ()
) -> Seeded:
    """Create what is missing and destroy nothing.

    ``teams``/``players`` are filled with the given rows only where neither holds a row yet (a new
    database); populated tables are left exactly as they are, and the given teams they lack are
    reported. Matchups whose game id ``games`` does not hold yet are added.
    """
    engine = sql_engine(url)
    with reaching("SQL database", url, SQL_DOWN, "SQL_URL"):
        metadata.create_all(engine, tables=[teams, players, games])
        with engine.begin() as connection:
            known = set(connection.execute(select(teams.c.id)).scalars())
            empty = not known and connection.execute(select(players.c.id).limit(1)).first() is None
            if empty:
                if team_rows:
                    connection.execute(insert(teams), [asdict(row) for row in team_rows])
                if player_rows:
                    connection.execute(insert(players), [asdict(row) for row in player_rows])
            listed = set(connection.execute(select(games.c.id)).scalars())
            new = [{"id": m.game_id, "home": m.home, "away": m.away} for m in matchups if m.game_id not in listed]
            if new:
                connection.execute(insert(games), new)
    missing = () if empty else tuple(sorted({row.id for row in team_rows} - known))
    return Seeded(empty, missing, len(new))


def result_statements(new: Sequence[GameResult]) -> list[Statement]:
    """Statements that record these results, replacing any earlier result of the same games."""
    if not new:
        return []
    games = [result.game_id for result in new]
    statements: list[Statement] = [
        (delete(result_players).where(result_players.c.game_id.in_(games)), None),
        (delete(results).where(results.c.game_id.in_(games)), None),
        (insert(results), [{k: v for k, v in asdict(r).items() if k != "players"} for r in new]),
    ]
    lines = [{"game_id": r.game_id, **asdict(line)} for r in new for line in r.players]
    if lines:
        statements.append((insert(result_players), lines))
    return statements


def _create_season_tables(engine: Engine) -> None:
    """Create what is missing; another finalizer creating the same at the same time is fine."""
    for table in (teams2, players2, *SEASON_TABLES):
        try:
            table.create(engine, checkfirst=True)
        except (ProgrammingError, IntegrityError):
            if not inspect(engine).has_table(table.name):
                raise
    try:
        with engine.begin() as connection:
            if connection.execute(select(season_lock.c.id)).first() is None:
                connection.execute(insert(season_lock).values(id=1, version=0))
    except IntegrityError:
        pass  # another finalizer inserted the lock row first


def _read_results(connection: Connection) -> list[GameResult]:
    lines: dict[str, list[PlayerResult]] = {}
    for row in connection.execute(select(result_players).order_by(result_players.c.player_id)):
        lines.setdefault(row.game_id, []).append(PlayerResult(row.player_id, row.shots, row.goals))
    return [
        GameResult(
            r.game_id, r.home, r.away, r.home_score, r.away_score, r.event_id, r.clock, tuple(lines.get(r.game_id, ()))
        )
        for r in connection.execute(select(results).order_by(results.c.game_id))
    ]


def take_turn(connection: Connection) -> None:
    """Update the lock row first: another finalizer's transaction waits here until this one ends."""
    connection.execute(update(season_lock).where(season_lock.c.id == 1).values(version=season_lock.c.version + 1))


@task(**IO_TASK)
def write_season(url: str, new: Sequence[GameResult]) -> Season:
    """Record these games' results and rewrite teams2/players2 from the base plus every result.

    One transaction that starts by updating the lock row: finalizers running at the same time
    take turns (a row lock on PostgreSQL and SQL Server, the write lock on SQLite), and each
    reads every result committed before it, so the last one to commit writes the whole season.
    """
    engine = sql_engine(url)
    with reaching("SQL database", url, SQL_DOWN, "SQL_URL"):
        _create_season_tables(engine)
        with engine.begin() as connection:
            take_turn(connection)
            for statement, parameters in result_statements(new):
                connection.execute(statement, parameters)
            team_rows = teams_from_rows(connection.execute(select(teams)).mappings().all())
            player_rows = players_from_rows(connection.execute(select(players)).mappings().all())
            season = season_after(team_rows, player_rows, _read_results(connection))
            for statement, parameters in replace_statements(teams2, players2, season.teams, season.players):
                connection.execute(statement, parameters)
    return season


def read_seed(directory: Path) -> tuple[list[Team], list[Player]]:
    """The seed tables shipped in ``data/seed`` (CSV exports of ``sidearmdb``)."""
    with (
        (directory / "teams.csv").open(newline="") as team_file,
        (directory / "players.csv").open(newline="") as player_file,
    ):
        return teams_from_rows(csv.DictReader(team_file)), players_from_rows(csv.DictReader(player_file))
