"""The page's metrics are best-effort: an address already taken is one line naming the setting."""

from __future__ import annotations

import logging
import socket
import urllib.request

import pytest

from devstack.servers import HOST, free_ports
from web.metrics import PageMetrics, route_of


def test_an_address_taken_is_one_line_naming_the_setting_and_no_address_serves_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    metrics = PageMetrics(reads=lambda: 3, offers=lambda: 1)
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        address = f"{HOST}:{taken.getsockname()[1]}"
        with caplog.at_level(logging.WARNING, logger="web"):
            assert metrics.serve(address) is False
    assert [record.getMessage().split(" (")[0] for record in caplog.records] == [
        f"the page's metrics are not served: WEB_METRICS_ADDRESS={address} cannot be used"
    ]
    assert metrics.serve("") is False


def test_metrics_served_on_their_address_read_the_copies_counts_when_scraped() -> None:
    reads = [3]
    metrics = PageMetrics(reads=lambda: reads[0], offers=lambda: 1)
    address = f"{HOST}:{free_ports(1)[0]}"
    assert metrics.serve(address)
    reads[0] = 5
    text = urllib.request.urlopen(f"http://{address}/metrics", timeout=5).read().decode()
    assert "boxscore_page_mongodb_reads_total 5.0" in text
    assert "boxscore_page_change_stream_offers_total 1.0" in text


def test_a_route_is_its_template_and_anything_else_one_of_two_labels() -> None:
    class Route:
        path = "/games/{game_id}"

    assert route_of({"route": Route(), "path": "/games/g1"}) == "/games/{game_id}"
    assert route_of({"path": "/static/live.js"}) == "/static"
    assert route_of({"path": "/wp-admin/x.php"}) == "unmatched"
