"""The live run's metrics and events adapters: what a scrape reads, and that neither is ever in the way.

The expositions are read back with prometheus_client's own parser; the expected values are the
figures handed in, written out by hand.
"""

from __future__ import annotations

import socket
import threading
import urllib.request
from dataclasses import replace
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from boxscore.watch import FeedFigures, Figures, GameFigures, Moment, ServiceFigures
from devstack.servers import HOST, free_ports
from tasks.events import Announcer
from tasks.metrics import LiveMetrics, MetricsServer

FIGURES = Figures(
    games={
        "g1": GameFigures(12, 40, 1, "live", 2.5, 42.0, "A 3 - 4 B", "31:10"),
        "g2": GameFigures(70, 71, 0, "finalized", 40.0),
        "g3": GameFigures(0, 0, 0, "waiting", -1.0),
    },
    services={
        "s3": ServiceFigures(0, False),
        "dask": ServiceFigures(0, False),
        "mongodb": ServiceFigures(3, True),
        "sql": ServiceFigures(1, False),
    },
    lags=[0.2, 0.7, 12.0],
    tick_seconds=0.03,
)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(metrics: LiveMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    server = MetricsServer(metrics.registry, f"{HOST}:0", "LIVE_METRICS_ADDRESS", print)
    try:
        return samples(urllib.request.urlopen(f"http://{HOST}:{server.port}/metrics", timeout=5).read().decode())
    finally:
        server.stop()


def test_a_scrape_reads_the_last_figures_recorded_and_every_lag_observed() -> None:
    metrics = LiveMetrics()
    metrics.record(FIGURES)
    metrics.record(Figures(FIGURES.games, FIGURES.services, [1.5], 0.01))
    got = scrape(metrics)
    assert got[("boxscore_live_boxscores_written_total", (("game", "g1"),))] == 12
    assert got[("boxscore_live_events_folded_total", (("game", "g2"),))] == 71
    assert got[("boxscore_live_lines_rejected_total", (("game", "g1"),))] == 1
    assert got[("boxscore_live_stream_unchanged_seconds", (("game", "g1"),))] == 2.5
    assert ("boxscore_live_stream_unchanged_seconds", (("game", "g3"),)) not in got  # never changed: no value
    assert got[("boxscore_live_game_behind_seconds", (("game", "g1"),))] == 42.0
    assert got[("boxscore_live_game_behind_seconds", (("game", "g2"),))] == 0.0
    states = {labels: value for (name, labels), value in got.items() if name == "boxscore_live_game_state"}
    assert {dict(labels)["state"] for labels, value in states.items() if dict(labels)["game"] == "g2" and value} == {
        "finalized"
    }
    assert len(states) == 3 * 4  # each game, each state
    assert got[("boxscore_live_service_failures_total", (("service", "mongodb"),))] == 3
    assert got[("boxscore_live_service_backed_off", (("service", "mongodb"),))] == 1
    assert got[("boxscore_live_service_backed_off", (("service", "sql"),))] == 0
    assert got[("boxscore_live_boxscore_lag_seconds_count", ())] == 4  # 0.2, 0.7, 12 and 1.5
    assert got[("boxscore_live_boxscore_lag_seconds_sum", ())] == 0.2 + 0.7 + 12.0 + 1.5
    assert got[("boxscore_live_boxscore_lag_seconds_bucket", (("le", "1.0"),))] == 2
    assert got[("boxscore_live_tick_seconds_count", ())] == 2


def test_nothing_recorded_yet_is_an_exposition_of_empty_histograms() -> None:
    got = scrape(LiveMetrics())
    assert got[("boxscore_live_tick_seconds_count", ())] == 0
    assert not any(name.startswith("boxscore_live_boxscores_written") for name, _ in got)


def test_an_address_taken_is_one_line_naming_the_setting_and_an_empty_one_serves_nothing() -> None:
    said: list[str] = []
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        address = f"{HOST}:{taken.getsockname()[1]}"
        server = MetricsServer(LiveMetrics().registry, address, "LIVE_METRICS_ADDRESS", said.append)
    assert not server.serving and [line.split(" (")[0] for line in said] == [
        f"metrics are not served: LIVE_METRICS_ADDRESS={address} cannot be used"
    ]
    assert not MetricsServer(LiveMetrics().registry, "", "LIVE_METRICS_ADDRESS", said.append).serving
    assert len(said) == 1


def test_a_stopped_server_frees_its_address_for_the_next_run() -> None:
    address = f"{HOST}:{free_ports(1)[0]}"
    first = MetricsServer(LiveMetrics().registry, address, "LIVE_METRICS_ADDRESS", print)
    first.stop()
    second = MetricsServer(LiveMetrics().registry, address, "LIVE_METRICS_ADDRESS", print)
    assert second.serving
    second.stop()


def test_a_moment_is_an_event_on_its_resource_with_secrets_masked() -> None:
    sent: list[dict[str, Any]] = []
    announcer = Announcer(lambda text: text.replace("hunter2", "***"), print, lambda **event: sent.append(event))
    announcer.announce(
        Moment(
            "sidearm.service.down",
            "sidearm.service.mongodb",
            "MongoDB (mongodb://app:hunter2@db)",
            {"reason": "auth hunter2", "n": 1},
        )
    )
    announcer.close()
    assert sent == [
        {
            "event": "sidearm.service.down",
            "resource": {
                "prefect.resource.id": "sidearm.service.mongodb",
                "prefect.resource.name": "MongoDB (mongodb://app:***@db)",
            },
            "payload": {"reason": "auth ***", "n": 1},
        }
    ]


def test_an_event_that_cannot_be_sent_is_said_once_and_the_run_goes_on() -> None:
    said: list[str] = []

    def refused(**event: Any) -> None:
        raise ConnectionError("the Prefect API does not answer")

    announcer = Announcer(str, said.append, refused)
    for _ in range(3):
        announcer.announce(Moment("sidearm.game.started", "sidearm.game.g1", "game g1"))
    announcer.close()
    assert said == ["Prefect events are not sent (ConnectionError: the Prefect API does not answer); the run goes on"]


def test_moments_are_emitted_off_the_loop_in_their_order_and_those_left_when_the_run_ends() -> None:
    emitting, sent = threading.Event(), []

    def slow(**event: Any) -> None:
        emitting.wait(5)  # a Prefect events client that takes its time
        sent.append(event["resource"]["prefect.resource.id"])

    announcer = Announcer(str, print, slow)
    for game in ("g1", "g2", "g3"):
        announcer.announce(Moment("sidearm.game.started", f"sidearm.game.{game}", f"game {game}"))
    assert sent == []  # the loop went on: nothing was emitted yet
    emitting.set()
    announcer.close()
    assert sent == ["sidearm.game.g1", "sidearm.game.g2", "sidearm.game.g3"]


def test_a_run_with_a_change_feed_shows_how_it_polls_and_what_it_heard() -> None:
    metrics = LiveMetrics()
    metrics.record(replace(FIGURES, feed=FeedFigures(3, 41, 40, 7, 1, True)))
    seen = scrape(metrics)
    assert seen[("boxscore_live_polls_total", (("of", "every"),))] == 3
    assert seen[("boxscore_live_polls_total", (("of", "heard"),))] == 41
    assert seen[("boxscore_live_change_notifications_total", (("kind", "game"),))] == 40
    assert seen[("boxscore_live_change_notifications_total", (("kind", "ignored"),))] == 7
    assert seen[("boxscore_live_change_notifications_total", (("kind", "malformed"),))] == 1
    assert seen[("boxscore_live_change_feed_listening", ())] == 1


def test_a_run_without_a_feed_has_no_feed_metrics() -> None:
    metrics = LiveMetrics()
    metrics.record(FIGURES)
    assert not [name for name, _ in scrape(metrics) if "change_" in name or "polls" in name]
