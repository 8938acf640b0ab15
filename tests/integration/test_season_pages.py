"""The season around the box score: a season of six games through the flows, its document against a
hand count, the season pages and API over HTTP, a live game's marker, and every page in Chromium
(no overflow at 1280 and 390 px, no axe-core violation).

The hand count: five games among four teams of one conference (and a fifth team of another with
no game), each line below written out; a sixth game names a team the base tables then lose.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pymongo
import pytest

from boxscore.games import Matchup
from boxscore.roster import Player, Team
from boxscore.season import Season
from boxscore.season_document import planned_entry, played_entry, tables_of
from devstack.follow import Background
from devstack.servers import BoxScorePage, MongoServer, free_ports, wait_until
from flows.finalize import finalize_game
from flows.live_boxscore import live_boxscore
from tasks import ServiceUnavailable
from tasks.reference import reset_reference
from tasks.seasons import SeasonStore
from tasks.stream import write_stream
from tests.helpers import mongo_client, valid_season
from tests.integration.browser import CHROMIUM, Browser
from tests.integration.test_page_api import scrape
from tests.recorded_game import FINAL_BOXSCORE

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (make test installs it)")

ROOT = Path(__file__).resolve().parents[2]
SEASON = "2026"
FAST = {"poll_interval": 0.05, "wait_for_stream": 60, "stall_timeout": 120, "settle_seconds": 0.5}
TEAMS = [
    Team(1, "army", "patriot", 0, 0),
    Team(2, "navy", "patriot", 0, 0),
    Team(3, "lehigh", "patriot", 0, 0),
    Team(4, "colgate", "patriot", 0, 0),
    Team(5, "duke", "acc", 0, 0),
]
VISITORS, VIC = Team(9, "visitors", "independent", 0, 0), Player(91, "vic", "1", 0, 0, 9)
PLAYERS = [  # id, name, jersey, season shots and goals before these games, team
    Player(11, "ann", "1", 20, 5, 1),
    Player(12, "abe", "2", 8, 1, 1),
    Player(21, "ned", "1", 20, 4, 2),
    Player(22, "nia", "2", 10, 2, 2),
    Player(31, "lee", "1", 15, 3, 3),
    Player(32, "liz", "2", 2, 2, 3),  # 4 shots after the games: below the 10 of the shooting table
    Player(41, "cal", "1", 18, 6, 4),
    Player(42, "cyd", "2", 9, 1, 4),  # 10 shots after the games: exactly the minimum
    Player(51, "dan", "1", 0, 0, 5),
]
END = "00:00 0 0 0"
GAMES = {  # game: (home, away, the stream: event clock team jersey goal)
    # army 2, navy 1: ann 2/2, abe 1/0; ned 1/1, nia 1/0
    "g1": (1, 2, ["0 50:00 1 1 1", "1 45:00 2 1 1", "2 40:00 1 2 0", "3 30:00 1 1 1", "4 20:00 2 2 0", f"5 {END}"]),
    # lehigh 1, colgate 0: liz 1/1; cal 1/0, cyd 1/0
    "g2": (3, 4, ["0 50:00 3 2 1", "1 40:00 4 1 0", "2 30:00 4 2 0", f"3 {END}"]),
    # navy 2, lehigh 1: ned 1/1, nia 1/1; lee 1/1, liz 1/0
    "g3": (2, 3, ["0 55:00 2 1 1", "1 44:00 3 1 1", "2 33:00 2 2 1", "3 22:00 3 2 0", f"4 {END}"]),
    # army 1, colgate 2: ann 1/1, abe 1/0; cal 2/2
    "g4": (1, 4, ["0 50:00 4 1 1", "1 40:00 1 1 1", "2 30:00 4 1 1", "3 20:00 1 2 0", f"4 {END}"]),
    # army 3, lehigh 1: ann 2/2, abe 1/1; lee 2/1
    "g5": (1, 3, ["0 50:00 1 1 1", "1 45:00 1 2 1", "2 40:00 3 1 1", "3 35:00 1 1 1", "4 30:00 3 1 0", f"5 {END}"]),
    # the visitors (whose team the base tables lose before the last finalize) 1, army 0
    "g6": (9, 1, ["0 50:00 9 1 1", "1 40:00 1 1 0", f"2 {END}"]),
}
#: army 2-1; colgate and navy 1-1 (tied: listed by name); lehigh 1-2; duke, in the acc, no game
STANDINGS = [
    ("acc", [(1, False, "duke", 0, 0, 0.0)]),
    (
        "patriot",
        [
            (1, False, "army", 2, 1, 0.667),
            (2, True, "colgate", 1, 1, 0.5),
            (2, True, "navy", 1, 1, 0.5),
            (4, False, "lehigh", 1, 2, 0.333),
        ],
    ),
]
#: season totals (shots, goals): ann 25/10, abe 11/2, ned 22/6, nia 12/3, lee 18/5, liz 4/3,
#: cal 21/8, cyd 10/1, dan 0/0
GOALS = [
    (1, "ann", 10),
    (2, "cal", 8),
    (3, "ned", 6),
    (4, "lee", 5),
    (5, "liz", 3),
    (5, "nia", 3),
    (7, "abe", 2),
    (8, "cyd", 1),
]
SHOTS = [
    (1, "ann", 25),
    (2, "ned", 22),
    (3, "cal", 21),
    (4, "lee", 18),
    (5, "nia", 12),
    (6, "abe", 11),
    (7, "cyd", 10),
    (8, "liz", 4),
]
PCT = [
    (1, "ann", 0.4),
    (2, "cal", 0.381),
    (3, "lee", 0.278),
    (4, "ned", 0.273),
    (5, "nia", 0.25),
    (6, "abe", 0.182),
    (7, "cyd", 0.1),
]


def text(lines: list[str]) -> str:
    return "\n".join(lines) + "\n"


def season_document(env: dict[str, str]) -> dict | None:
    return valid_season(mongo_client(env["MONGO_URL"])[env["MONGO_DB"]].seasons.find_one({"_id": SEASON}))


def leaders_of(document: dict, table: str, stat: str) -> list[tuple]:
    return [(row["rank"], row["name"], row[stat]) for row in document["leaders"][table]]


#: anything wider than the screen, or a table wider than its box
OVERFLOW = """[document.documentElement.scrollWidth > innerWidth ? "the page" : null,
  ...Array.from(document.querySelectorAll("table")).filter((t) => t.scrollWidth > t.parentElement.clientWidth
    || t.getBoundingClientRect().right > innerWidth).map((t) => t.id || t.className)].filter(Boolean)"""


@pytest.fixture
def season_page(pipeline_env: dict[str, str], tmp_path: Path) -> Iterator[BoxScorePage]:
    page = BoxScorePage(
        tmp_path / "page",
        mongo_url=pipeline_env["MONGO_URL"],
        mongo_db=pipeline_env["MONGO_DB"],
        refresh_seconds=0.2,
        season=SEASON,
        metrics_address=f"127.0.0.1:{free_ports(1)[0]}",
    ).start(timeout=60)
    yield page
    page.stop()


@pytest.mark.parametrize("sql_url", ["sqlite"], indirect=True)
def test_a_season_of_six_games_counted_by_hand_on_its_pages_live_and_in_chromium(
    pipeline_env: dict[str, str],
    storage: dict,
    monkeypatch: pytest.MonkeyPatch,
    season_page: BoxScorePage,
    browser: Browser,
    tmp_path: Path,
) -> None:
    prefix = pipeline_env["GAMESTREAM_URL"].rsplit("/", 1)[0] + "/games/"
    monkeypatch.setenv("GAMESTREAM_URL", prefix)
    monkeypatch.setenv("SEASON", SEASON)
    env = {**pipeline_env, "GAMESTREAM_URL": prefix}
    sql, url = env["SQL_URL"], season_page.url
    matchups = [Matchup(game, home, away) for game, (home, away, _) in GAMES.items()] + [Matchup("g7", 1, 5)]
    reset_reference(sql, [*TEAMS, VISITORS], [*PLAYERS, VIC], matchups)

    # before any game: the pages say so, a 200 that no cache keeps
    for path in ("/season", "/standings", "/leaders"):
        answer = httpx.get(url + path)
        assert (answer.status_code, answer.headers["cache-control"]) == (200, "no-cache"), path
        assert 'id="waiting"' in answer.text
        browser.open(url + path)  # the waiting pages are pages of the site too
        assert browser.axe_violations() == [], path
    empty = httpx.get(f"{url}/api/season")
    assert (empty.status_code, empty.headers["cache-control"]) == (200, "no-cache")
    assert valid_season(empty.json())["standings"] == [] and empty.json()["final_games"] == 0

    for game, (_, _, lines) in GAMES.items():
        write_stream(f"{prefix}{game}.txt", text(lines), storage)
    assert sorted(live_boxscore(**FAST)) == sorted(GAMES)
    # the visitors leave the base tables: their game is left out at the next finalize
    reset_reference(sql, TEAMS, PLAYERS, matchups)
    finalize_game()

    document = season_document(env)
    assert document is not None
    assert [
        (t["conference"], [(r["rank"], r["tied"], r["name"], r["wins"], r["losses"], r["pct"]) for r in t["teams"]])
        for t in document["standings"]
    ] == STANDINGS
    assert leaders_of(document, "goals", "goals") == GOALS
    assert leaders_of(document, "shots", "shots") == SHOTS
    assert leaders_of(document, "shooting_pct", "pct") == PCT
    assert document["final_games"] == 5
    assert document["skipped"] == [{"game_id": "g6", "reason": "team 9, player 91 not in the base tables"}]
    schedule = document["schedule"]
    assert {game: (g["status"], g["away_score"], g["home_score"]) for game, g in schedule.items()} == {
        "g1": ("final", 1, 2),
        "g2": ("final", 0, 1),
        "g3": ("final", 1, 2),
        "g4": ("final", 2, 1),
        "g5": ("final", 1, 3),
        "g6": ("final", 0, 1),
        "g7": ("scheduled", None, None),
    }
    assert sorted(game for game, g in schedule.items() if g.get("counted")) == ["g1", "g2", "g3", "g4", "g5"]

    # the pages over HTTP: one query's document, in page order, cached by version
    wait_until(lambda: "colgate" in httpx.get(f"{url}/standings").text.lower(), 30, "the standings")
    standings = httpx.get(f"{url}/standings")
    assert standings.headers["cache-control"] == "public, max-age=60"
    rows = [line for line in standings.text.splitlines() if "data-teamid" in line]
    assert [row.split('"')[1] for row in rows] == ["5", "1", "4", "2", "3"]  # acc first, then patriot in order
    assert "T-2" in standings.text
    again = httpx.get(f"{url}/standings", headers={"If-None-Match": standings.headers["etag"]})
    assert (again.status_code, again.content) == (304, b"")
    leaders = httpx.get(f"{url}/leaders").text
    assert "At least 10 shots." in leaders and leaders.count('data-player="32"') == 2  # liz: goals, shots; no pct
    schedule_page = httpx.get(f"{url}/season").text
    assert 'href="games/g7">Duke at Army</a>' in schedule_page and "Final, not in the standings yet" in schedule_page
    api = httpx.get(f"{url}/api/season")
    assert valid_season(api.json()) == json.loads(json.dumps(document, default=str))
    wait_until(
        lambda: "game g6 is left out of the standings and leaders" in season_page.log_path.read_text(),
        30,
        "the page's log naming the game left out",
    )

    # g5 corrected (lee's last shot was a goal) and finalized again: the season changes once
    version, tag = document["version"], httpx.get(f"{url}/leaders").headers["etag"]
    corrected = [*GAMES["g5"][2][:4], "4 30:00 3 1 1", f"5 {END}"]
    write_stream(f"{prefix}g5.txt", text(corrected), storage)
    finalize_game(games=["g5"])
    once = season_document(env)
    assert once is not None and once["version"] == version + 1
    assert leaders_of(once, "goals", "goals")[2:4] == [(3, "lee", 6), (3, "ned", 6)]  # tied, by name
    finalize_game(games=["g5"])
    twice = season_document(env)
    assert twice is not None and (twice["version"], twice["updated_at"]) == (once["version"], once["updated_at"])
    wait_until(lambda: httpx.get(f"{url}/leaders").headers["etag"] != tag, 30, "the leaders page's new version")
    changed = httpx.get(f"{url}/leaders").headers["etag"]
    assert httpx.get(f"{url}/leaders", headers={"If-None-Match": changed}).status_code == 304

    # g5 as first written again: a finalize that cannot reach SQL leaves the document as it was,
    # the next one writes it
    write_stream(f"{prefix}g5.txt", text(GAMES["g5"][2]), storage)
    monkeypatch.setenv("SQL_URL", f"sqlite:///{tmp_path}/no/such/directory/sidearmdb.sqlite")
    with pytest.raises(ServiceUnavailable, match="SQL database"):
        finalize_game(games=["g5"])
    assert season_document(env) == twice
    monkeypatch.setenv("SQL_URL", sql)
    finalize_game(games=["g5"])
    retried = season_document(env)
    assert retried is not None and retried["version"] == twice["version"] + 1
    assert leaders_of(retried, "goals", "goals") == GOALS

    # g7 live: the schedule follows it, the standings mark army and duke, the season's events push it
    write_stream(f"{prefix}g7.txt", text(["0 50:00 5 1 1", "1 45:00 1 1 0"]), storage)
    live = Background(lambda: live_boxscore(**FAST)).start()
    wait_until(
        lambda: (season_document(env) or {}).get("schedule", {}).get("g7", {}).get("status") == "live", 60, "g7 live"
    )
    wait_until(lambda: "playing now, 1 - 0" in httpx.get(f"{url}/standings").text, 30, "the live marker")
    assert httpx.get(f"{url}/standings").headers["cache-control"].startswith("public, max-age=1,")
    with httpx.stream("GET", f"{url}/season/events", timeout=30) as events:
        head: list[str] = []
        for line in events.iter_lines():
            if line.startswith("data:"):
                break
            head.append(line)
        assert "event: season" in head and '"g7"' in line, (head, line[:200])

    # every page in Chromium, at a desktop's and a phone's width: nothing cut off, nothing for axe-core
    shots = ROOT / os.environ.get("SCREENSHOT_DIR", str(tmp_path))
    # the season pages, box scores live and final, the current one, the games, a game not started, a bad id
    pages = ("/season", "/standings", "/leaders", "/games/g7", "/games/g1", "/", "/games", "/games/g8", "/games/a%20b")
    for path in pages:
        for width in (1280, 390):
            browser.resize(width, 1400, mobile=width == 390)
            browser.open(url + path)
            assert browser.evaluate(OVERFLOW) == [], (path, width)
            assert browser.axe_violations() == [], (path, width)
            if path in ("/standings", "/leaders", "/season"):
                name = f"{path.strip('/')}-{'desktop' if width == 1280 else 'phone'}.png"
                assert browser.screenshot(shots / name)[:8] == b"\x89PNG\r\n\x1a\n"

    # a page left closes its stream (a page kept in the back/forward cache with its stream open
    # would hold one of a browser's six connections to the site): the last page, a 404, has none
    subscribers = ("boxscore_page_event_stream_subscribers", ())
    wait_until(lambda: scrape(season_page.metrics_address)[subscribers] == 0, 15, "every left page's stream closed")

    write_stream(f"{prefix}g7.txt", text(["0 50:00 5 1 1", "1 45:00 1 1 0", f"2 {END}"]), storage)
    assert live.result(timeout=120)["g7"]["final"] is True
    final = season_document(env)
    assert final is not None and final["schedule"]["g7"]["status"] == "final" and final["final_games"] == 6
    assert [(r["name"], r["wins"], r["losses"]) for r in final["standings"][0]["teams"]] == [("duke", 1, 0)]


def test_mongodb_down_is_the_box_scores_503_on_every_season_page(tmp_path: Path) -> None:
    page = BoxScorePage(tmp_path / "page", mongo_url="mongodb://127.0.0.1:9/?directConnection=true", season=SEASON)
    page.start(timeout=60)
    try:
        box = httpx.get(f"{page.url}/games/g1", timeout=30)
        for path in ("/season", "/standings", "/leaders"):
            answer = httpx.get(page.url + path, timeout=30)
            assert (answer.status_code, answer.headers["cache-control"]) == (503, "no-cache"), path
            assert "The box-score database is not answering." in answer.text and box.status_code == 503
        api = httpx.get(f"{page.url}/api/season", timeout=30)
        assert (api.status_code, api.json()) == (503, {"detail": "the box-score database is not answering"})
    finally:
        page.stop()


class Updates(pymongo.monitoring.CommandListener):
    """The form of each update a store sends: a pipeline, or ``$set`` paths."""

    def __init__(self) -> None:
        self.forms: list[str] = []

    def started(self, event: pymongo.monitoring.CommandStartedEvent) -> None:
        if event.command_name == "update":
            for update in event.command["updates"]:
                self.forms.append("pipeline" if isinstance(update["u"], list) else "paths")

    def succeeded(self, event: object) -> None:
        pass

    def failed(self, event: object) -> None:
        pass


@pytest.mark.parametrize("mongo_server", ["secantusdb", "ferretdb"], indirect=True)
def test_each_writer_keeps_the_others_fields_and_an_unchanged_finalize_writes_nothing(
    mongo_server: MongoServer, tmp_path: Path
) -> None:
    """The store's writes on both servers: the live flow's schedule entries, each whole (a dotted
    game id included), finalize's tables and counted finals, the planned games only where missing."""
    database = f"season_{tmp_path.name[-8:]}"
    updates = Updates()
    store = SeasonStore(mongo_server.url, database, SEASON, listeners=(updates,))
    teams = {team.id: team for team in TEAMS}
    assert store.document() is None
    live = {**FINAL_BOXSCORE, "game_id": "g.1", "final": False, "period": 3, "period_clock": "04:10"}
    store.write_schedule([played_entry(live)], [planned_entry(Matchup("g.1", 101, 205), teams)])
    # the live entries merged in one pipeline update where the server takes one (SecantusDB
    # applies paths one by one over the document); FerretDB refuses it and gets the paths
    merges = {"secantusdb": ["pipeline", "pipeline"], "ferretdb": ["pipeline", "paths", "pipeline", "paths"]}
    assert updates.forms[: len(merges[mongo_server.name])] == merges[mongo_server.name]
    first = valid_season(store.document())
    assert first is not None and first["version"] == 0 and first["standings"] == []
    assert (first["schedule"]["g~1"]["status"], first["schedule"]["g~1"]["clock"]) == ("live", "04:10")
    assert "counted" not in first["schedule"]["g~1"], "the planned entry did not replace the live one"
    # a writer that believes g.1 missing (another put it there meanwhile) leaves it as it is
    assert store._plan([planned_entry(Matchup("g.1", 101, 205), teams)], schedule={}) is False
    assert store.document() == first

    season = Season(TEAMS, PLAYERS, {}, ("g.1",))
    final = played_entry({**FINAL_BOXSCORE, "game_id": "g.1"}, counted=True)
    planned = [planned_entry(Matchup("g2", 1, 2), teams)]
    assert store.write_tables(tables_of(season), [final], planned) is True
    written = valid_season(store.document())
    assert written is not None and written["version"] == 1 and written["final_games"] == 1
    assert written["schedule"]["g~1"] == final and written["schedule"]["g2"]["status"] == "scheduled"
    assert store.write_tables(tables_of(season), [final], planned) is False
    assert store.document() == written

    store.write_schedule([played_entry({**FINAL_BOXSCORE, "game_id": "g2"})])  # g2 played: its entry, not the plan
    later = valid_season(store.document())
    assert later is not None and later["schedule"]["g2"]["status"] == "final" and later["schedule"]["g~1"] == final
    assert (later["version"], later["standings"]) == (1, written["standings"])
