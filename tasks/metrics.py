"""The live run's metrics in Prometheus's format, on an address of their own.

Named and labelled as Prometheus recommends: units in the name, ``_total`` counters, and labels
from bounded sets only (the run's games, which the run bounds; the four services):

- ``boxscore_live_boxscores_written_total{game}``: box scores stored;
- ``boxscore_live_events_folded_total{game}``: events folded into its tallies (a rewritten
  stream's events again);
- ``boxscore_live_lines_rejected_total{game}``: stream lines rejected;
- ``boxscore_live_stream_unchanged_seconds{game}``: seconds since a poll first showed its
  stream's current version;
- ``boxscore_live_game_behind_seconds{game}``: how long its box score has trailed a change of its
  stream (0: it shows the stream as last polled);
- ``boxscore_live_game_state{game,state}``: 1 for its state (waiting, live, final, finalized);
- ``boxscore_live_boxscore_lag_seconds``: from a poll first seeing a change to its box score
  stored (a histogram: one observation per box score stored);
- ``boxscore_live_service_failures_total{service}`` and ``boxscore_live_service_backed_off{service}``
  for ``s3``, ``dask``, ``mongodb`` and ``sql``;
- ``boxscore_live_tick_seconds``: one tick's work, its sleep left out (a histogram).

The loop hands over its figures at the end of each tick (:meth:`LiveMetrics.record`: a
reference swapped, a few histogram observations); a scrape reads the last figures in the HTTP
server's thread, so a slow scraper never delays a tick. The server is best-effort: an address
already taken is said in one line naming the setting, and the run goes on without it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

from prometheus_client import CollectorRegistry, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from boxscore.watch import GAME_STATES, FeedFigures, Figures

#: where a live run serves its metrics unless ``LIVE_METRICS_ADDRESS`` says otherwise
DEFAULT_ADDRESS = "127.0.0.1:9182"
#: a box score's lag: a poll interval or two when all is well, up to minutes through an outage
LAG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
#: a tick: milliseconds for a quiet one, up to the read timeout for one that waits on Dask
TICK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0)


class MetricsServer:
    """A registry served over HTTP on ``host:port`` until :meth:`stop` (best-effort)."""

    def __init__(self, registry: CollectorRegistry, address: str, setting: str, warn: Callable[[str], None]) -> None:
        self._server: Any = None
        self.port = 0
        if not address:
            return
        parts = urlsplit(f"//{address}")
        try:
            self._server, _ = start_http_server(parts.port or 0, addr=parts.hostname or "127.0.0.1", registry=registry)
        except (OSError, ValueError) as error:
            warn(f"metrics are not served: {setting}={address} cannot be used ({error})")
            return
        self.port = self._server.server_port

    @property
    def serving(self) -> bool:
        return self._server is not None

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class FiguresCollector(Collector):
    """The counters and gauges of the last figures the loop recorded, read when scraped."""

    def __init__(self) -> None:
        self.latest: Figures | None = None

    def collect(self) -> Iterator[Metric]:
        figures = self.latest
        if figures is None:
            return
        written = CounterMetricFamily("boxscore_live_boxscores_written", "Box scores stored, by game", labels=["game"])
        events = CounterMetricFamily(
            "boxscore_live_events_folded", "Events folded into a game's tallies", labels=["game"]
        )
        rejected = CounterMetricFamily(
            "boxscore_live_lines_rejected", "Stream lines rejected, by game", labels=["game"]
        )
        unchanged = GaugeMetricFamily(
            "boxscore_live_stream_unchanged_seconds",
            "Seconds since a poll first showed the game's stream as it is now",
            labels=["game"],
        )
        behind = GaugeMetricFamily(
            "boxscore_live_game_behind_seconds",
            "Seconds the game's box score has trailed a change of its stream (0: caught up)",
            labels=["game"],
        )
        state = GaugeMetricFamily(
            "boxscore_live_game_state",
            "1 for the game's state: waiting, live, final or finalized",
            labels=["game", "state"],
        )
        for game, counts in figures.games.items():
            written.add_metric([game], counts.written)
            events.add_metric([game], counts.events)
            rejected.add_metric([game], counts.rejected)
            if counts.since_change >= 0:
                unchanged.add_metric([game], counts.since_change)
            behind.add_metric([game], counts.behind)
            for name in GAME_STATES:
                state.add_metric([game, name], 1.0 if counts.state == name else 0.0)
        failures = CounterMetricFamily(
            "boxscore_live_service_failures", "Failed attempts on a service the run depends on", labels=["service"]
        )
        backed_off = GaugeMetricFamily(
            "boxscore_live_service_backed_off", "1 while the service is failing and backed off", labels=["service"]
        )
        for service, service_figures in figures.services.items():
            failures.add_metric([service], service_figures.failures)
            backed_off.add_metric([service], 1.0 if service_figures.backed_off else 0.0)
        yield from (written, events, rejected, unchanged, behind, state, failures, backed_off)
        if figures.feed is not None:
            yield from feed_metrics(figures.feed)


def feed_metrics(feed: FeedFigures) -> Iterator[Metric]:
    """The change feed's: how the run polls (every stream, or the games heard of) and what it heard."""
    polls = CounterMetricFamily(
        "boxscore_live_polls", "Polls of S3: of every stream, or of the games the change feed heard of", labels=["of"]
    )
    polls.add_metric(["every"], feed.polls_every)
    polls.add_metric(["heard"], feed.polls_heard)
    heard = CounterMetricFamily(
        "boxscore_live_change_notifications",
        "Objects the change feed heard of: a game of the run's, another object, or a record with no object",
        labels=["kind"],
    )
    heard.add_metric(["game"], feed.notifications)
    heard.add_metric(["ignored"], feed.ignored)
    heard.add_metric(["malformed"], feed.malformed)
    listening = GaugeMetricFamily(
        "boxscore_live_change_feed_listening", "1 while the change feed listens (0: the run polls every poll_interval)"
    )
    listening.add_metric([], 1.0 if feed.listening else 0.0)
    yield from (polls, heard, listening)


class LiveMetrics:
    """The live run's metrics, in a registry of their own (one per run)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.figures = FiguresCollector()
        self.registry.register(self.figures)
        self.lag = Histogram(
            "boxscore_live_boxscore_lag_seconds",
            "From a poll first seeing a change of a stream to the box score showing it stored",
            buckets=LAG_BUCKETS,
            registry=self.registry,
        )
        self.tick = Histogram(
            "boxscore_live_tick_seconds",
            "One tick's work, its sleep left out",
            buckets=TICK_BUCKETS,
            registry=self.registry,
        )

    def record(self, figures: Figures) -> None:
        """The tick's figures: the gauges and counters as they are now, the new lags, the tick's time."""
        self.figures.latest = figures
        for lag in figures.lags:
            self.lag.observe(lag)
        self.tick.observe(figures.tick_seconds)
