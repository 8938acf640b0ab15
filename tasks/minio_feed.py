"""MinIO's change feed: ``ListenBucketNotification``, the bucket's events streamed over one GET.

minio-py's ``listen_bucket_notification`` yields each line MinIO sends as a dict in the S3 event
format (``{"Records": [{"eventName": "s3:ObjectCreated:Put", "s3": {"bucket": {"name": ...},
"object": {"key": ..., "size": ..., "eTag": ...}}}]}``); the key is URL-encoded. It needs no
configuration on the server, no broker and no inbound port. A stream cut loses what happens
until it is listened to again: the full poll that follows every new listen covers that.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import unquote_plus, urlsplit

from tasks.changes import ListeningFeed, Record, Stopping

EVENTS = ("s3:ObjectCreated:*", "s3:ObjectRemoved:*")


def records_of(event: Any) -> Iterator[Record]:
    """The objects one notification names (``bucket/key``); each record without them is malformed."""
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        yield Record(malformed=_short(event))
        return
    for record in records:
        try:
            bucket, key = record["s3"]["bucket"]["name"], record["s3"]["object"]["key"]
        except (KeyError, TypeError):
            yield Record(malformed=_short(record))
            continue
        if not isinstance(bucket, str) or not isinstance(key, str) or not bucket or not key:
            yield Record(malformed=_short(record))
            continue
        yield Record(f"{bucket}/{unquote_plus(key)}")


def _short(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return text if len(text) <= 80 else f"{text[:77]}..."


def follow_events(events: Iterable[Any]) -> Iterator[Record]:
    for event in events:
        yield from records_of(event)


def _close(events: Any) -> None:
    """Close the notification stream's response; the listening thread may be closing it too (a
    stream that ended), which minio-py does not guard against."""
    with contextlib.suppress(Exception):
        events.__exit__(None, None, None)


def minio_feed(endpoint: str, storage_options: dict[str, Any], bucket: str, key: str) -> ListeningFeed:
    """The change feed of the stream(s) at ``bucket/key`` from the MinIO server at ``endpoint``."""
    from minio import Minio  # loaded only by runs that follow MinIO

    parts = urlsplit(endpoint)
    client = Minio(
        parts.netloc,
        access_key=storage_options.get("key") or None,
        secret_key=storage_options.get("secret") or None,
        secure=parts.scheme == "https",
    )

    def follow(stopping: Stopping) -> Iterator[Record]:
        events = client.listen_bucket_notification(bucket, prefix=key, events=EVENTS)
        stopping.on_stop(lambda: _close(events))
        with events:
            yield from follow_events(events)

    return ListeningFeed(f"the change feed (MinIO bucket notifications at {parts.netloc})", follow)
