"""The season documents in MongoDB (``sidearm.seasons``): one per season, the season pages' one query.

Finalize writes a season's tables (:meth:`SeasonStore.write_tables`) and the live flow its
schedule (:meth:`SeasonStore.write_schedule`); each writes only its own fields, so neither undoes
the other's. A write that would change nothing is not made: a game finalized again with the
same lines leaves the document, its ``version`` and the pages' caches as they were.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pymongo import monitoring
from pymongo.change_stream import ChangeStream
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, OperationFailure, PyMongoError

from boxscore.document import utc_text
from boxscore.season_document import (
    ScheduledGame,
    SeasonDocument,
    Tables,
    empty_season,
    schedule_key,
)
from tasks.boxscores import SERVER_SELECTION_MS, WRITE_ERRORS, mongo_client, reaching_mongo, watching
from tasks.settings import Settings

#: the collection of the season documents, beside the box scores in ``MONGO_DB``
SEASONS = "seasons"
#: what a server without pipeline updates answers one: TypeMismatch (FerretDB), FailedToParse
NO_PIPELINE_UPDATES = (14, 9)


@dataclass(frozen=True)
class SeasonStore:
    """One season's document: read by the pages, written by finalize and the live flow.

    Built once from the settings (``MONGO_URL``, ``MONGO_DB``, ``SEASON``); every call raises
    :class:`tasks.ServiceUnavailable`, naming MongoDB with its password masked, when MongoDB
    does not answer.
    """

    url: str = field(repr=False)
    database: str
    season: str
    server_selection_ms: int = SERVER_SELECTION_MS
    listeners: tuple[monitoring.CommandListener, ...] = ()

    @classmethod
    def of(cls, settings: Settings, **options: Any) -> SeasonStore:
        return cls(settings.mongo_url, settings.mongo_db, settings.season_id, **options)

    @property
    def _seasons(self) -> Any:
        database: Database = mongo_client(self.url, self.server_selection_ms, self.listeners)[self.database]
        return database[SEASONS]

    def _reaching(self, errors: tuple[type[PyMongoError], ...] = (PyMongoError,)) -> AbstractContextManager[None]:
        return reaching_mongo(self.url, errors)

    def document(self) -> SeasonDocument | None:
        """The season's document (``None`` before either writer made it): one query."""
        with self._reaching():
            return self._seasons.find_one({"_id": self.season})  # type: ignore[no-any-return]

    def write_tables(self, tables: Tables, finals: Sequence[ScheduledGame], planned: Sequence[ScheduledGame]) -> bool:
        """Finalize's part: the tables and the finalized games' entries; the planned games not on
        the schedule yet. Whether the document changed (a finalize that changes nothing writes nothing)."""
        fields = tables.fields()
        entries = {f"schedule.{schedule_key(game['game_id'])}": game for game in finals}
        with self._reaching(WRITE_ERRORS):
            stored = self._seasons.find_one({"_id": self.season}, {"tables_digest": 1, "schedule": 1}) or {}
            schedule = stored.get("schedule") or {}
            unchanged = stored.get("tables_digest") == fields["tables_digest"] and all(
                schedule.get(schedule_key(game["game_id"])) == game for game in finals
            )
            changed = False
            if not unchanged:
                if not stored:
                    self._create()
                self._seasons.update_one(
                    {"_id": self.season},
                    {"$set": {**fields, **entries, "updated_at": utc_text(datetime.now(UTC))}, "$inc": {"version": 1}},
                )
                changed = True
            return self._plan(planned, schedule) or changed

    def write_schedule(self, games: Sequence[ScheduledGame], planned: Sequence[ScheduledGame] = ()) -> None:
        """The live flow's part: these games as their box scores now have them, in one write of each
        game's whole entry, with no ``counted`` (finalize's to say: the live flow writes no game it
        has finalized); the planned games not on the schedule yet."""
        if games:
            entries = {
                schedule_key(game["game_id"]): {name: value for name, value in game.items() if name != "counted"}
                for game in games
            }
            with self._reaching(WRITE_ERRORS):
                if not self._merge(entries):
                    self._create()  # the season's first write: once
                    self._merge(entries)
        if planned:
            with self._reaching(WRITE_ERRORS):
                self._create()
                self._plan(planned, None)

    def _merge(self, entries: dict[str, ScheduledGame]) -> bool:
        """Merge whole entries into the schedule; whether the season's document exists.

        One pipeline update (``$mergeObjects``), which a server applies in one pass over the
        document: SecantusDB applies a ``$set``'s paths one by one, each over the whole
        document, and ten thousand games' entries as paths took 42 s a write, merged 0.6 s (a
        thousand games' eight fields each as paths, 15.6 s). A server that takes no pipeline
        update (FerretDB) refuses it at once and gets the entries as ``$set`` paths."""
        season = {"_id": self.season}
        merged = {"$mergeObjects": ["$schedule", {key: {"$literal": entry} for key, entry in entries.items()}]}
        try:
            update = self._seasons.update_one(season, [{"$set": {"schedule": merged}}])
        except OperationFailure as error:
            if error.code not in NO_PIPELINE_UPDATES:
                raise
            update = self._seasons.update_one(season, {"$set": {f"schedule.{key}": e for key, e in entries.items()}})
        return bool(update.matched_count)

    def _create(self) -> None:
        """The season's document with no game and no table, unless it exists.

        A plain insert rather than an upsert's ``$setOnInsert``: FerretDB drops the empty
        arrays of one (``standings``, ``skipped``), and the document must hold every field."""
        try:
            self._seasons.insert_one({"_id": self.season, **empty_season(self.season)})
        except DuplicateKeyError:
            pass  # made already, by the other writer or an earlier run

    def _plan(self, planned: Sequence[ScheduledGame], schedule: dict[str, Any] | None) -> bool:
        """Put each planned game on the schedule unless it is there already (played or planned);
        whether any was added.

        One update of every missing game, on the condition that none of them is on the schedule
        yet: a game another writer puts there meanwhile fails the condition, and the games still
        missing are read and tried once more. One update, not one per game: SecantusDB rewrites
        the season's document for each, and a thousand planned games' updates held the live loop."""
        for _ in range(2):
            if schedule is None:
                found = self._seasons.find_one({"_id": self.season}, {"schedule": 1})
                schedule = (found or {}).get("schedule", {})
            missing = {key: g for g in planned if (key := schedule_key(g["game_id"])) not in schedule}
            if not missing:
                return False
            absent = {f"schedule.{key}": {"$exists": False} for key in missing}
            placed = {f"schedule.{key}": g for key, g in missing.items()}
            if self._seasons.update_one({"_id": self.season, **absent}, {"$set": placed}).modified_count:
                return True
            schedule = None  # one of them was put there meanwhile: read which, and try the rest
        return False

    @contextmanager
    def changes(self) -> Iterator[ChangeStream[Any]]:
        """The season documents' change stream (the pages' push), on a client of its own."""
        with watching(self.url, self.server_selection_ms, self.database, SEASONS) as stream:
            yield stream
