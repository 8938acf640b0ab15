"""The page's metrics, in Prometheus's text format, on an address of their own.

Named and labelled as Prometheus recommends: units in the name, ``_total`` counters, and labels
from bounded sets only (a route's template, never a path with a game id; an HTTP status).

- ``boxscore_page_requests_total{route,status}``: answers, a ``304`` among them;
- ``boxscore_page_mongodb_reads_total``: reads of MongoDB the page's copies made (one per game
  per refresh interval, whatever the traffic);
- ``boxscore_page_change_stream_offers_total``: box scores taken from MongoDB's change stream
  instead of a read;
- ``boxscore_page_event_stream_subscribers``: event streams open now;
- ``boxscore_page_render_seconds``: time to render a page from a box score (a histogram).

They are served on ``WEB_METRICS_ADDRESS`` (``127.0.0.1:9181``; empty: not served), never on the
fans' port, so nothing a fan can reach shows them. Serving them is best-effort: an address
already taken (a second page on the host, another uvicorn worker) is said in one line naming the
setting, and the page serves fans as ever.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tasks.metrics import MetricsServer

log = logging.getLogger("web")

#: where the page serves its metrics unless ``WEB_METRICS_ADDRESS`` says otherwise
DEFAULT_ADDRESS = "127.0.0.1:9181"
#: render times: a page is rendered once per box score version, in a few milliseconds
RENDER_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)


class CopiesCollector(Collector):
    """The page's MongoDB reads and change-stream offers, read from its copies when scraped."""

    def __init__(self, reads: Callable[[], int], offers: Callable[[], int]) -> None:
        self._reads, self._offers = reads, offers

    def collect(self) -> Iterator[CounterMetricFamily]:
        yield CounterMetricFamily(
            "boxscore_page_mongodb_reads", "Reads of MongoDB made by the page's copies of box scores", self._reads()
        )
        yield CounterMetricFamily(
            "boxscore_page_change_stream_offers",
            "Box scores taken from MongoDB's change stream without a read",
            self._offers(),
        )


class PageMetrics:
    """The page's metrics, in a registry of their own (one per app)."""

    def __init__(self, reads: Callable[[], int], offers: Callable[[], int]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "boxscore_page_requests", "Answers by route and HTTP status", ["route", "status"], registry=self.registry
        )
        self.subscribers = Gauge(
            "boxscore_page_event_stream_subscribers", "Event streams open now", registry=self.registry
        )
        self.render_seconds = Histogram(
            "boxscore_page_render_seconds",
            "Time to render a page from a box score",
            buckets=RENDER_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(CopiesCollector(reads, offers))

    def serve(self, address: str) -> bool:
        """Serve the metrics on ``host:port`` (best-effort); whether they are served."""
        server = MetricsServer(
            self.registry, address, "WEB_METRICS_ADDRESS", lambda line: log.warning("the page's %s", line)
        )
        return server.serving


def route_of(scope: Scope) -> str:
    """The route's template (``/games/{game_id}``), bounded whatever the paths asked."""
    route = scope.get("route")
    if route is not None and hasattr(route, "path"):
        return str(route.path)
    return "/static" if str(scope.get("path", "")).startswith("/static/") else "unmatched"


class CountedRequests:
    """ASGI middleware counting each answer by its route and status."""

    def __init__(self, app: ASGIApp, metrics: PageMetrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.metrics.requests.labels(route_of(scope), str(message["status"])).inc()
            await send(message)

        await self.app(scope, receive, counted)
