"""The store's documented queries and writes, run on a real MongoDB-wire server (SecantusDB).

Each expectation is written out by hand from the rules in docs/document.md: the current box
score is the one stored last (ties: the greater game id), a game's latest is its highest event
(from the archive once another game holds the stream), ``finals`` keeps one final per game.
The server starts once per test process (about a second); ``SIDEARM_TEST_MONGO_URL`` names one
already running instead (``make mutation`` starts one for every mutant's run).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pymongo
import pytest

from boxscore.identity import GameRecord
from tasks import ServiceUnavailable
from tasks.boxscores import CURRENT, BoxScoreStore
from tasks.retried import final_boxscores, game_count, latest_boxscore, read_game_records
from tasks.settings import Settings

UTC_TEXT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


@pytest.fixture(scope="session")
def mongo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if url := os.environ.get("SIDEARM_TEST_MONGO_URL"):
        yield url
        return
    from devstack.servers import SecantusMongo

    server = SecantusMongo(Path(tmp_path_factory.mktemp("store")) / "mongo").start()
    try:
        yield server.url
    finally:
        server.kill()


@pytest.fixture
def store(mongo_url: str) -> Iterator[BoxScoreStore]:
    """A store on a database of its own, dropped afterwards."""
    store = BoxScoreStore(mongo_url, f"t{uuid.uuid4().hex[:12]}", "boxscores")
    yield store
    pymongo.MongoClient(mongo_url).drop_database(store.database)


def box(game: str, event: int, final: bool = False, **extra: object) -> dict:
    return {"_id": f"{game}/{event}", "game_id": game, "event_id": event, "final": final, **extra}


def raw(store: BoxScoreStore, collection: str = "boxscores") -> pymongo.collection.Collection:
    return pymongo.MongoClient(store.url)[store.database][collection]


def put(store: BoxScoreStore, *documents: dict, collection: str = "boxscores") -> None:
    raw(store, collection).insert_many([dict(doc) for doc in documents])


def ids(documents: list[dict] | None) -> list[object]:
    return [doc["_id"] for doc in documents or []]


def test_the_current_box_score_is_the_one_stored_last_then_the_greater_game_id(store: BoxScoreStore) -> None:
    assert store.latest() is None
    put(
        store,
        box("g0001", 57, stored_at="2026-03-14T18:00:02.000000Z"),
        box("g0001", 8, stored_at="2026-03-14T18:00:01.000000Z"),
        box("g0009", 3, stored_at="2026-03-14T18:00:02.000000Z"),
        box("g0010", 2, stored_at="2026-03-14T18:00:01.000000Z"),
    )
    assert store.latest()["_id"] == "g0009/3"  # same moment as g0001/57: the greater game id


def test_a_game_s_latest_is_its_highest_event_and_then_its_archive(store: BoxScoreStore) -> None:
    put(store, box("g0001", 9), box("g0001", 10), box("g0001", 57), box("g0002", 99))
    assert store.latest("g0001")["_id"] == "g0001/57"  # 57 after 10 after 9, whatever their text order
    put(store, box("g0003", 4, _id="g0003/4/archived"), collection="boxscores_archive")
    put(store, box("g0003", 12, _id="g0003/12/archived"), collection="boxscores_archive")
    assert store.latest("g0003")["_id"] == "g0003/12/archived"
    assert store.latest("g0404") is None


@pytest.mark.parametrize("group_first", [True, False], ids=["one aggregation", "FerretDB's way"])
def test_games_are_each_game_s_latest_by_game_id(
    store: BoxScoreStore, group_first: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not group_first:
        monkeypatch.setattr("tasks.boxscores._WITHOUT_GROUP_FIRST", {store.url})
    put(store, box("g0010", 3), box("g0002", 1), box("g0010", 12), box("g0002", 7), box("g0009", 5))
    assert ids(store.games()) == ["g0002/7", "g0009/5", "g0010/12"]


def test_finals_keep_one_final_per_game_the_later_event_winning(store: BoxScoreStore) -> None:
    put(
        store,
        box("g0001", 60, final=True),
        box("g0001", 70, final=True),
        box("g0001", 71),
        box("g0002", 50, final=True),
        box("g0003", 20),
        {"_id": 5, "event_id": 5, "final": True},  # a single stream's box score from before game ids
    )
    assert ids(store.finals(None)) == ["g0001/70", "g0002/50"]
    assert ids(store.finals(["g0002", "g0003"])) == ["g0002/50"]
    assert ids(store.finals([])) == []
    assert ids(final_boxscores.fn(store, ["g0001"])) == ["g0001/70"]
    assert game_count.fn(store) == store.game_count() == 3


def test_upsert_replaces_by_id_and_stamps_when_stored_and_seen(store: BoxScoreStore) -> None:
    store.upsert([])
    assert store.game_count() == 0
    store.upsert([box("g0001", 1, home=1), box("g0002", 1)], {"g0001": "2026-03-14T18:00:00.000000Z"})
    store.upsert([box("g0001", 1, home=2)])
    stored = {doc["_id"]: doc for doc in raw(store).find()}
    assert stored["g0001/1"]["home"] == 2
    first = stored["g0002/1"]
    assert UTC_TEXT.match(first["stored_at"]) and first["seen_at"] == first["stored_at"]
    assert stored["g0001/1"]["seen_at"] == stored["g0001/1"]["stored_at"]  # the second write saw nothing
    assert latest_boxscore.fn(store)["_id"] in {"g0001/1", "g0002/1"}


def test_seen_at_is_the_game_s_own_and_falls_back_to_stored_at(store: BoxScoreStore) -> None:
    store.upsert([box("g0001", 1), box("g0002", 1)], {"g0001": "2026-03-14T18:00:00.000000Z", "g0002": ""})
    stored = {doc["_id"]: doc for doc in raw(store).find()}
    assert stored["g0001/1"]["seen_at"] == "2026-03-14T18:00:00.000000Z"
    assert stored["g0002/1"]["seen_at"] == stored["g0002/1"]["stored_at"]


def test_archiving_moves_box_scores_under_archive_keys_and_loses_none(store: BoxScoreStore) -> None:
    put(store, box("g0001", 1), box("g0001", 2), box("g0001", 3), box("g0002", 1), {"_id": 7})
    put(store, box("g0001", 3, home=0), collection="boxscores_archive")  # a move cut short: in both places
    store.archive_stale([("g0001", 1)])
    assert sorted(map(str, ids(list(raw(store).find())))) == ["7", "g0001/1", "g0002/1"]
    store.archive_other_games("g0002")
    assert ids(list(raw(store).find())) == ["g0002/1"]
    archived = sorted(map(str, ids(list(raw(store, "boxscores_archive").find()))))
    assert archived == ["g0001/1", "g0001/2", "g0001/3", "unidentified/7"]
    assert "home" not in raw(store, "boxscores_archive").find_one({"_id": "g0001/3"})  # moved again, whole
    assert store._archive({"game_id": "g0404"}) == 0


def test_game_records_round_trip_newest_first_and_are_marked_finalized(store: BoxScoreStore) -> None:
    store.save_game_records("s", [])
    first, second = GameRecord("g0001", "1 0:00", b"a\n", True), GameRecord("g0002", "1 0:01", b"b\n")
    store.save_game_records("s", [(1, first), (2, second)])
    store.save_game_records("other", [(3, GameRecord("g0003", "x", b""))])
    assert store.game_records("s") == [second, first]
    store.mark_finalized(["g0001"])
    assert read_game_records.fn(store, "s") == [second, GameRecord("g0001", "1 0:00", b"a\n", True, True)]


def test_a_ping_is_answered_reading_nothing(store: BoxScoreStore) -> None:
    sent = Sent()
    BoxScoreStore(store.url, store.database, store.collection, listeners=(sent,)).ping()
    assert sent.commands == ["ping"]


def test_the_indexes_serve_the_documented_queries(store: BoxScoreStore) -> None:
    store.ensure_indexes()
    keys = [[tuple(part) for part in index["key"]] for index in raw(store).index_information().values()]
    assert [("game_id", 1), ("event_id", -1)] in keys
    assert [("final", 1)] in keys
    assert [(name, direction) for name, direction in CURRENT] in keys
    archive = [
        [tuple(part) for part in index["key"]] for index in raw(store, "boxscores_archive").index_information().values()
    ]
    assert [("game_id", 1), ("event_id", -1)] in archive


def test_the_change_stream_gives_each_stored_box_score_whole(store: BoxScoreStore) -> None:
    store.ensure_indexes()
    with store.changes() as changes:
        store.upsert([box("g0001", 4, home=3)])
        change = changes.next()
    assert change["fullDocument"]["_id"] == "g0001/4" and change["fullDocument"]["home"] == 3


def test_a_store_is_built_from_the_settings() -> None:
    settings = Settings.from_env(
        {"MONGO_URL": "mongodb://127.0.0.1:9", "MONGO_DB": "db", "MONGO_COLLECTION": "games"}, env_file=""
    )
    built = BoxScoreStore.of(settings, server_selection_ms=300)
    assert (built.url, built.database, built.collection, built.server_selection_ms) == (
        "mongodb://127.0.0.1:9",
        "db",
        "games",
        300,
    )


def test_mongodb_down_is_service_unavailable_naming_the_setting() -> None:
    from devstack.servers import free_ports

    down = BoxScoreStore(f"mongodb://app:pw-x@127.0.0.1:{free_ports(1)[0]}", "db", "boxscores", 200)
    with pytest.raises(ServiceUnavailable) as raised:
        down.latest()
    assert raised.value.setting == "MONGO_URL"
    assert "MongoDB at mongodb://app:***@127.0.0.1" in str(raised.value) and "pw-x" not in str(raised.value)
    with pytest.raises(ServiceUnavailable):
        down.ping()
    writes = [
        lambda: down.upsert([box("g0001", 1)]),
        down.ensure_indexes,
        lambda: down.archive_stale([("g0001", 1)]),
        lambda: down.save_game_records("s", [(1, GameRecord("g0001", "x", b""))]),
        lambda: down.mark_finalized(["g0001"]),
    ]
    for write in writes:
        with pytest.raises(ServiceUnavailable):
            write()


class Sent(pymongo.monitoring.CommandListener):
    def __init__(self) -> None:
        self.commands: list[str] = []

    def started(self, event: pymongo.monitoring.CommandStartedEvent) -> None:
        self.commands.append(event.command_name)

    def succeeded(self, event: object) -> None:
        pass

    def failed(self, event: object) -> None:
        pass


def test_every_game_s_latest_is_one_aggregation_where_the_server_groups(store: BoxScoreStore) -> None:
    sent = Sent()
    counted = BoxScoreStore(store.url, store.database, store.collection, listeners=(sent,))
    put(store, box("g0001", 1), box("g0002", 2))
    assert ids(counted.games()) == ["g0001/1", "g0002/2"] and sent.commands == ["aggregate"]


@pytest.mark.parametrize("group_max", [True, False], ids=["one pass", "FerretDB's way"])
def test_many_games_stale_box_scores_are_found_in_one_pass_and_only_theirs_are_moved(
    store: BoxScoreStore, group_max: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not group_max:  # FerretDB 1.x answers NotImplemented to $group's $max: a query per game
        monkeypatch.setattr("tasks.boxscores._WITHOUT_GROUP_MAX", {store.url})
    # sixty games read in full at event 2; g0007 has box scores past it (3 and 5), g0042 one (4)
    games = [f"g{n:04d}" for n in range(60)]
    put(store, *(box(game, event) for game in games for event in (1, 2)))
    put(store, box("g0007", 3), box("g0007", 5), box("g0042", 4), box("g0099", 9))  # g0099: not in the batch
    sent = Sent()
    counted = BoxScoreStore(store.url, store.database, store.collection, listeners=(sent,))
    counted.archive_stale([(game, 2) for game in games])
    assert sorted(ids(list(raw(store, "boxscores_archive").find()))) == ["g0007/3", "g0007/5", "g0042/4"]
    assert raw(store).count_documents({}) == 121 and raw(store).find_one({"_id": "g0099/9"})
    queries = (1, 2) if group_max else (0, 60)  # one pass, then the two stale games' moves; or a query each
    assert (sent.commands.count("aggregate"), sent.commands.count("find")) == queries


def test_new_box_scores_are_one_insert_and_those_whose_id_is_taken_are_replaced_after_it(store: BoxScoreStore) -> None:
    sent = Sent()
    counted = BoxScoreStore(store.url, store.database, store.collection, listeners=(sent,))
    counted.upsert([box("g0001", 1, home=1), box("g0002", 1, home=1)])
    assert sent.commands == ["insert"]
    counted.upsert([box("g0001", 2, home=2), box("g0002", 1, home=3), box("g0003", 1, home=4)])
    assert sent.commands == ["insert", "insert", "update"]  # g0002/1 again: its insert refused, then replaced
    assert {doc["_id"]: doc["home"] for doc in raw(store).find()} == {
        "g0001/1": 1,
        "g0001/2": 2,
        "g0002/1": 3,
        "g0003/1": 4,
    }
