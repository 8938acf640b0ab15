"""Game day as an operator watches it: a real Prometheus scrapes the page and a live run during a
game, and what it read back through its query API agrees with what MongoDB holds; the run's
Prefect events and the game-day automations are read back from the Prefect API.

The figures are checked against what the test counts itself: the box scores in MongoDB, the
requests it made of the page.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pymongo
import pytest

from deployments.automations import GAME_BEHIND, SERVICE_DOWN, game_behind, install, service_down
from devstack.follow import start_polling
from devstack.servers import HOST, BoxScorePage, PrometheusServer, free_ports, wait_until
from flows.gamestream import gamestream
from flows.live_boxscore import live_boxscore
from tests.helpers import boxscores
from tests.recorded_game import FINAL_BOXSCORE

ROOT = Path(__file__).resolve().parents[2]
GAME = FINAL_BOXSCORE["game_id"]


def value(prometheus: PrometheusServer, promql: str, at: float | None = None) -> float:
    """The one value of an instant query, now or at a Unix time (fails on none or several)."""
    (sample,) = prometheus.query(promql, at)
    return float(sample["value"][1])


def when_one(prometheus: PrometheusServer, promql: str) -> list[float]:
    """The time of the query's evaluation now, where its one value is 1 (else none)."""
    return [float(sample["value"][0]) for sample in prometheus.query(promql) if sample["value"][1] == "1"]


def promtool(*args: str, text: str | None = None) -> None:
    binary = shutil.which("promtool")
    assert binary, "promtool is not installed: run `make tools` (Debian's prometheus)"
    checked = subprocess.run(
        [binary, *args], input=text, capture_output=True, text=True, cwd=ROOT / "deployments" / "prometheus"
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_alerting_rules_load_and_fire_as_their_own_tests_say() -> None:
    promtool("check", "rules", "alerts.yml")
    promtool("test", "rules", "alerts_test.yml")


@pytest.mark.parametrize(("sql_url", "mongo_server"), [("sqlite", "secantusdb")], indirect=True)
def test_prometheus_reads_the_page_and_a_live_run_during_a_game_as_mongodb_and_the_fans_saw_it(
    pipeline_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    live_port, page_port = free_ports(2)
    live_address, page_address = f"{HOST}:{live_port}", f"{HOST}:{page_port}"
    monkeypatch.setenv("LIVE_METRICS_ADDRESS", live_address)
    page = BoxScorePage(
        tmp_path / "page",
        mongo_url=pipeline_env["MONGO_URL"],
        mongo_db=pipeline_env["MONGO_DB"],
        metrics_address=page_address,
    ).start(timeout=60)
    prometheus = PrometheusServer(
        tmp_path / "prometheus", targets={"sidearm-live": [live_address], "sidearm-page": [page_address]}
    )
    since = datetime.now(UTC)
    try:
        prometheus.start(timeout=60)
        live = start_polling(lambda: live_boxscore(poll_interval=0.2, settle_seconds=8.0, stall_timeout=60))
        assert gamestream(delay=0.002) == 72
        exposition = httpx.get(f"http://{live_address}/metrics").text  # the run settles 8 s after this
        fans = [httpx.get(f"{page.url}/api/current") for _ in range(5)]
        assert [answer.status_code for answer in fans] == [200] * 5
        # the run settles for 8 s after the final: Prometheus scrapes it finalized in that time, and
        # its series are read as they were then (once the run ends they are stale: a query now finds none)
        finalized = f'boxscore_live_game_state{{game="{GAME}", state="finalized"}}'
        seen: list[float] = []

        def seen_finalized() -> bool:
            seen.extend(when_one(prometheus, finalized))
            return bool(seen)

        wait_until(seen_finalized, 30, "Prometheus to see the game finalized")
        assert live.result(timeout=60) == FINAL_BOXSCORE
        stored, at = boxscores(pipeline_env), seen[0]
        written = value(prometheus, f'boxscore_live_boxscores_written_total{{game="{GAME}"}}', at)
        lags = value(prometheus, "boxscore_live_boxscore_lag_seconds_count", at)
        events = value(prometheus, f'boxscore_live_events_folded_total{{game="{GAME}"}}', at)
        rejected = value(prometheus, f'boxscore_live_lines_rejected_total{{game="{GAME}"}}', at)
        failures = value(prometheus, "sum(boxscore_live_service_failures_total)", at)
        up = value(prometheus, 'sum(up{job=~"sidearm-.*"})', at)
        assert len(stored) >= 5 and written == len(stored)  # one per box score MongoDB holds
        with pymongo.MongoClient(pipeline_env["MONGO_URL"]) as client:
            collection = client[pipeline_env["MONGO_DB"]][pipeline_env["MONGO_COLLECTION"]]
            changes = {document["seen_at"] for document in collection.find({}, {"seen_at": 1})}
        assert lags == len(changes)  # one per change seen
        assert events == FINAL_BOXSCORE["event_id"] + 1  # ids 0 to 70, the final whistle's among them
        assert (rejected, failures, up) == (0, 0, 2)
        answered = 'boxscore_page_requests_total{route="/api/current", status="200"}'
        wait_until(lambda: value(prometheus, answered) == len(fans), 30, "Prometheus to count the fans' requests")
        promtool("check", "metrics", text=exposition)
        promtool("check", "metrics", text=httpx.get(f"http://{page_address}/metrics").text)
    finally:
        prometheus.stop()
        page.stop()
    events = game_events(since)
    assert [event for event in events if event.startswith("sidearm.game.")] == [
        "sidearm.game.started",
        "sidearm.game.final",
        "sidearm.game.finalized",
    ]


def game_events(since: datetime) -> list[str]:
    """The names of the events about the game the Prefect API holds, oldest first (they are persisted in batches)."""
    from prefect.settings import PREFECT_API_URL

    body = {
        "filter": {
            "occurred": {"since": since.isoformat(), "until": (datetime.now(UTC) + timedelta(minutes=1)).isoformat()},
            "resource": {"id": [f"sidearm.game.{GAME}"]},
            "order": "ASC",
        },
        "limit": 50,
    }
    found: list[str] = []

    def read() -> bool:
        answer = httpx.post(f"{PREFECT_API_URL.value()}/events/filter", json=body, timeout=10)
        answer.raise_for_status()
        found[:] = [event["event"] for event in answer.json()["events"]]
        return len(found) >= 3

    wait_until(read, 30, "the run's events in the Prefect API")
    return found


def test_the_game_day_automations_are_read_back_from_the_prefect_api(prefect_api: None) -> None:
    from prefect.client.orchestration import get_client

    for automation in (game_behind(), service_down()):
        install(automation)
    with get_client(sync_client=True) as client:
        (behind,) = client.read_automations_by_name(GAME_BEHIND)
        (down,) = client.read_automations_by_name(SERVICE_DOWN)
    assert behind.trigger.expect == {"sidearm.game.behind"} and behind.enabled
    assert (down.trigger.after, down.trigger.expect) == ({"sidearm.service.down"}, {"sidearm.service.back"})
    assert down.trigger.within == timedelta(seconds=60)
