"""The object store's change feed as the live loop sees it: which games to poll, and when.

Without a feed the loop polls every stream (one HEAD, or one LIST of the prefix) every
``poll_interval``. With one, a stream's change is heard as it happens and the loop polls only
the games it heard of, at once; the full poll stays, every ``fallback_interval``, to catch what a
feed lost. While the feed is down (refused, cut, never there) the loop polls every
``poll_interval`` as without one, says so once, and listens again with backoff.

A notification is only ever a hint of *when* to look: the poll that follows it (a HEAD, or for a
game read before a GET from its last folded line, whose answer says the version and brings the
new bytes) says what the stream is, and the read is the poll's, so a duplicate, late, reordered
or lost notification can change when a box score is made, never what it says.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from boxscore.games import game_id_of, is_prefix
from boxscore.live import SINGLE, Backoff, Notice
from boxscore.watch import FeedFigures

#: More heard games than this in one tick that need a HEAD (and more than a tenth of the games a
#: LIST would return) are polled with one LIST of the prefix, not a HEAD each: a LIST answers 1,000
#: games a request, and reading one of its entries costs about a tenth of a HEAD. A heard game
#: whose poll is a GET of its new bytes (a read-ahead) is not counted: a LIST would not spare that
#: GET, only add to it.
HEAD_AT_MOST = 64
#: The full polls take at most this share of the loop's time while the feed listens: a LIST of ten
#: thousand games' prefix took 0.9 s, which every 5 s held a fifth of the heard games back; it is
#: then made every 18 s (``fallback_interval`` is the least wait between two)
FULL_POLL_SHARE = 0.05
#: An idle loop waits at least this long: a due time it rounds to ``now`` never spins it.
LEAST_WAIT = 0.001


@dataclass(frozen=True)
class Heard:
    """What the feed heard since it was last asked, and whether it still listens.

    ``keys`` are the objects that changed, as ``bucket/key``; ``malformed`` counts the records no
    key could be read from, ``first_malformed`` shows one of them; ``reason`` says why a feed that
    no longer listens stopped.
    """

    keys: frozenset[str] = frozenset()
    listening: bool = True
    reason: str = ""
    malformed: int = 0
    first_malformed: str = ""


def game_of(key: str, url: str) -> str | None:
    """The game whose stream ``key`` (``bucket/key``) is, under ``url``; ``None`` for any other object.

    One stream: its own key only (the game :data:`~boxscore.live.SINGLE`). A prefix: a
    ``<game_id>.txt`` directly in it, not in a folder below it.
    """
    path = url.removeprefix("s3://")
    if not is_prefix(url):
        return SINGLE if key == path else None
    name = key.removeprefix(path)
    if name == key or "/" in name:
        return None
    return game_id_of(name)


@dataclass
class Feed:
    """The change feed's state in a run: listening or not, the games heard and not yet polled."""

    describe: str  # the feed as the log names it, e.g. "the change feed (SeaweedFS filer at ...)"
    url: str  # GAMESTREAM_URL: what the heard keys are matched against
    poll_interval: float
    fallback_interval: float
    #: a heard game read before is polled with a GET of its new bytes (:meth:`LiveLoop.read_ahead`)
    #: rather than a HEAD, its read then left to Dask: off where that GET would cost the flow more
    #: than the workers it spares (``Settings.reads_ahead``)
    read_ahead: bool = True
    listening: bool = False
    heard: set[str] = field(default_factory=set)  # games heard of and not yet polled
    full_poll_at: float = float("-inf")  # when every stream was last polled
    full_poll_took: float = 0.0  # how long the last full poll took to answer
    backoff: Backoff = field(init=False)
    listen_at: float = 0.0  # when to listen (again): at once at the start
    said_down: bool = False
    ignored: int = 0  # heard keys of no game of this run (other objects, buckets or prefixes)
    malformed: int = 0
    notifications: int = 0  # heard keys of games of this run
    polls_every: int = 0  # polls of every stream
    polls_heard: int = 0  # polls of the games heard of only
    _notices: list[Notice] = field(default_factory=list)
    _said: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.backoff = Backoff(self.describe, first=1.0, longest=60.0)

    # -- listening ---------------------------------------------------------------------------

    def listen_due(self, now: float) -> bool:
        """Listen now: at the start, and when a feed that stopped may be tried again."""
        return not self.listening and now >= self.listen_at

    def listened(self, now: float) -> None:
        """The feed was asked to listen: a full poll follows, so nothing from before it is missed."""
        self.listening, self.full_poll_at = True, float("-inf")

    def heard_of(self, now: float, heard: Heard) -> None:
        """Fold what the feed heard; a feed that stopped is tried again with backoff, the loop polls meanwhile."""
        for key in heard.keys:
            game = game_of(key, self.url)
            if game is None:
                self.ignored += 1
                self._once("ignored", f"the change feed reports objects of no game of {self.url} (e.g. {key}); ignored")
                continue
            self.heard.add(game)
            self.notifications += 1
        if heard.malformed:
            self.malformed += heard.malformed
            self._once(
                "malformed",
                f"the change feed sent a record no object could be read from ({heard.first_malformed}); "
                "ignored, and counted",
            )
        if self.listening and not heard.listening:
            self._down(now, heard.reason)
        elif heard.listening and self.backoff.failures and heard.keys:
            notice = self.backoff.succeeded(now)
            if notice is not None:
                self._notices.append(notice)

    def _down(self, now: float, reason: str) -> None:
        self.listening = False
        waiting = f"polling every {self.poll_interval:g} s as without it"
        notice = self.backoff.failed(now, reason or "it stopped", waiting)
        self.listen_at = self.backoff.next_try
        if not self.said_down:
            self.said_down = True
            self._notices.append(Notice("warning", f"{notice.message}; it is tried again with backoff"))
        else:
            self._notices.append(Notice("debug", notice.message))

    # -- polling -----------------------------------------------------------------------------

    def to_poll(self, now: float, known: int = 0, read_ahead: Collection[str] = ()) -> frozenset[str] | None:
        """What the tick's poll asks: every stream (``None``), these games, or nothing (empty).

        Every stream while the feed does not listen, and every :attr:`fallback_wait` while it
        does; otherwise the games heard of since the last poll (a LIST if many of them need a HEAD,
        for the ``known`` games a LIST returns; those in ``read_ahead`` are a GET each whatever).
        """
        if not self.listening or now - self.full_poll_at >= self.fallback_wait:
            return None
        if len(self.heard) - len(self.heard.intersection(read_ahead)) > max(HEAD_AT_MOST, known // 10):
            return None
        return frozenset(self.heard)

    @property
    def fallback_wait(self) -> float:
        """Seconds between two full polls while the feed listens: ``fallback_interval``, or longer
        where the last one took more than :data:`FULL_POLL_SHARE` of it."""
        return max(self.fallback_interval, self.full_poll_took / FULL_POLL_SHARE)

    def polled(self, now: float, games: frozenset[str] | None) -> None:
        """The poll of ``games`` answered (every stream: ``None``); how long a full one took is kept."""
        if games is None:
            self.full_poll_took = now - self.full_poll_at

    def poll_asked(self, now: float, games: frozenset[str] | None) -> None:
        if games is None:
            self.full_poll_at = now
            self.heard.clear()
            self.polls_every += 1
        else:
            self.heard -= games
            self.polls_heard += 1

    def figures(self) -> FeedFigures:
        """Its counts; it listens once it is asked to and has not failed since (after a failure, once
        it hears again)."""
        listening = self.listening and not self.backoff.failures
        return FeedFigures(
            self.polls_every, self.polls_heard, self.notifications, self.ignored, self.malformed, listening
        )

    def poll_failed(self, games: frozenset[str] | None) -> None:
        """The poll of ``games`` failed: they are asked for again (every stream: a full poll is due)."""
        if games is None:
            self.full_poll_at = float("-inf")
        else:
            self.heard |= games

    def wait(self, pause: float, now: float, busy: bool, wake_at: float) -> float:
        """Seconds to wait for the feed before the next tick: the loop's ``pause`` (the next tick
        ``poll_interval`` after this one) while it has work in hand or the feed does not listen;
        else until the next full poll or ``wake_at``, whichever comes first (a heard change ends
        the wait at once)."""
        if busy or not self.listening:
            return pause
        return max(LEAST_WAIT, min(self.full_poll_at + self.fallback_wait, wake_at) - now)

    # -- what to say -------------------------------------------------------------------------

    def notices(self) -> list[Notice]:
        said, self._notices = self._notices, []
        return said

    def _once(self, what: str, message: str) -> None:
        """Say this kind of thing once in the run, however often it happens (it is counted)."""
        if what not in self._said:
            self._said.add(what)
            self._notices.append(Notice("warning", message))
