"""The change feeds' adapters: what each store's records say, and how a listening feed reports.

SeaweedFS's responses are built with the feed's own message classes and checked against the
paths a filer gives (``tests/integration/test_change_feed.py`` follows a real one); MinIO's
records are the S3 event format as minio-py yields them (MinIO's documentation, "Bucket
Notification"), since MinIO itself cannot run here.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

from boxscore.feed import Heard
from tasks.changes import ListeningFeed, NoFeed, Record, Stopping, change_feed
from tasks.minio_feed import EVENTS, minio_feed
from tasks.minio_feed import records_of as minio_records
from tasks.seaweed_feed import Response
from tasks.seaweed_feed import records_of as seaweed_records


def filer_event(directory: str, new: str = "", old: str = "", parent: str = "", folder: bool = False) -> bytes:
    response = Response(directory=directory, ts_ns=1_796_615_497_610_353_688)
    if new:
        response.event_notification.new_entry.name = new
        response.event_notification.new_entry.is_directory = folder
        response.event_notification.new_parent_path = parent or directory
    if old:
        response.event_notification.old_entry.name = old
    return response.SerializeToString()


def test_a_filer_event_names_the_object_created_updated_renamed_or_deleted() -> None:
    ts, created = seaweed_records(filer_event("/buckets/gamestreams/day", new="g1.txt"))
    assert (ts, created) == (1_796_615_497_610_353_688, [Record("gamestreams/day/g1.txt")])
    _, updated = seaweed_records(filer_event("/buckets/gamestreams/day", new="g1.txt", old="g1.txt"))
    assert updated == [Record("gamestreams/day/g1.txt")]  # once, not once per entry
    _, renamed = seaweed_records(filer_event("/buckets/g/day", new="b.txt", old="a.txt", parent="/buckets/g/night"))
    assert renamed == [Record("g/night/b.txt"), Record("g/day/a.txt")]
    _, deleted = seaweed_records(filer_event("/buckets/gamestreams/day", old="g1.txt"))
    assert deleted == [Record("gamestreams/day/g1.txt")]
    _, folder = seaweed_records(filer_event("/buckets/gamestreams", new="day", folder=True))
    assert folder == []


def test_a_filer_record_outside_the_buckets_or_not_protobuf_is_malformed() -> None:
    _, outside = seaweed_records(filer_event("/etc/seaweedfs", new="filer.toml"))
    assert outside == [Record(malformed="an entry outside /buckets/: /etc/seaweedfs/filer.toml")]
    ts, garbage = seaweed_records(b"\xff\xff\xff")
    assert ts == 0 and garbage[0].malformed.startswith("3 bytes")


#: A notification as minio-py's listen_bucket_notification yields it (abridged from MinIO's docs).
MINIO_PUT = {
    "EventName": "s3:ObjectCreated:Put",
    "Key": "gamestreams/saturday/g+1.txt",
    "Records": [
        {
            "eventVersion": "2.0",
            "eventSource": "minio:s3",
            "eventName": "s3:ObjectCreated:Put",
            "s3": {
                "s3SchemaVersion": "1.0",
                "bucket": {"name": "gamestreams", "arn": "arn:aws:s3:::gamestreams"},
                "object": {"key": "saturday%2Fg%2B1.txt", "size": 1042, "eTag": "d41d8cd98f00b204e9800998ecf8427e"},
            },
        }
    ],
}


def test_a_minio_notification_names_its_objects_url_decoded() -> None:
    assert list(minio_records(MINIO_PUT)) == [Record("gamestreams/saturday/g+1.txt")]
    two = {"Records": [MINIO_PUT["Records"][0]] * 2}
    assert list(minio_records(two)) == [Record("gamestreams/saturday/g+1.txt")] * 2


def test_a_minio_record_without_bucket_or_key_is_malformed_and_the_others_still_count() -> None:
    broken = {"Records": [{"s3": {"bucket": {"name": "gamestreams"}}}, MINIO_PUT["Records"][0]]}
    records = list(minio_records(broken))
    assert records[0].malformed.startswith('{"s3": {"bucket"') and records[1] == Record("gamestreams/saturday/g+1.txt")
    assert [r.key for r in minio_records({"Records": "x"})] == [""]
    assert [r.key for r in minio_records(["not", "a", "notification"])] == [""]


def test_a_listening_feed_keeps_what_it_heard_until_asked_and_reports_its_end_once() -> None:
    release, done = threading.Event(), threading.Event()

    def follow(stopping: Stopping) -> Iterator[Record]:
        yield from [Record("b/k1"), Record("b/k1"), Record(malformed="junk"), Record("b/k2")]
        release.wait(5)
        done.set()
        raise ConnectionError("the filer went away")

    feed = ListeningFeed("a test feed", follow)
    feed.listen()
    heard = feed.wait(5.0)
    while heard.keys != frozenset({"b/k1", "b/k2"}):  # the records may come in more than one wait
        more = feed.wait(5.0)
        heard = Heard(heard.keys | more.keys, more.listening, more.reason, heard.malformed + more.malformed)
    assert heard.listening and heard.reason == "" and heard.malformed == 1
    release.set()
    assert done.wait(5)
    stopped = feed.wait(5.0)
    assert (stopped.listening, stopped.reason) == (False, "ConnectionError: the filer went away")
    assert feed.wait(0.01) == Heard(listening=False)  # said once: the next wait only times out
    feed.close()


def test_closing_a_feed_cancels_its_stream() -> None:
    cancelled = threading.Event()

    def follow(stopping: Stopping) -> Iterator[Record]:
        stopping.on_stop(cancelled.set)
        cancelled.wait(5)
        yield from ()

    feed = ListeningFeed("a test feed", follow)
    feed.listen()
    feed.close()
    assert cancelled.is_set()


def test_auto_picks_the_feed_of_the_server_s3_says_it_is_and_none_for_aws_or_off() -> None:
    options = {"client_kwargs": {"endpoint_url": "http://127.0.0.1:18333"}}
    seaweed = change_feed("auto", "s3://gamestreams/day/", options, "127.0.0.1:18888", lambda: "SeaweedFS 8000GB 4.48")
    assert seaweed is not None and "SeaweedFS filer at 127.0.0.1:28888" in seaweed.describe
    minio = change_feed("auto", "s3://gamestreams/day/", options, "", lambda: "MinIO")
    assert minio is not None and "MinIO bucket notifications at 127.0.0.1:18333" in minio.describe
    assert change_feed("off", "s3://gamestreams/day/", options, "", lambda: "MinIO") is None
    for server, endpoint in (("AmazonS3", options), ("MinIO", {})):
        try:
            change_feed("auto", "s3://gamestreams/day/", endpoint, "", lambda server=server: server)
        except NoFeed as reason:
            assert "no change feed" in str(reason) or "AWS" in str(reason)
        else:
            raise AssertionError(f"{server}: a feed where none can be")


class ListenBucketNotification(http.server.BaseHTTPRequestHandler):
    """MinIO's side of ``ListenBucketNotification`` as its documentation gives it: the bucket's
    location when asked, then a 200 whose body is one JSON notification per line, blank lines
    between them (MinIO's keep-alive), held open until the client goes."""

    protocol_version = "HTTP/1.1"
    lines: ClassVar[list[bytes]] = []
    asked: ClassVar[list[dict[str, list[str]]]] = []

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query, keep_blank_values=True)
        if "location" in query:
            body = b'<?xml version="1.0" encoding="UTF-8"?><LocationConstraint>us-east-1</LocationConstraint>'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.asked.append(query)
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for line in self.lines:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
            self.wfile.flush()
        self.close_connection = True
        threading.Event().wait(1)  # the stream stays open a while, as MinIO's does

    def log_message(self, *_: object) -> None:
        pass


def test_minio_py_reads_the_documented_stream_into_keys_through_the_feed() -> None:
    ListenBucketNotification.lines = [b" \n", json.dumps(MINIO_PUT).encode() + b"\n", b" \n"]
    ListenBucketNotification.asked = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), ListenBucketNotification)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    feed = minio_feed(endpoint, {"key": "sidearm", "secret": "not-shown"}, "gamestreams", "saturday/")
    try:
        feed.listen()
        heard = feed.wait(10.0)
        assert heard.keys == frozenset({"gamestreams/saturday/g+1.txt"}) and heard.listening
        (query,) = ListenBucketNotification.asked
        assert query["prefix"] == ["saturday/"] and query["events"] == list(EVENTS)
    finally:
        feed.close()
        server.shutdown()
