"""HTTP headers of the page and the API: caching as browsers and CDNs expect, and a public page's
security headers.

A live box score changes every few seconds and a final one almost never, so a live answer may
be kept a second and served stale while revalidating, a final one for an hour. Each answer's
``ETag`` is its box score's version (:func:`web.cache.version_of`) and representation, so a
conditional request for an unchanged box score is a ``304`` without rendering anything.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: a live box score: fresh for a second, then served stale for a few while a cache revalidates
LIVE_CACHE = "public, max-age=1, stale-while-revalidate=5"
#: a final box score (a later correction is still shown within the hour)
FINAL_CACHE = "public, max-age=3600"
#: no box score yet, or an error: always asked again
NO_CACHE = "no-cache"

#: our own script and style only; no frames, no plugins, no inline code
SECURITY = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def etag(version: str, representation: str) -> str:
    """A strong validator for one representation (``html``, ``json``) of one box score version."""
    return f'"{representation}.{version}"'


def not_modified(request_headers: Headers, tag: str) -> bool:
    """Whether ``If-None-Match`` names this ``ETag`` (or ``*``): the client's copy is current."""
    wanted = request_headers.get("if-none-match")
    if not wanted:
        return False
    tags = {part.strip().removeprefix("W/") for part in wanted.split(",")}
    return "*" in tags or tag in tags


def caching(final: bool, tag: str, stale_for: float | None = None, settled: str = FINAL_CACHE) -> dict[str, str]:
    """The caching headers of a box score (or of a document with no game live: ``settled``, the
    ``Cache-Control`` of a final one); ``stale_for``: seconds since MongoDB last answered."""
    headers = {"ETag": tag, "Cache-Control": settled if final else LIVE_CACHE}
    if stale_for is not None:
        headers["Cache-Control"] = NO_CACHE
        headers["X-Boxscore-Stale-Seconds"] = f"{stale_for:.0f}"
    return headers


class SecurityHeaders:
    """ASGI middleware adding :data:`SECURITY` to every answer (event streams included, which a
    ``BaseHTTPMiddleware`` would buffer)."""

    def __init__(self, app: ASGIApp, headers: Mapping[str, str] = SECURITY) -> None:
        self.app, self.headers = app, headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, with_headers)
