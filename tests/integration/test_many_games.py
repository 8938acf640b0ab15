"""Many games under one prefix: interleaved streams, one finishing early, new ones appearing."""

from __future__ import annotations

import json
from typing import Any

import pymongo
import pytest

from boxscore.synthetic import synthetic_league
from devstack.follow import start_polling
from flows.finalize import finalize_game
from flows.gamestream import gamestream
from flows.live_boxscore import live_boxscore
from tests.helpers import expected_season, latest_of_game, table_rows, valid
from tests.recorded_game import recount

GAMES, SEED_NUMBER, STAGGER = 3, 11, 900  # game i starts 15 game-minutes after game i-1


def expected_tables(league: Any) -> tuple[list[tuple], list[tuple]]:
    """teams2/players2 recounted naively: base rows plus each game's shots, goals and result."""
    games = [(game.home, game.away, league.recordings[game.game_id]) for game in league.matchups]
    teams = [(t.id, t.name, t.conference, t.wins, t.losses) for t in league.teams]
    players = [(p.id, p.name, p.number, p.shots, p.goals, p.teamid) for p in league.players]
    return expected_season(games, teams, players)


@pytest.mark.parametrize("sql_url", ["sqlite"], indirect=True)
def test_one_flow_follows_every_game_under_a_prefix(
    pipeline_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = pipeline_env["GAMESTREAM_URL"].rsplit("/", 1)[0] + "/games/"
    monkeypatch.setenv("GAMESTREAM_URL", prefix)
    league = synthetic_league(GAMES, SEED_NUMBER)
    live = start_polling(
        lambda: live_boxscore(poll_interval=0.2, wait_for_stream=120, stall_timeout=60, settle_seconds=1.0)
    )
    writes = gamestream(delay=0.003, games=GAMES, seed=SEED_NUMBER, stagger=STAGGER)
    finals = live.result(timeout=300)
    assert writes == sum(len(text.split("\n")) for text in league.recordings.values())

    assert sorted(finals) == ["g0000", "g0001", "g0002"]
    with pymongo.MongoClient(pipeline_env["MONGO_URL"]) as client:
        docs = [valid(d) for d in client[pipeline_env["MONGO_DB"]][pipeline_env["MONGO_COLLECTION"]].find()]
    by_game: dict[str, list] = {}
    for doc in docs:
        assert doc["_id"] == f"{doc['game_id']}/{doc['event_id']}"
        by_game.setdefault(doc["game_id"], []).append(doc)
    assert sorted(by_game) == sorted(finals)
    for game_id, game_docs in by_game.items():
        lines = league.recordings[game_id].split("\n")
        assert len(game_docs) >= 3, f"{game_id} was seen changing only {len(game_docs)} times"
        for doc in game_docs:
            expected = recount(lines, doc["event_id"])
            assert (doc["timestamp"], doc["final"]) == (expected["clock"], expected["final"])
            for side in ("home", "away"):
                assert doc[side]["score"] == expected["score"][doc[side]["teamid"]]
                for line in doc[side]["players"]:
                    assert (line["shots"], line["goals"]) == expected["shots"].get(
                        (doc[side]["teamid"], line["number"]), (0, 0)
                    )
        latest = latest_of_game(pipeline_env, game_id)
        assert latest == finals[game_id] and latest["final"]

    rows = shown_games()
    assert [(row["game"], row["state"], row["box scores"]) for row in rows] == [
        (game_id, "finalized", len(by_game[game_id])) for game_id in sorted(by_game)
    ]

    teams2, players2 = expected_tables(league)
    assert table_rows(pipeline_env["SQL_URL"], "teams2") == teams2
    assert table_rows(pipeline_env["SQL_URL"], "players2") == players2
    finalize_game()  # finalizing again counts every game once
    assert table_rows(pipeline_env["SQL_URL"], "teams2") == teams2
    assert table_rows(pipeline_env["SQL_URL"], "players2") == players2


def shown_games() -> list[dict[str, Any]]:
    """The rows of the latest ``games`` table the Prefect UI shows (the run's last, in this worker's API)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        (latest,) = client.read_latest_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["games"])))
    data = latest.data
    return json.loads(data) if isinstance(data, str) else list(data)  # type: ignore[arg-type]
