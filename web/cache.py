"""The page process's copy of each game's latest box score: one MongoDB read per game per interval.

A thousand fans of one game refreshing every second must not be a thousand queries a second on
the database the live flow writes to. So the page process keeps, per game it serves, the last
box score it read, and reads again only once that copy is ``interval`` seconds old. Requests
that arrive while a read is in flight wait for that one read (single flight). A game nobody asks
for is never read.

When MongoDB does not answer, the last good copy is still served for up to ``stale_for`` seconds
(the answer says how old it is); after that, or with no copy at all, the read's
:class:`~tasks.ServiceUnavailable` reaches the caller. The clock is a parameter, so the rules
are tested with fake time.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import bson

from boxscore.document import BoxScore, current_order
from tasks import ServiceUnavailable

#: which game: its id, or ``None`` for the current box score (the latest stored, docs/document.md)
GameKey = str | None
#: one read of a game's latest box score (``None``: the game has no box score yet)
Read = Callable[[GameKey], Awaitable[BoxScore | None]]

#: games whose copies are kept; the least recently asked for is dropped first
KEPT_GAMES = 4096


def version_of(document: BoxScore | list[BoxScore]) -> str:
    """What changes whenever the box score does: the game id, the event id and a digest of the
    document (a correction in place keeps the event id but changes the counts); for the list of
    every game's latest box score, a digest of all of them."""
    if isinstance(document, list):
        return "games." + hashlib.blake2b(bson.encode({"games": document}), digest_size=6).hexdigest()
    digest = hashlib.blake2b(bson.encode(document), digest_size=6).hexdigest()
    return f"{document['game_id']}.{document['event_id']}.{digest}"


@dataclass
class Latest:
    """A game's copy: the box score as last read (``None``: none yet) and rendered forms made from
    it, kept until a read changes it; ``error`` when the last read failed (the copy is then stale)."""

    document: BoxScore | None
    version: str | None
    checked_at: float  # when it was last read, or tried
    good_at: float  # when it was last read
    error: ServiceUnavailable | None = None
    rendered: dict[str, Any] = field(default_factory=dict)

    def age(self, now: float) -> float | None:
        """Seconds since the last good read while MongoDB does not answer (``None``: it does)."""
        return None if self.error is None else now - self.good_at


class LatestBoxScores:
    """Per game, the latest box score, read at most once per ``interval`` whatever the traffic.

    ``interval`` and ``stale_for`` are the settings ``WEB_REFRESH_SECONDS`` and ``WEB_STALE_SECONDS``;
    ``version`` says what changes with the document (another kind of document brings its own).
    """

    def __init__(
        self,
        read: Read,
        interval: float,
        stale_for: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        kept: int = KEPT_GAMES,
        version: Callable[[Any], str] = version_of,
    ) -> None:
        self._read, self.interval, self.stale_for, self._kept = read, interval, stale_for, kept
        self._version = version
        self._clock, self._sleep = clock, sleep
        self._copies: OrderedDict[GameKey, Latest] = OrderedDict()
        self._flights: dict[GameKey, asyncio.Future[Latest]] = {}
        self._changed: dict[GameKey, asyncio.Event] = {}  # what the game's waiters wait on
        self._timers: dict[GameKey, asyncio.Future[None]] = {}  # and what sets it when the copy is due
        self.reads = 0  # reads made, for the tests and the benchmark
        self.offered = 0  # box scores taken from MongoDB's change stream instead of a read

    async def latest(self, game: GameKey) -> Latest:
        """The game's copy, read again first if it is ``interval`` old (once for every waiter).

        Raises the read's :class:`~tasks.ServiceUnavailable` when MongoDB does not answer and the
        last good copy is missing or older than ``stale_for``.
        """
        copy = self._copies.get(game)
        if copy is None or self._clock() - copy.checked_at >= self.interval:
            flight = self._flights.get(game)
            if flight is None:
                flight = asyncio.ensure_future(self._refresh(game, copy))
                self._flights[game] = flight
                flight.add_done_callback(lambda _: self._flights.pop(game, None))
            copy = await asyncio.shield(flight)
        self._copies.move_to_end(game)
        age = copy.age(self._clock())
        if copy.error is not None and (copy.document is None or (age is not None and age > self.stale_for)):
            raise copy.error
        return copy

    def stale_seconds(self, copy: Latest) -> float | None:
        """How long MongoDB has not answered for this copy (``None``: its last read succeeded)."""
        return copy.age(self._clock())

    async def next_version(self, game: GameKey, seen: str | None) -> Latest:
        """The game's copy once its box score is other than version ``seen``.

        Waiters sleep until the copy is due, then share the one read: every subscriber of a game
        gets a new box score as soon as the page process has read it, for one read per interval.
        They all wait on one event per game, set by one timer when the copy is due or by the
        change stream's offer: a thousand subscribers woken are a thousand resumed coroutines,
        with no task or timer of their own to make and cancel.
        """
        while True:
            copy = await self.latest(game)
            if copy.version is not None and copy.version != seen:
                return copy
            changed = self._changed.get(game)
            if changed is None:
                changed = self._changed[game] = asyncio.Event()
                due = max(0.0, copy.checked_at + self.interval - self._clock())
                self._timers[game] = asyncio.ensure_future(self._wake_after(game, changed, due))
            await changed.wait()

    async def _wake_after(self, game: GameKey, changed: asyncio.Event, seconds: float) -> None:
        """Wake the game's waiters once its copy is due (they then share the next read)."""
        await self._sleep(seconds)
        self._wake(game, changed)

    def _wake(self, game: GameKey, changed: asyncio.Event) -> None:
        if self._changed.get(game) is changed:
            del self._changed[game]
            timer = self._timers.pop(game, None)
            if timer is not None and timer is not asyncio.current_task():
                timer.cancel()
        changed.set()

    def offer(self, document: BoxScore) -> None:
        """A box score MongoDB's change stream says was just stored: it becomes its game's copy
        (and the current game's) if it is that copy's latest, with no read; waiters wake at once.

        Only games someone asked for keep a copy, so an offer for any other game costs nothing.
        """
        for game in (document["game_id"], None):
            copy = self._copies.get(game)
            if copy is not None and _later(document, copy.document, current=game is None):
                self.replace(game, document)

    def replace(self, game: GameKey, document: Any) -> None:
        """A document the change stream says was just stored under ``game`` becomes its copy, with
        no read, if someone asked for it and its last read succeeded; its waiters wake at once.
        (The season pages' push: a season has one document, so the latest stored is the one.)"""
        if game not in self._copies or self._copies[game].error is not None:
            return
        self.offered += 1
        now = self._clock()
        self._copies[game] = Latest(document, self._version(document), now, now)
        if event := self._changed.get(game):
            self._wake(game, event)

    async def pause(self) -> None:
        """Wait one interval (a subscriber after a failed read, before asking again)."""
        await self._sleep(self.interval)

    async def _refresh(self, game: GameKey, previous: Latest | None) -> Latest:
        self.reads += 1
        try:
            document = await self._read(game)
        except ServiceUnavailable as error:
            if previous is None:
                copy = Latest(None, None, self._clock(), float("-inf"), error)
            else:
                copy = Latest(previous.document, previous.version, self._clock(), previous.good_at, error)
                copy.rendered = previous.rendered
        else:
            version = self._version(document) if document is not None else None
            copy = Latest(document, version, self._clock(), self._clock())
            if previous is not None and previous.version == version:
                copy.rendered = previous.rendered  # the same box score: its page need not be rendered again
        self._copies[game] = copy
        self._copies.move_to_end(game)
        while len(self._copies) > self._kept:
            self._copies.popitem(last=False)
        return copy


def _later(document: BoxScore, than: BoxScore | None, current: bool) -> bool:
    """Whether ``document`` is at least as late as ``than``: by event id within a game, and for
    the current box score in the order the store's query finds it (the latest stored,
    :func:`boxscore.document.current_order`)."""
    if than is None:
        return not current  # the current game, before any box score: a read says which one it is
    if current:
        return current_order(document) >= current_order(than)
    return document["game_id"] == than["game_id"] and document["event_id"] >= than["event_id"]
