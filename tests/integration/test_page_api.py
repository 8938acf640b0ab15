"""The page process over real HTTP: its JSON API against its own OpenAPI description, conditional
requests, pushed updates, security headers, and one MongoDB read per game per interval however
many fans ask.

``python -m web`` runs as a process of its own against the session's SecantusDB, except for the
load test, which serves the app in this process so the page's own command listener can be read.
"""

from __future__ import annotations

import asyncio
import copy
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import aiohttp
import httpx
import pymongo
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings

from devstack import stack
from devstack.servers import HOST, BoxScorePage, FerretMongo, MongoServer, SecantusMongo, free_ports, wait_until
from tasks.boxscores import BoxScoreStore
from tests.helpers import examples, shown_pieces, stamped, valid
from tests.recorded_game import FINAL_BOXSCORE, RECORDED_GAME_ID
from web.app import create_app
from web.store import SENT, page_store, season_store

LIVE_GAME = "g0123456789ab"
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
}


def live_boxscore(event_id: int, home_score: int) -> dict:
    """A live game's box score at ``event_id``: the recorded game's, under another id, not final."""
    document = copy.deepcopy(FINAL_BOXSCORE)
    document.update(_id=f"{LIVE_GAME}/{event_id}", game_id=LIVE_GAME, event_id=event_id, final=False)
    document["home"]["score"], document["home"]["status"], document["away"]["status"] = home_score, "winning", "losing"
    return stamped(document, stored_at=f"2026-03-14T18:{event_id:02d}:00.000000Z")  # later than the final's


@pytest.fixture
def database(mongo_server: MongoServer) -> Iterator[pymongo.collection.Collection]:
    name = f"page_api_{time.monotonic_ns()}"
    collection = pymongo.MongoClient(mongo_server.url)[name].boxscores
    collection.insert_many([valid(stamped(FINAL_BOXSCORE)), valid(live_boxscore(40, 9))])
    yield collection
    collection.database.client.drop_database(name)


@pytest.fixture
def page(mongo_server: MongoServer, database: pymongo.collection.Collection, tmp_path: Path) -> Iterator[BoxScorePage]:
    url, name = mongo_server.url, database.database.name
    server = BoxScorePage(tmp_path / "page", mongo_url=url, mongo_db=name, refresh_seconds=0.1)
    yield server.start(timeout=60)
    server.stop()


def test_the_api_answers_as_its_openapi_description_says(page: BoxScorePage) -> None:
    """schemathesis reads /api/openapi.json and calls every operation with generated ids and
    headers: each answer's status, content type and body must be the documented ones."""
    schema = schemathesis.openapi.from_url(f"{page.url}/api/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} == {"/api/games", "/api/games/{game_id}", "/api/current", "/api/season"}
    assert schema.raw_schema["components"]["schemas"]["BoxScore"]["properties"]["scoring"]["items"]
    for operation in operations:

        @settings(max_examples=examples(30), deadline=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def conforms(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=page.url)

        conforms()


@pytest.mark.parametrize("mongo_server", ["secantusdb", "ferretdb"], indirect=True)
def test_a_game_as_json_with_its_etag_then_304_and_bad_ids_as_json_404s(page: BoxScorePage) -> None:
    final = httpx.get(f"{page.url}/api/games/{RECORDED_GAME_ID}")
    assert final.status_code == 200 and final.headers["content-type"] == "application/json"
    assert valid(final.json()) == stamped(FINAL_BOXSCORE)
    assert final.headers["cache-control"] == "public, max-age=3600"
    again = httpx.get(f"{page.url}/api/games/{RECORDED_GAME_ID}", headers={"If-None-Match": final.headers["etag"]})
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", final.headers["etag"])
    live = httpx.get(f"{page.url}/api/games/{LIVE_GAME}")
    assert live.json()["event_id"] == 40 and live.headers["cache-control"].startswith("public, max-age=1,")
    assert live.headers["etag"] != final.headers["etag"]
    page_etag = httpx.get(f"{page.url}/games/{LIVE_GAME}").headers["etag"]
    assert page_etag != live.headers["etag"]  # the page and the JSON are two representations
    assert httpx.get(f"{page.url}/api/current").json()["_id"] == f"{LIVE_GAME}/40"  # README's query: the latest stored
    listed = httpx.get(f"{page.url}/api/games").json()
    assert [(g["game_id"], g["event_id"]) for g in listed] == sorted([(RECORDED_GAME_ID, 70), (LIVE_GAME, 40)])
    for path in ("/api/games/not%20an%20id", "/api/games/gdeadbeef0000"):
        missing = httpx.get(f"{page.url}{path}")
        assert missing.status_code == 404 and missing.headers["content-type"] == "application/json"
        assert missing.json()["detail"]


def test_the_html_page_answers_its_own_etag_with_304_until_the_box_score_changes(
    page: BoxScorePage, database: pymongo.collection.Collection
) -> None:
    """A fan's browser (or a CDN) revalidating the page: 304 with no body while the box score is the same."""
    for path in (f"/games/{LIVE_GAME}", f"/games/{RECORDED_GAME_ID}"):
        first = httpx.get(f"{page.url}{path}")
        tag = first.headers["etag"]
        assert first.status_code == 200 and tag.startswith('"html.')
        again = httpx.get(f"{page.url}{path}", headers={"If-None-Match": tag})
        assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", tag)
        other = httpx.get(f"{page.url}{path}", headers={"If-None-Match": tag.replace("html.", "json.")})
        assert other.status_code == 200, "the JSON's tag is not the page's"
    tag = httpx.get(f"{page.url}/games/{LIVE_GAME}").headers["etag"]
    database.insert_one(live_boxscore(41, 10))
    wait_until(lambda: httpx.get(f"{page.url}/games/{LIVE_GAME}").headers["etag"] != tag, 10, "the new box score")
    changed = httpx.get(f"{page.url}/games/{LIVE_GAME}", headers={"If-None-Match": tag})
    assert changed.status_code == 200 and 'id="home-score">10<' in changed.text


def test_an_event_stream_resumed_with_the_current_event_id_sends_only_what_is_new(
    page: BoxScorePage, database: pymongo.collection.Collection
) -> None:
    """The event stream's conditional answer: a reconnect naming the box score it has gets the next one first."""
    resumed = events(page, f"/games/{LIVE_GAME}/events", last_event_id="40")
    database.insert_one(live_boxscore(41, 10))
    first = next(resumed)
    assert (first["id"], json.loads(first["data"])["home"]["score"]) == ("41", 10)
    resumed.close()


@pytest.mark.parametrize("mongo_server", ["secantusdb", "ferretdb"], indirect=True)
def test_every_answer_has_the_security_headers_and_links_are_relative(page: BoxScorePage) -> None:
    answers = {path: httpx.get(f"{page.url}{path}") for path in ("/", "/games", f"/games/{LIVE_GAME}", "/api/games")}
    answers["static"] = httpx.get(f"{page.url}/static/page.css")
    for path, answer in answers.items():
        assert answer.status_code == 200, path
        for name, value in SECURITY_HEADERS.items():
            assert answer.headers[name] == value, (path, name)
        policy = dict(part.strip().split(" ", 1) for part in answer.headers["content-security-policy"].split(";"))
        assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'" and policy["object-src"] == "'none'"
    game_page = answers[f"/games/{LIVE_GAME}"].text
    assert 'href="../static/page.css"' in game_page and 'src="../static/live.js"' in game_page
    assert f'content="{LIVE_GAME}/events"' in game_page and 'href="../games"' in game_page
    assert 'href="static/page.css"' in answers["/"].text and 'content="events"' in answers["/"].text
    assert '<noscript><meta http-equiv="refresh" content="1"></noscript>' in game_page
    assert "boxscore-events" not in httpx.get(f"{page.url}/games/{RECORDED_GAME_ID}").text  # final: nothing to follow
    assert f'href="games/{LIVE_GAME}"' in answers["/games"].text and "Live, Q4" in answers["/games"].text


def test_a_game_not_started_says_so_and_keeps_following(page: BoxScorePage) -> None:
    waiting = httpx.get(f"{page.url}/games/gfeedface0001")
    assert waiting.status_code == 200 and waiting.headers["cache-control"] == "no-cache"
    assert "has not started" in waiting.text and 'content="gfeedface0001/events"' in waiting.text
    assert httpx.get(f"{page.url}/games/not%20an%20id").status_code == 404


def events(page: BoxScorePage, path: str, last_event_id: str | None = None) -> Iterator[dict[str, str]]:
    """Server-sent events as a browser's EventSource parses them: fields until a blank line."""
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    with httpx.stream("GET", f"{page.url}{path}", headers=headers, timeout=30) as answer:
        assert answer.headers["content-type"].startswith("text/event-stream")
        assert answer.headers["x-content-type-options"] == "nosniff"
        message: dict[str, str] = {}
        for line in answer.iter_lines():
            if not line:
                if "data" in message:
                    yield message
                message = {}
            elif not line.startswith(":"):
                field, _, value = line.partition(":")
                message[field] = message.get(field, "") + value.removeprefix(" ")


def test_subscribers_are_sent_each_new_box_score_with_its_event_id_and_resume_after_a_reconnect(
    page: BoxScorePage, database: pymongo.collection.Collection
) -> None:
    stream = events(page, f"/games/{LIVE_GAME}/events")
    first = next(stream)
    assert (first["event"], first["id"], json.loads(first["data"])["home"]["score"]) == ("boxscore", "40", 9)
    database.insert_one(live_boxscore(41, 10))
    second = next(stream)
    assert second["id"] == "41" and valid(json.loads(second["data"]))["home"]["score"] == 10
    stream.close()
    resumed = events(page, f"/games/{LIVE_GAME}/events", last_event_id="41")
    database.insert_one(live_boxscore(42, 11))
    assert next(resumed)["id"] == "42"  # not 41 again: the browser has it
    resumed.close()
    current = events(page, "/events")
    assert next(current)["id"] == "42"  # /events follows the current game
    current.close()


def test_a_box_score_stored_reaches_subscribers_through_the_change_stream_not_the_next_read(
    mongo_server: SecantusMongo, database: pymongo.collection.Collection, tmp_path: Path
) -> None:
    """The page reads a game once a minute here: a box score that arrives well within the minute
    came by MongoDB's change stream, not by a read."""
    url, name = mongo_server.url, database.database.name
    server = BoxScorePage(tmp_path / "slow", mongo_url=url, mongo_db=name, refresh_seconds=60)
    server.start(timeout=60)
    try:
        stream = events(server, f"/games/{LIVE_GAME}/events")
        assert next(stream)["id"] == "40"
        database.insert_one(live_boxscore(41, 10))
        stored = time.monotonic()
        pushed = next(stream)
        assert time.monotonic() - stored < 30, "it came with the next read, a minute on"
        assert pushed["id"] == "41" and json.loads(pushed["data"])["home"]["score"] == 10
        stream.close()
        answer = httpx.get(f"{server.url}/games/{LIVE_GAME}")
        assert answer.headers["X-MongoDB-Queries"] == "0" and 'id="home-score">10<' in answer.text
    finally:
        server.stop()


@pytest.mark.parametrize("mongo_server", ["ferretdb"], indirect=True)
def test_without_a_change_stream_subscribers_get_each_box_score_at_the_next_read_and_the_page_says_so_once(
    mongo_server: FerretMongo, database: pymongo.collection.Collection, tmp_path: Path
) -> None:
    """FerretDB has no change stream: the page falls back to its reads, one per refresh interval
    for all its subscribers, and says once in its log why."""
    url, name = mongo_server.url, database.database.name
    server = BoxScorePage(tmp_path / "page", mongo_url=url, mongo_db=name, refresh_seconds=0.5).start(timeout=60)
    try:
        stream = events(server, f"/games/{LIVE_GAME}/events")
        assert next(stream)["id"] == "40"
        database.insert_one(live_boxscore(41, 10))
        pushed = next(stream)
        assert pushed["id"] == "41" and json.loads(pushed["data"])["home"]["score"] == 10
        stream.close()
        said = [line for line in server.log_path.read_text().splitlines() if "no change stream" in line]
        # once for each collection the page follows: the box scores and the season documents
        assert len(said) == 2, said
        assert ["box scores reach the page" in line for line in said].count(True) == 1
        assert ["season documents reach the page" in line for line in said].count(True) == 1
    finally:
        server.stop()


def test_every_reader_of_the_current_box_score_finds_the_one_stored_last_whatever_its_id(
    mongo: SecantusMongo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A prefix run's box scores, written through the store as the live flow writes them: g0001
    followed to its final at event 57, then g0002 to event 10. As text, ``g0001/8`` sorts after
    ``g0001/57`` and ``g0002/9`` after ``g0002/10``; the current box score is the one stored last,
    for the store, the page, the API and ``python -m devstack score`` alike."""
    name = f"current_{time.monotonic_ns()}"
    store = BoxScoreStore(mongo.url, name, "boxscores")
    store.ensure_indexes()
    writes = [("g0001", 8, 2, False), ("g0001", 9, 3, False), ("g0001", 57, 14, True)]
    writes += [("g0002", 9, 4, False), ("g0002", 10, 5, False)]
    for game, event, home_score, final in writes:
        document = {**copy.deepcopy(FINAL_BOXSCORE), "_id": f"{game}/{event}", "game_id": game, "event_id": event}
        document["home"]["score"], document["final"] = home_score, final
        store.upsert([document], {game: "2026-03-14T18:00:00.000000Z"})
    assert store.latest()["_id"] == "g0002/10" and store.latest("g0001")["_id"] == "g0001/57"
    page = BoxScorePage(tmp_path / "page", mongo_url=mongo.url, mongo_db=name, refresh_seconds=0.1).start(timeout=60)
    try:
        assert valid(httpx.get(f"{page.url}/api/current").json())["_id"] == "g0002/10"
        assert 'id="home-score">5<' in httpx.get(f"{page.url}/").text
        assert valid(httpx.get(f"{page.url}/api/games/g0001").json())["event_id"] == 57
        monkeypatch.setenv("MONGO_URL", mongo.url)
        monkeypatch.setenv("MONGO_DB", name)
        monkeypatch.setenv("SQL_URL", f"sqlite:///{tmp_path / 'sidearmdb.sqlite'}")  # no season tables yet
        assert stack.main(["score"]) == 0  # python -m devstack score
        assert capsys.readouterr().out.splitlines()[0].endswith("Q4 00:00 (event g0002/10)")
        assert stack.main(["score", "g0001"]) == 0
        printed = capsys.readouterr().out.splitlines()
        assert printed[0].endswith("Final (event g0001/57)")
        assert printed[-1] == "teams2 and players2 are not written yet: python -m flows.finalize writes them"
    finally:
        page.stop()
        store._db.client.drop_database(name)


def test_mongodb_down_is_a_json_503_and_the_page_unready_but_alive_naming_no_internals_and_logging_the_url_masked(
    tmp_path: Path,
) -> None:
    mongo = SecantusMongo(tmp_path / "mongo").start(timeout=60)
    password = "Api@/:%&|{}; #pwé"
    pymongo.MongoClient(mongo.url).admin.command("createUser", "app", pwd=password, roles=["root"])
    url = mongo.url.replace("mongodb://", f"mongodb://app:{quote(password, safe='')}@")
    page = BoxScorePage(tmp_path / "page", mongo_url=url, stale_seconds=1.0).start(timeout=60)
    try:
        ready = httpx.get(f"{page.url}/readyz", timeout=30)
        assert (ready.status_code, ready.json()["status"], ready.headers["cache-control"]) == (200, "ready", "no-store")
        mongo.stop()
        wait_until(lambda: httpx.get(f"{page.url}/readyz", timeout=30).status_code == 503, 30, "the page unready")
        alive = httpx.get(f"{page.url}/healthz", timeout=30)
        assert (alive.status_code, alive.json(), alive.headers["cache-control"]) == (
            200,
            {"status": "serving"},
            "no-store",
        )
        answer = httpx.get(f"{page.url}/api/games/{RECORDED_GAME_ID}", timeout=30)
        assert answer.status_code == 503 and answer.headers["content-type"] == "application/json"
        assert answer.json() == {"detail": "the box-score database is not answering"}
        assert not shown_pieces(password, answer.text)
        logged = page.log_path.read_text()
        assert "answering 503: MongoDB at mongodb://app:***@127.0.0.1:" in logged
        assert not shown_pieces(password, logged)
    finally:
        page.stop()
        mongo.stop()


def test_two_hundred_fans_for_ten_seconds_cost_one_read_per_interval(
    mongo: SecantusMongo, database: pymongo.collection.Collection
) -> None:
    """200 concurrent clients refresh one live game with conditional requests for 10 s while the
    game goes on; the page's command listener counts what reached MongoDB."""
    interval, seconds, clients = 0.5, 10.0, 200
    seasons = season_store(mongo.url, database.database.name, "2026")
    app = create_app(page_store(mongo.url, database.database.name, "boxscores"), interval, 30.0, "", seasons)
    port = free_ports(1)[0]
    server = uvicorn.Server(uvicorn.Config(app, host=HOST, port=port, log_level="warning"))
    serving = threading.Thread(target=server.run, daemon=True)
    serving.start()
    wait_until(lambda: server.started, 30, "the page served in this process")
    stop = threading.Event()

    def game_goes_on() -> None:
        event = 41
        while not stop.wait(0.3):
            database.insert_one(live_boxscore(event, 9 + event % 3))
            event += 1

    writer = threading.Thread(target=game_goes_on, daemon=True)
    writer.start()
    statuses: list[int] = []
    seen_events: set[int] = set()

    async def fan(client: aiohttp.ClientSession, deadline: float) -> None:
        tag = None
        while time.monotonic() < deadline:
            headers = {"If-None-Match": tag} if tag else {}
            async with client.get(f"/api/games/{LIVE_GAME}", headers=headers) as answer:
                statuses.append(answer.status)
                if answer.status == 200:
                    tag = answer.headers["etag"]
                    seen_events.add((await answer.json())["event_id"])
            await asyncio.sleep(0.05)  # a fan's refresh (the load is the 200 of them at once)

    async def crowd() -> None:
        # aiohttp (s3fs's own HTTP client): httpx's clients spent more CPU than the page they loaded
        connector = aiohttp.TCPConnector(limit=clients)
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(f"http://{HOST}:{port}", connector=connector, timeout=timeout) as client:
            deadline = time.monotonic() + seconds
            await asyncio.gather(*(fan(client, deadline) for _ in range(clients)))

    before = sum(SENT.values())
    try:
        asyncio.run(crowd())
    finally:
        stop.set()
        server.should_exit = True
        serving.join(30)
        writer.join(30)
    sent = sum(SENT.values()) - before
    assert set(statuses) <= {200, 304} and len(statuses) > 5 * clients
    assert len(seen_events) >= 5  # the fans saw the game go on
    assert sent <= seconds / interval + 5, f"{sent} MongoDB commands for {len(statuses)} requests"
    assert app.state.boxscores.reads == sent


def scrape(address: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The page's metrics as Prometheus's own parser reads them: (sample, labels) -> value."""
    from prometheus_client.parser import text_string_to_metric_families

    text = httpx.get(f"http://{address}/metrics", timeout=10).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_the_page_s_metrics_count_answers_by_route_and_status_reads_and_subscribers_on_their_own_address(
    mongo_server: SecantusMongo, database: pymongo.collection.Collection, tmp_path: Path
) -> None:
    address = f"{HOST}:{free_ports(1)[0]}"
    page = BoxScorePage(
        tmp_path / "page", mongo_url=mongo_server.url, mongo_db=database.database.name, metrics_address=address
    ).start(timeout=60)
    try:
        api = f"{page.url}/api/games/{RECORDED_GAME_ID}"
        tag = httpx.get(api).headers["etag"]
        assert httpx.get(api, headers={"If-None-Match": tag}).status_code == 304
        assert httpx.get(f"{page.url}/api/games/not%20an%20id").status_code == 404
        assert httpx.get(f"{page.url}/games/{RECORDED_GAME_ID}").status_code == 200
        assert httpx.get(f"{page.url}/metrics").status_code == 404  # never on the fans' port
        stream = events(page, f"/games/{LIVE_GAME}/events")
        assert next(stream)["id"] == "40"
        wait_until(lambda: scrape(address)[("boxscore_page_event_stream_subscribers", ())] == 1, 10, "a subscriber")
        stream.close()
        wait_until(lambda: scrape(address)[("boxscore_page_event_stream_subscribers", ())] == 0, 10, "none left")
        figures = scrape(address)
        answers = {labels: value for (name, labels), value in figures.items() if name == "boxscore_page_requests_total"}
        route = (("route", "/api/games/{game_id}"),)
        assert answers[(*route, ("status", "200"))] == 1 and answers[(*route, ("status", "304"))] == 1
        assert answers[(*route, ("status", "404"))] == 1
        assert answers[(("route", "/games/{game_id}"), ("status", "200"))] == 1
        assert answers[(("route", "/games/{game_id}/events"), ("status", "200"))] == 1
        assert figures[("boxscore_page_render_seconds_count", ())] == 1  # one page rendered
        assert figures[("boxscore_page_mongodb_reads_total", ())] >= 2  # two games read, at least once each
        assert ("boxscore_page_change_stream_offers_total", ()) in figures
        promtool = shutil.which("promtool")
        assert promtool, "promtool is not installed: run `make tools` (Debian's prometheus)"
        checked = subprocess.run(
            [promtool, "check", "metrics"],
            input=httpx.get(f"http://{address}/metrics").text,
            capture_output=True,
            text=True,
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
    finally:
        page.stop()
