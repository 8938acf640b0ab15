"""The box-score page as a Starlette app: read-only, one MongoDB query per box score rendered.

- ``/``: the stream's current game (single-stream mode), README's query;
- ``/games/<game_id>``: one game (prefix mode, or an earlier game from the archive);
- ``/games``: every game in the collection with its score and clock.

A page of a game in progress reloads itself every second (a light poll, no script), and stops
once the game is final. An unknown or malformed game id is a 404 page; MongoDB not answering is
a 503 page that names it (its password masked), never a trace.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from boxscore.document import jersey_order
from boxscore.identity import BadGameId, checked_game_id
from tasks import ServiceUnavailable
from web.store import Store, counting

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=HERE / "templates")


def box_score_pct(pct: object) -> str:
    """A shooting percentage as box scores print it: ``0.5`` -> ``.500``, ``1.0`` -> ``1.000``
    (empty for a document stored before the field existed)."""
    return f"{pct:.3f}".removeprefix("0") if isinstance(pct, int | float) else ""


templates.env.filters["pct"] = box_score_pct
templates.env.filters["in_jersey_order"] = lambda players: sorted(players, key=lambda p: jersey_order(p["number"]))
#: the header that says how many MongoDB commands a render sent
QUERIES_HEADER = "X-MongoDB-Queries"


def create_app(store: Store) -> Starlette:
    """The page's app, reading box scores from ``store``."""

    def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
        return templates.TemplateResponse(request, name, context, status_code=status)

    def render(request: Request, game_id: str | None) -> Response:
        count = counting()
        document = store.latest(game_id)
        if document is None:
            what = f"game {game_id}" if game_id else "a game"
            response = page(request, "missing.html", {"what": what}, 404)
        else:
            response = page(request, "boxscore.html", {"doc": document, "live": not document["final"]})
        response.headers[QUERIES_HEADER] = str(len(count.commands))
        return response

    def current(request: Request) -> Response:
        return render(request, None)

    def game(request: Request) -> Response:
        try:
            game_id = checked_game_id(request.path_params["game_id"])
        except BadGameId:
            return page(request, "missing.html", {"what": "that game"}, 404)
        return render(request, game_id)

    def games(request: Request) -> Response:
        count = counting()
        latest = store.games()
        response = page(request, "games.html", {"games": latest, "live": any(not g["final"] for g in latest)})
        response.headers[QUERIES_HEADER] = str(len(count.commands))
        return response

    async def unavailable(request: Request, error: Exception) -> Response:
        service = getattr(error, "service", "") or "a service the page needs"
        return page(request, "unavailable.html", {"service": service}, 503)

    return Starlette(
        routes=[
            Route("/", current),
            Route("/games", games),
            Route("/games/{game_id}", game),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ],
        exception_handlers={ServiceUnavailable: unavailable},
    )
