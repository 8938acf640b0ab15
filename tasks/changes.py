"""The object store's change feed: which stream objects changed, heard as they change.

One interface, :class:`ChangeFeed`, an adapter per store, chosen by ``CHANGE_FEED``:

- **SeaweedFS** (:mod:`tasks.seaweed_feed`): the filer's ``SubscribeMetadata`` gRPC stream,
  resumed from the last event it delivered when it is listened to again;
- **MinIO** (:mod:`tasks.minio_feed`): ``ListenBucketNotification``, a long-lived GET of the
  bucket's events, through minio-py;
- ``auto`` (the default) asks the S3 endpoint which server it is (its ``Server`` header) and
  picks that store's feed; AWS S3 (no endpoint) has none without a queue, so the run polls.

A feed listens on a thread of its own and keeps what it heard (keys, as ``bucket/key``) until
the loop asks (:meth:`ChangeFeed.wait`), so a flood of notifications for one object is one
key. What a key means (which game, or none) is the pure step's to decide
(:mod:`boxscore.feed`); a notification only says when to look, never what the stream is.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from boxscore.feed import Heard
from boxscore.masking import described

#: Where a SeaweedFS filer listens unless ``SEAWEEDFS_FILER`` says otherwise (its gRPC: + 10000).
FILER_PORT = 8888


class ChangeFeed(Protocol):
    """What the live loop asks of a change feed."""

    #: the feed as the log names it, e.g. ``the change feed (SeaweedFS filer at 127.0.0.1:8888)``
    describe: str

    def listen(self) -> None:
        """Start listening (again), on a thread of its own; a failure comes back from :meth:`wait`."""

    def wait(self, seconds: float) -> Heard:
        """What was heard, as soon as something is (or the feed stops), else after ``seconds``."""

    def close(self) -> None:
        """Stop listening."""


@dataclass(frozen=True)
class Record:
    """One thing a feed's stream said: an object that changed (``bucket/key``), or a record no key
    could be read from (``malformed``: what it was, shortened)."""

    key: str = ""
    malformed: str = ""


class Stopping:
    """Set when a feed is closed; what a stream registers with :meth:`on_stop` is called then
    (a gRPC call's ``cancel``, an HTTP response's ``close``), so a blocked read ends at once."""

    def __init__(self) -> None:
        self._set = False
        self._calls: list[Callable[[], object]] = []
        self._lock = threading.Lock()

    def is_set(self) -> bool:
        return self._set

    def on_stop(self, call: Callable[[], object]) -> None:
        with self._lock:
            self._calls.append(call)
            stopped = self._set
        if stopped:
            call()

    def set(self) -> None:
        with self._lock:
            self._set, calls, self._calls = True, self._calls, []
        for call in calls:
            call()


class ListeningFeed:
    """A feed that follows its store's stream on a thread and keeps what it heard for :meth:`wait`.

    ``follow`` blocks, yielding each :class:`Record` as the store says it, until the stream ends
    or fails; ``stopping`` is set when the feed is closed, for ``follow`` to end at its next record.
    """

    def __init__(
        self,
        describe: str,
        follow: Callable[[Stopping], Iterator[Record]],
        release: Callable[[], object] = lambda: None,
    ) -> None:
        self.describe = describe
        self._follow = follow
        self._release = release  # what the feed holds beyond one stream (a gRPC channel), let go at close
        self._changed = threading.Condition()
        self._keys: set[str] = set()
        self._malformed, self._first_malformed = 0, ""
        self._failure: str | None = None  # why it stopped, until a wait says so
        self._thread: threading.Thread | None = None
        self._stopping = Stopping()

    def listen(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping = Stopping()
        self._thread = threading.Thread(target=self._listen, name="change-feed", daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        failure = "the store ended the stream"
        stopping = self._stopping
        try:
            for record in self._follow(stopping):
                self._heard(record)
                if stopping.is_set():
                    return
        except Exception as error:  # noqa: BLE001 - any failure of the stream is the loop's to report and retry
            failure = described(error)
        if stopping.is_set():
            return
        with self._changed:
            self._failure = failure
            self._changed.notify_all()

    def _heard(self, record: Record) -> None:
        with self._changed:
            if record.key:
                self._keys.add(record.key)
            else:
                self._malformed += 1
                self._first_malformed = self._first_malformed or record.malformed
            self._changed.notify_all()

    def wait(self, seconds: float) -> Heard:
        with self._changed:
            self._changed.wait_for(lambda: self._keys or self._malformed or self._failure is not None, seconds)
            keys, self._keys = frozenset(self._keys), set()
            malformed, first = self._malformed, self._first_malformed
            self._malformed, self._first_malformed = 0, ""
            failure, self._failure = self._failure, None
        listening = self._thread is not None and self._thread.is_alive() and failure is None
        return Heard(keys, listening, failure or "", malformed, first)

    def close(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        self._release()


class NoFeed(LookupError):
    """The store named has no change feed that can be used as configured: the run polls (said once)."""


def change_feed(
    choice: str,
    url: str,
    storage_options: dict[str, Any],
    filer: str,
    server_of: Callable[[], str],
) -> ChangeFeed | None:
    """The change feed ``CHANGE_FEED`` chooses for the stream(s) at ``url``, or ``None`` (polling only).

    ``auto`` asks ``server_of()`` (the S3 endpoint's ``Server`` header) which store it is:
    SeaweedFS and MinIO have feeds; any other, or AWS (no endpoint), has none.
    Raises :class:`NoFeed` when the feed cannot be built (said once by the caller).
    """
    endpoint = storage_options.get("client_kwargs", {}).get("endpoint_url", "")
    if choice == "off" or not url.startswith("s3://"):
        return None
    if choice == "auto":
        if not endpoint:
            raise NoFeed("AWS S3 has no change feed without a queue")
        server = server_of().lower()
        choice = "seaweedfs" if server.startswith("seaweedfs") else "minio" if server.startswith("minio") else ""
        if not choice:
            raise NoFeed(f"the S3 server at {endpoint} ({server or 'no Server header'}) has no change feed we follow")
    bucket, _, key = url.removeprefix("s3://").partition("/")
    if choice == "seaweedfs":
        from tasks.seaweed_feed import seaweed_feed

        return seaweed_feed(filer or f"{urlsplit(endpoint).hostname}:{FILER_PORT}", bucket, key)
    from tasks.minio_feed import minio_feed

    return minio_feed(endpoint, storage_options, bucket, key)
