"""Server-sent events: a game's new box score pushed to every subscriber as soon as it is read.

Each message is ``event: boxscore``, ``id:`` the event id and the document as JSON, so a browser
that reconnects sends ``Last-Event-ID`` and is not sent again the box score it has. While
MongoDB does not answer (beyond the stale allowance) subscribers get ``event: unavailable``
naming it, and the stream goes on.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from sse_starlette import ServerSentEvent
from starlette.requests import Request

from tasks import ServiceUnavailable
from web.api import unavailable
from web.cache import GameKey, Latest, LatestBoxScores
from web.serialised import document_json


async def box_score_events(
    boxscores: LatestBoxScores, game: GameKey, request: Request
) -> AsyncIterator[ServerSentEvent | bytes]:
    """The game's box scores as they change, starting with the current one unless the client has it."""
    have = request.headers.get("last-event-id")
    seen: str | None = None
    while True:
        try:
            copy = await boxscores.next_version(game, seen)
        except ServiceUnavailable as error:
            yield ServerSentEvent(json.dumps(unavailable(error)), event="unavailable")
            await boxscores.pause()
            continue
        assert copy.document is not None
        event_id = str(copy.document["event_id"])
        if seen is None and have == event_id:
            seen = copy.version  # a reconnect: the client already shows this one
            continue
        seen = copy.version
        yield message(copy, event_id)


def message(copy: Latest, event_id: str) -> bytes:
    """The copy's box score as one encoded event, made once per version for every subscriber."""
    if "event" not in copy.rendered:
        encoded = ServerSentEvent(document_json(copy).decode(), event="boxscore", id=event_id).encode()
        copy.rendered["event"] = encoded
    return copy.rendered["event"]  # type: ignore[no-any-return]
