"""The box-score page and its JSON API, read-only, one MongoDB read per game per refresh interval.

Pages (Jinja, no build step):

- ``/``: the current box score, the one stored last (docs/document.md): with one stream its game,
  with many the game that changed last;
- ``/games/<game_id>``: one game (prefix mode, or an earlier game from the archive);
- ``/games``: every game in the collection with its score and clock;
- ``/healthz`` and ``/readyz``: for load balancers and probes (:mod:`web.health`).

A page of a game in progress follows it: ``static/live.js`` listens to the game's event stream
(``/events``, ``/games/<game_id>/events``) and swaps in the new box score; without script the
page reloads itself every second. Before a game's first box score the page says it has not
started, and keeps following. The JSON API (``/api/...``, described at ``/api/openapi.json``)
serves the stored documents as ``boxscore.schema.json`` describes them.

Every answer comes from :class:`web.cache.LatestBoxScores`: however many viewers, a game costs
one MongoDB read per ``WEB_REFRESH_SECONDS``, and a box score stored meanwhile arrives through
MongoDB's change stream without a read (:mod:`web.changes`). A malformed game id is a 404; MongoDB not
answering is a 503 that names it, never a trace, after the last good box score has been served
stale for ``WEB_STALE_SECONDS``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from boxscore.document import jersey_order
from boxscore.identity import BadGameId, checked_game_id
from boxscore.report import game_state, team_name
from tasks import ServiceUnavailable
from tasks.boxscores import BoxScoreStore
from tasks.seasons import SeasonStore
from web import api
from web import season as season_pages
from web.cache import GameKey, LatestBoxScores
from web.changes import ChangeWatcher
from web.events import box_score_events
from web.headers import NO_CACHE, SecurityHeaders, caching, etag, not_modified
from web.health import NO_STORE, Readiness
from web.metrics import CountedRequests, PageMetrics
from web.store import ANSWERED, QUERIES_HEADER, counting

log = logging.getLogger("web")

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=HERE / "templates")


def box_score_pct(pct: object) -> str:
    """A shooting percentage as box scores print it: ``0.5`` -> ``.500``, ``1.0`` -> ``1.000``
    (empty for a document stored before the field existed)."""
    return f"{pct:.3f}".removeprefix("0") if isinstance(pct, int | float) else ""


templates.env.filters["pct"] = box_score_pct
templates.env.filters["team"] = team_name
templates.env.filters["game_state"] = game_state
templates.env.filters["rank"] = lambda row: f"T-{row['rank']}" if row["tied"] else str(row["rank"])
templates.env.filters["in_jersey_order"] = lambda players: sorted(players, key=lambda p: jersey_order(p["number"]))


def up_to_root(path: str) -> str:
    """The relative path from a page to the site's root (``""`` or ``"../"``): links to our own
    pages and assets are relative, so the site works under any prefix behind a proxy."""
    return "../" * (path.rstrip("/").count("/") - 1) if path.count("/") > 1 else ""


def create_app(
    store: BoxScoreStore,
    refresh_seconds: float,
    stale_seconds: float,
    metrics_address: str,
    seasons: SeasonStore,
) -> FastAPI:
    """The page and the API, reading box scores from ``store`` through one shared copy per game
    and the season pages from ``seasons``; its metrics on ``metrics_address`` (empty: not served)."""

    async def read(game: GameKey) -> Any:
        return await anyio.to_thread.run_sync(store.latest, game)

    async def read_games(_: GameKey) -> Any:
        return await anyio.to_thread.run_sync(store.games)

    async def read_season(_: GameKey) -> Any:
        return await anyio.to_thread.run_sync(seasons.document)

    boxscores = LatestBoxScores(read, refresh_seconds, stale_seconds)
    games_list = LatestBoxScores(read_games, refresh_seconds, stale_seconds)
    season_copy = LatestBoxScores(read_season, refresh_seconds, stale_seconds, version=season_pages.season_version)
    copies = (boxscores, games_list, season_copy)
    metrics = PageMetrics(
        reads=lambda: sum(copy.reads for copy in copies), offers=lambda: sum(copy.offered for copy in copies)
    )

    @asynccontextmanager
    async def following_changes(app: FastAPI) -> AsyncIterator[None]:
        metrics.serve(metrics_address)
        loop = asyncio.get_running_loop()
        watcher = ChangeWatcher(store, boxscores.offer, loop).start()
        season_watcher = ChangeWatcher(seasons, offer_season, loop, "season documents").start()
        app.state.changes = watcher
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(watcher.stop)
            await anyio.to_thread.run_sync(season_watcher.stop)

    def offer_season(document: Any) -> None:
        if document.get("_id") == seasons.season:
            season_copy.replace(None, document)

    app = FastAPI(
        lifespan=following_changes,
        title="Sidearm box scores",
        version="2",
        summary="The stored box-score documents, as boxscore.schema.json describes them.",
        openapi_url="/api/openapi.json",
        docs_url=None,  # the hosted docs pages load script from a CDN, which the page's policy forbids
        redoc_url=None,
    )
    app.state.boxscores, app.state.games, app.state.metrics = boxscores, games_list, metrics

    def page(request: Request, name: str, context: dict[str, Any]) -> str:
        root = up_to_root(request.url.path)
        return templates.get_template(name).render(
            {"request": request, "root": root, "season": seasons.season, **context}
        )

    async def boxscore_page(request: Request, game: GameKey) -> Response:
        count = counting()
        copy = await boxscores.latest(game)
        events = "events" if game is None else f"{game}/events"
        if copy.document is None:
            what = f"game {game}" if game else "the game"
            body = page(request, "waiting.html", {"what": what, "live": True, "events": events})
            return HTMLResponse(body, headers={"Cache-Control": NO_CACHE, QUERIES_HEADER: str(len(count.commands))})
        assert copy.version is not None
        tag = etag(copy.version, "html")
        headers = caching(copy.document["final"], tag, boxscores.stale_seconds(copy))
        headers[QUERIES_HEADER] = str(len(count.commands))
        if not_modified(request.headers, tag):
            return Response(status_code=304, headers=headers)
        key = ("html", up_to_root(request.url.path))
        if key not in copy.rendered:
            live = not copy.document["final"]
            with metrics.render_seconds.time():
                copy.rendered[key] = page(
                    request, "boxscore.html", {"doc": copy.document, "live": live, "events": events}
                )
        return HTMLResponse(copy.rendered[key], headers=headers)

    async def counted(stream: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """An event stream, counted among the subscribers while it is open."""
        metrics.subscribers.inc()
        try:
            async for message in stream:
                yield message
        finally:
            metrics.subscribers.dec()

    def subscribed(boxscores: LatestBoxScores, game: GameKey, request: Request) -> AsyncIterator[Any]:
        """The game's event stream, counted."""
        return counted(box_score_events(boxscores, game, request))

    @app.get("/", include_in_schema=False)
    async def current(request: Request) -> Response:
        return await boxscore_page(request, None)

    @app.get("/games", include_in_schema=False)
    async def games(request: Request) -> Response:
        count = counting()
        latest = (await games_list.latest(None)).document or []
        # the schedule changes with every box score the live flow writes: the list follows its events
        live = any(not g["final"] for g in latest)
        body = page(request, "games.html", {"games": latest, "live": live, "events": "season/events"})
        return HTMLResponse(body, headers={"Cache-Control": NO_CACHE, QUERIES_HEADER: str(len(count.commands))})

    @app.get("/games/{game_id}", include_in_schema=False)
    async def game(request: Request, game_id: str) -> Response:
        try:
            checked = checked_game_id(game_id)
        except BadGameId:
            return HTMLResponse(page(request, "missing.html", {"what": "that game"}), status_code=404)
        return await boxscore_page(request, checked)

    @app.get("/events", include_in_schema=False)
    async def current_events(request: Request) -> Response:
        return EventSourceResponse(subscribed(boxscores, None, request), headers={"Cache-Control": "no-store"})

    @app.get("/games/{game_id}/events", include_in_schema=False)
    async def game_events(request: Request, game_id: str) -> Response:
        try:
            checked = checked_game_id(game_id)
        except BadGameId:
            return JSONResponse({"detail": "no such game"}, status_code=404)
        return EventSourceResponse(subscribed(boxscores, checked, request), headers={"Cache-Control": "no-store"})

    async def ping() -> None:
        await anyio.to_thread.run_sync(store.ping)

    readiness = Readiness(ping, refresh_seconds, stale_seconds, answered_at=lambda: ANSWERED.at)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> Response:
        return JSONResponse({"status": "serving"}, headers=NO_STORE)

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> Response:
        verdict = await readiness.verdict()
        return JSONResponse(verdict.body(), status_code=200 if verdict.ready else 503, headers=NO_STORE)

    app.include_router(api.router(boxscores, games_list))
    app.include_router(season_pages.routes(season_copy, seasons.season, page, counted))
    app.openapi = lambda: api.openapi(app)  # type: ignore[method-assign]
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(ServiceUnavailable)
    async def unavailable(request: Request, error: ServiceUnavailable) -> Response:
        log.warning("answering 503: %s", error)  # for the operator: the service, its URL masked
        if request.url.path.startswith("/api/"):
            return JSONResponse(api.unavailable(error), status_code=503, headers={"Cache-Control": NO_CACHE})
        body = page(request, "unavailable.html", {"reason": api.UNAVAILABLE})
        return HTMLResponse(body, status_code=503, headers={"Cache-Control": NO_CACHE})

    app.add_middleware(CountedRequests, metrics=metrics)
    app.add_middleware(SecurityHeaders)
    return app
