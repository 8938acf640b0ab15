"""The page's headers and JSON, through httpx's ASGI transport: every answer carries the security
headers (an event stream too), a header the route set is kept, and a box score's JSON is encoded
once per version."""

from __future__ import annotations

import asyncio
import json

import httpx
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse, StreamingResponse
from starlette.routing import Route

from web.cache import Latest
from web.headers import SECURITY, SecurityHeaders
from web.serialised import document_json

#: what a public page must send, written out (not read from SECURITY)
EXPECTED = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
}


async def page(_: object) -> PlainTextResponse:
    return PlainTextResponse("box score")


async def own_policy(_: object) -> PlainTextResponse:
    return PlainTextResponse("x", headers={"Referrer-Policy": "no-referrer"})


async def events(_: object) -> StreamingResponse:
    async def lines():  # type: ignore[no-untyped-def]
        yield b"data: 1\n\n"

    return StreamingResponse(lines(), media_type="text/event-stream")


def get(*paths: str) -> list[httpx.Response]:
    app = Starlette(routes=[Route("/", page), Route("/own", own_policy), Route("/events", events)])

    async def answers() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=SecurityHeaders(app))
        async with httpx.AsyncClient(transport=transport, base_url="http://page") as http:
            return [await http.get(path) for path in paths]

    return asyncio.run(answers())


def test_every_answer_carries_the_security_headers_event_streams_and_404s_included() -> None:
    box, stream, missing = get("/", "/events", "/nowhere")
    for answer in (box, stream, missing):
        assert {name: answer.headers.get(name) for name in EXPECTED} == EXPECTED, answer.url
    assert (box.text, stream.text, missing.status_code) == ("box score", "data: 1\n\n", 404)
    assert {name.lower(): value for name, value in SECURITY.items()} == EXPECTED


def test_a_header_the_route_set_is_kept() -> None:
    (answer,) = get("/own")
    assert answer.headers["referrer-policy"] == "no-referrer"


def test_what_is_not_http_passes_through_untouched() -> None:
    sent: list[object] = []
    called: list[tuple[object, object]] = []
    scope = {"type": "websocket"}

    async def app(scope: dict, receive: object, send: object) -> None:
        called.append((scope, receive))
        await send({"type": "websocket.accept", "headers": []})  # type: ignore[operator]

    async def receive() -> dict:
        return {}

    async def send(message: object) -> None:
        sent.append(message)

    asyncio.run(SecurityHeaders(app)(scope, receive, send))  # type: ignore[arg-type]
    assert sent == [{"type": "websocket.accept", "headers": []}] and called == [(scope, receive)]


def test_a_conditional_request_matches_any_tag_it_lists_weak_or_strong() -> None:
    from starlette.datastructures import Headers

    from web.headers import not_modified

    tag = '"html.g1.10.abc"'
    for listed in (tag, f'{tag}, "json.x"', f'"json.x",W/{tag}', f' W/{tag} ,\t"other"', "*"):
        assert not_modified(Headers({"if-none-match": listed}), tag), listed
    for listed in ("", '"json.x"', tag.strip('"')):
        assert not not_modified(Headers({"if-none-match": listed}), tag), listed
    assert not not_modified(Headers({}), tag)


def test_a_box_score_s_json_is_compact_and_made_once_per_copy() -> None:
    copy = Latest({"game_id": "g1", "event_id": 3, "home": {"goals": 2}}, "v", 0.0, 0.0)
    encoded = document_json(copy)
    assert encoded == b'{"game_id":"g1","event_id":3,"home":{"goals":2}}'
    assert json.loads(encoded) == copy.document
    copy.document = {"changed": True}  # the copy's JSON is kept with it: not encoded again
    assert document_json(copy) is encoded
