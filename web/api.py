"""The JSON API: the stored box scores, as ``boxscore.schema.json`` describes them.

- ``GET /api/games``: the latest box score of every game, by game id;
- ``GET /api/games/<game_id>``: one game's latest box score (``ETag``, ``304`` as the page);
- ``GET /api/current``: the current box score, the one stored last (docs/document.md).

The OpenAPI description (``/api/openapi.json``) carries the published schema itself: its
``$defs`` become the description's components, so the API and the MongoDB document have one
contract. A game with no box score, or a malformed id, is a 404 with a JSON ``detail``; MongoDB
not answering is a 503 naming it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Header
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from starlette.requests import Request
from starlette.responses import Response

from boxscore.identity import BadGameId, checked_game_id
from tasks import ServiceUnavailable
from web.cache import GameKey, LatestBoxScores
from web.headers import NO_CACHE, caching, etag, not_modified
from web.serialised import document_json

#: the published contracts of the documents (the repository's root, next to the packages)
SCHEMA_FILE = Path(__file__).resolve().parents[1] / "boxscore.schema.json"
SEASON_SCHEMA_FILE = Path(__file__).resolve().parents[1] / "season.schema.json"
JSON = "application/json"


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _box_score(description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": {"$ref": "#/components/schemas/BoxScore"}}}}


ONE_GAME: dict[int | str, dict[str, Any]] = {
    200: _box_score("The game's latest box score."),
    304: {"description": "The client's copy (If-None-Match) is the current box score."},
    404: _error("No box score for this game yet, or no such game id."),
    503: _error("MongoDB is not answering (and the last box score read is too old to serve)."),
}
CACHED = "Cache-Control: a second while live, an hour once final; ETag: the box score's version."


#: what fans and API clients are told when MongoDB does not answer: no user, host or port of ours
#: (the page's log names MongoDB by its masked URL, for the operator)
UNAVAILABLE = "the box-score database is not answering"


def unavailable(error: ServiceUnavailable) -> dict[str, str]:
    """The body of a 503 or of an ``unavailable`` event: that box scores cannot be read, never where from."""
    return {"detail": UNAVAILABLE}


def router(boxscores: LatestBoxScores, games: LatestBoxScores) -> APIRouter:
    """The API's routes over the page process's shared copies of each game's box score."""
    api = APIRouter(prefix="/api")

    async def one(request: Request, game: GameKey, missing: str) -> Response:
        copy = await boxscores.latest(game)
        if copy.document is None or copy.version is None:
            return JSONResponse({"detail": missing}, status_code=404, headers={"Cache-Control": NO_CACHE})
        tag = etag(copy.version, "json")
        headers = caching(copy.document["final"], tag, boxscores.stale_seconds(copy))
        if not_modified(request.headers, tag):
            return Response(status_code=304, headers=headers)
        return Response(document_json(copy), media_type=JSON, headers=headers)

    @api.get(
        "/games",
        summary="Every game's latest box score",
        description="One box score per game in the collection, ordered by game id.",
        response_class=Response,
        responses={
            200: {
                "description": "The latest box score of every game.",
                "content": {JSON: {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/BoxScore"}}}},
            },
            503: ONE_GAME[503],
        },
    )
    async def list_games() -> Response:
        copy = await games.latest(None)
        body = json.dumps(copy.document or [], separators=(",", ":"))
        return Response(body, media_type=JSON, headers={"Cache-Control": NO_CACHE})

    @api.get(
        "/games/{game_id}",
        summary="One game's latest box score",
        description=CACHED,
        response_class=Response,
        responses=ONE_GAME,
    )
    async def one_game(request: Request, game_id: str, if_none_match: str | None = Header(default=None)) -> Response:
        try:
            checked = checked_game_id(game_id)
        except BadGameId:
            return JSONResponse({"detail": "no such game id"}, status_code=404, headers={"Cache-Control": NO_CACHE})
        return await one(request, checked, f"no box score for game {checked} yet")

    @api.get(
        "/current",
        summary="The current game's latest box score",
        description="The box score stored last: with one stream, its game as it stands; with many games, "
        "the game that changed last (docs/document.md). " + CACHED,
        response_class=Response,
        responses=ONE_GAME,
    )
    async def current(request: Request, if_none_match: str | None = Header(default=None)) -> Response:
        return await one(request, None, "no box score yet")

    return api


def _as_components(schema: Any, prefix: str = "") -> Any:
    """The schema with each ``#/$defs/<name>`` reference pointing at ``#/components/schemas/<prefix><name>``."""
    if isinstance(schema, dict):
        return {
            key: value.replace("#/$defs/", "#/components/schemas/" + prefix, 1)
            if key == "$ref" and isinstance(value, str)
            else _as_components(value, prefix)
            for key, value in schema.items()
        }
    if isinstance(schema, list):
        return [_as_components(item, prefix) for item in schema]
    return schema


def _published(path: Path, name: str, prefix: str = "") -> dict[str, Any]:
    """A published schema as components: itself under ``name``, its ``$defs`` under ``prefix`` + their names."""
    schema = json.loads(path.read_text())
    defs = schema.pop("$defs", {})
    for key in ("$schema", "$id"):
        schema.pop(key, None)
    return _as_components({name: schema, **{prefix + k: v for k, v in defs.items()}}, prefix)


def openapi(app: FastAPI) -> dict[str, Any]:
    """The API's OpenAPI 3.1 description, with the published schema as its components (made once)."""
    if app.openapi_schema is None:
        description = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
        components = description.setdefault("components", {}).setdefault("schemas", {})
        components.update(_published(SCHEMA_FILE, "BoxScore"))
        components.update(_published(SEASON_SCHEMA_FILE, "Season", "Season."))
        components["Error"] = {
            "type": "object",
            "required": ["detail"],
            "properties": {"detail": {"type": "string", "description": "What went wrong, in words."}},
        }
        app.openapi_schema = description
    return app.openapi_schema
