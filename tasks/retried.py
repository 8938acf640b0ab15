"""The stores' calls a flow makes once per run, as Prefect tasks with retries (:data:`IO_TASK`).

They show in the UI and are retried 1, 2 and 4 s apart. The stores themselves
(:mod:`tasks.boxscores`, :mod:`tasks.seasons`) import no Prefect: the page reads through them,
and a page process that imported Prefect would start some two seconds later for nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from prefect import task
from prefect.cache_policies import NO_CACHE

if TYPE_CHECKING:  # the stores are only named here: the SQL adapter takes IO_TASK without MongoDB's driver
    from boxscore.document import BoxScore
    from boxscore.identity import GameRecord
    from boxscore.season_document import ScheduledGame, Tables
    from tasks.boxscores import BoxScoreStore
    from tasks.seasons import SeasonStore

#: Retries for the tasks; never cached: the same inputs must read or write the live state again.
IO_TASK = {"retries": 3, "retry_delay_seconds": [1, 2, 4], "cache_policy": NO_CACHE}


@task(**IO_TASK)
def read_game_records(store: BoxScoreStore, stream: str) -> list[GameRecord]:
    return store.game_records(stream)


@task(**IO_TASK)
def final_boxscores(store: BoxScoreStore, games: list[str] | None = None) -> list[BoxScore]:
    return store.finals(games)


@task(**IO_TASK)
def game_count(store: BoxScoreStore) -> int:
    return store.game_count()


@task(**IO_TASK)
def latest_boxscore(store: BoxScoreStore) -> BoxScore | None:
    return store.latest()


@task(**IO_TASK)
def write_season_document(
    store: SeasonStore, tables: Tables, finals: Sequence[ScheduledGame], planned: Sequence[ScheduledGame]
) -> bool:
    """Finalize's write of the season document, with retries: whether it changed."""
    return store.write_tables(tables, finals, planned)
