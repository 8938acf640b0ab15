"""The season pages and their API: ``/season`` (schedule and results), ``/standings``, ``/leaders``,
``GET /api/season`` and ``/season/events``, each from the season's one document.

They follow the box-score pages' rules (:mod:`web.app`): one MongoDB read per
``WEB_REFRESH_SECONDS`` for every reader (:class:`web.cache.LatestBoxScores`, keyed by nothing:
a page process serves one season), a document stored meanwhile pushed from the change stream, an
``ETag`` per version and representation, ``304`` for a copy that is current, server-sent events
while a game is live, and MongoDB down the same 503. Before any game is final the pages say so
with a 200 that no cache keeps, never a 404 a CDN would.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import bson
from fastapi import APIRouter, Header
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from boxscore.season_document import SeasonDocument, empty_season, has_results, playing_now, schedule_order
from tasks import ServiceUnavailable
from web.api import JSON, unavailable
from web.cache import Latest, LatestBoxScores
from web.headers import NO_CACHE, caching, etag, not_modified
from web.store import QUERIES_HEADER, counting

log = logging.getLogger("web.season")

#: a season without a live game changes only when a game is finalized: a minute's caching, then
#: a conditional request (304 while the same)
SEASON_CACHE = "public, max-age=60"
#: each page: its template, its title, and whether it needs a finished game to show anything
PAGES = {
    "season": ("season.html", "Schedule and results", False),
    "standings": ("standings.html", "Standings", True),
    "leaders": ("leaders.html", "Stat leaders", True),
}

Render = Callable[[Request, str, dict[str, Any]], str]


def season_version(document: SeasonDocument) -> str:
    """What changes whenever the season document does: its name and a digest (its schedule
    changes with every live box score, its ``version`` only at finalize)."""
    return f"season.{document['_id']}.{hashlib.blake2b(bson.encode(document), digest_size=6).hexdigest()}"


def live_games(document: SeasonDocument | None) -> bool:
    return bool(playing_now(document or {}))


def season_caching(copy: Latest, tag: str, stale_for: float | None) -> dict[str, str]:
    """A live season is kept a second, as a live box score; a quiet one a minute."""
    return caching(not live_games(copy.document), tag, stale_for, settled=SEASON_CACHE)


class SkippedSaid:
    """Says on the page's log, once per document version, which finished games the standings leave out."""

    def __init__(self) -> None:
        self.said: str | None = None

    def __call__(self, copy: Latest) -> None:
        if copy.document is None or copy.version == self.said:
            return
        self.said = copy.version
        for game in copy.document.get("skipped") or []:
            log.warning("game %s is left out of the standings and leaders: %s", game["game_id"], game["reason"])


def routes(
    seasons: LatestBoxScores,
    season: str,
    render: Render,
    counted: Callable[[AsyncIterator[Any]], AsyncIterator[Any]] = lambda stream: stream,
) -> APIRouter:
    """The season pages, their events (each stream passed through ``counted``, the page's
    subscribers gauge) and ``GET /api/season`` over the page process's copy."""
    router = APIRouter()
    say_skipped = SkippedSaid()

    async def season_page(request: Request, name: str) -> Response:
        template, title, needs_results = PAGES[name]
        count = counting()
        copy = await seasons.latest(None)
        document = copy.document
        headers = {QUERIES_HEADER: str(len(count.commands))}
        context = {"title": title, "page": name, "events": "season/events"}
        if document is None or (needs_results and not has_results(document)):
            context.update(doc=document or empty_season(season), live=live_games(document), waiting=True)
            return HTMLResponse(render(request, template, context), headers={"Cache-Control": NO_CACHE, **headers})
        say_skipped(copy)
        assert copy.version is not None
        tag = etag(copy.version, f"html.{name}")
        headers.update(season_caching(copy, tag, seasons.stale_seconds(copy)))
        if not_modified(request.headers, tag):
            return Response(status_code=304, headers=headers)
        key = ("html", name, request.url.path)
        if key not in copy.rendered:
            context.update(
                doc=document,
                live=live_games(document),
                waiting=False,
                schedule=schedule_order(document),
                playing=playing_now(document),
            )
            copy.rendered[key] = render(request, template, context)
        return HTMLResponse(copy.rendered[key], headers=headers)

    @router.get("/season", include_in_schema=False)
    async def schedule(request: Request) -> Response:
        return await season_page(request, "season")

    @router.get("/standings", include_in_schema=False)
    async def standings(request: Request) -> Response:
        return await season_page(request, "standings")

    @router.get("/leaders", include_in_schema=False)
    async def leaders(request: Request) -> Response:
        return await season_page(request, "leaders")

    @router.get("/season/events", include_in_schema=False)
    async def events(request: Request) -> Response:
        return EventSourceResponse(counted(season_events(seasons, request)), headers={"Cache-Control": "no-store"})

    @router.get(
        "/api/season",
        summary="The season: schedule and results, standings, stat leaders",
        description="The season's document as season.schema.json describes it (before any game: an empty "
        "season, not cached). Cache-Control: a second while a game is live, a minute otherwise; "
        "ETag: the document's version.",
        response_class=Response,
        responses={
            200: {"description": "The season.", "content": {JSON: {"schema": {"$ref": "#/components/schemas/Season"}}}},
            304: {"description": "The client's copy (If-None-Match) is the current season."},
            503: {
                "description": "MongoDB is not answering (and the last season read is too old to serve).",
                "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}},
            },
        },
    )
    async def api_season(request: Request, if_none_match: str | None = Header(default=None)) -> Response:
        copy = await seasons.latest(None)
        if copy.document is None or copy.version is None:
            body = json.dumps({"_id": season, **empty_season(season)}, separators=(",", ":"))
            return Response(body, media_type=JSON, headers={"Cache-Control": NO_CACHE})
        tag = etag(copy.version, "json")
        headers = season_caching(copy, tag, seasons.stale_seconds(copy))
        if not_modified(request.headers, tag):
            return Response(status_code=304, headers=headers)
        if "json" not in copy.rendered:
            copy.rendered["json"] = json.dumps(copy.document, separators=(",", ":"), default=str).encode()
        return Response(copy.rendered["json"], media_type=JSON, headers=headers)

    return router


async def season_events(seasons: LatestBoxScores, request: Request) -> AsyncIterator[ServerSentEvent | bytes]:
    """The season's document as it changes (``event: season``), the first at once, then at most
    one a refresh interval: on a game day every live box score changes the schedule, and a fan
    of the standings needs the latest, not each."""
    seen: str | None = None
    have = request.headers.get("last-event-id")
    while True:
        try:
            copy = await seasons.next_version(None, seen)
        except ServiceUnavailable as error:
            yield ServerSentEvent(json.dumps(unavailable(error)), event="unavailable")
            await seasons.pause()
            continue
        if seen is None and have == copy.version:
            seen = copy.version
            continue
        seen = copy.version
        if "event" not in copy.rendered:
            data = json.dumps(copy.document, separators=(",", ":"), default=str)
            copy.rendered["event"] = ServerSentEvent(data, event="season", id=copy.version).encode()
        yield copy.rendered["event"]
        await seasons.pause()
