"""The game stream object in S3 (MinIO in production, SeaweedFS in tests and the demo)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache, partial
from typing import Any
from urllib.parse import urlsplit

import aiobotocore.session
import botocore.exceptions
import s3fs
from fsspec import AbstractFileSystem
from fsspec.asyn import AsyncFileSystem, sync
from fsspec.core import url_to_fs
from fsspec.utils import read_block

from boxscore.games import game_id_of, stream_of
from boxscore.live import SINGLE
from boxscore.masking import error_reason
from tasks import ServiceUnavailable, tried_at_start
from tasks.masking import masker, shown
from tasks.settings import READER_OPTION


@dataclass(frozen=True)
class StreamVersion:
    """Identifies one version of the stream object, so unchanged polls cost one HEAD."""

    etag: str
    size: int

    @classmethod
    def of(cls, info: dict[str, Any]) -> StreamVersion:
        """The version an fsspec listing or ``info`` gives (an ETag on S3; none on local files)."""
        return cls(str(info.get("ETag", "")), int(info["size"]))


def s3fs_options(storage_options: dict[str, Any]) -> dict[str, Any]:
    """The options as s3fs takes them: without the reader's name, which only this module reads."""
    return {name: value for name, value in storage_options.items() if name != READER_OPTION}


def s3_filesystem(storage_options: dict[str, Any]) -> s3fs.S3FileSystem:
    """One s3fs client per set of options, reused by every poll (fsspec caches instances).

    Writes (the simulator, a missing bucket) always go through s3fs, whichever client reads.
    """
    return s3fs.S3FileSystem(**s3fs_options(storage_options), session=botocore_session())


@contextmanager
def short_lived_s3fs(storage_options: dict[str, Any], **kwargs: Any) -> Iterator[s3fs.S3FileSystem]:
    """An s3fs client outside fsspec's cache (a probe with its own retries), closed when done.

    s3fs closes a client it drops from a finalizer, on whichever event loop is running in the
    thread the garbage collector happens to run in (an s3fs client is in a reference cycle, so
    the collector frees it, not its last owner). In the change feed's thread that is the feed's
    loop, where the close fails ("attached to a different loop") and leaves the connection open.
    Closed here on fsspec's loop, from any thread, the finalizer finds nothing left to close.
    Its session is the process's one (:func:`botocore_session`), whose service models are parsed
    once: a session of its own would parse them again (some 0.2 s of CPU) for every probe.
    """
    fs = s3fs.S3FileSystem(
        **s3fs_options(storage_options), **kwargs, session=botocore_session(), skip_instance_cache=True
    )
    try:
        yield fs
    finally:
        creator = getattr(fs, "_s3creator", None)  # set once connected: the session to close
        if creator is not None:
            sync(fs.loop, creator.__aexit__, None, None, None)


# pragma: no mutate start (S3 only: the integration tests reach it, on SeaweedFS)
@cache
def botocore_session() -> aiobotocore.session.AioSession:
    """The one botocore session of this process's s3fs clients, whose answers keep their timestamps as text.

    Nothing here reads an object's ``LastModified`` (a version is its ETag and size), while botocore
    would parse each with dateutil: a LIST answer of many game streams is mostly timestamps to
    parse. Text is what the AWS CLI keeps them as, through the same setting.
    """
    session = aiobotocore.session.AioSession()
    session.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=str)
    return session


# pragma: no mutate end


def reader_filesystem(storage_options: dict[str, Any]) -> AbstractFileSystem:
    """The client every read of a stream goes through: s3fs, or obstore with ``S3_READER=obstore``.

    The choice travels in the options, so a Dask worker reads through the same client as the flow.
    """
    if storage_options.get(READER_OPTION) == "obstore":
        from tasks.obstore_s3 import obstore_filesystem  # loaded only by those who chose it

        return obstore_filesystem(s3fs_options(storage_options))
    return s3_filesystem(storage_options)


def stream_filesystem(url: str, storage_options: dict[str, Any]) -> tuple[AbstractFileSystem, str]:
    """The reading client and path of a stream at any fsspec URL (local files serve benchmarks)."""
    if url.startswith("s3://"):
        return reader_filesystem(storage_options), stream_path(url)
    fs, path = url_to_fs(url, **s3fs_options(storage_options))
    return fs, path


def stream_path(url: str) -> str:
    """``s3://bucket/key`` -> ``bucket/key`` (what s3fs calls a path)."""
    return url.removeprefix("s3://")


def head_stream(url: str, storage_options: dict[str, Any]) -> StreamVersion | None:
    """The stream's current version, or ``None`` while the object does not exist."""
    fs, path = stream_filesystem(url, storage_options)
    fs.invalidate_cache(path)
    try:
        info = fs.info(path)
    except FileNotFoundError:
        return None
    return StreamVersion.of(info)


# pragma: no mutate start (S3 only: the integration tests reach it, on SeaweedFS)
def list_streams(prefix: str, storage_options: dict[str, Any]) -> dict[str, StreamVersion]:
    """Every game stream under a prefix with its version: one LIST call for all games."""
    fs = reader_filesystem(storage_options)
    path = stream_path(prefix).rstrip("/")
    fs.invalidate_cache(path)
    try:
        entries = fs.ls(path, detail=True)
    except FileNotFoundError:
        return {}
    found = {}
    for entry in entries:
        game_id = game_id_of(entry["name"]) if entry.get("type") == "file" else None
        if game_id is not None:
            found[game_id] = StreamVersion.of(entry)
    return found


# pragma: no mutate end


@dataclass(frozen=True)
class PrefetchedReader:
    """Serves one range already fetched (in a batch); any other range is read by ``reader``."""

    reader: Callable[[int, int], bytes]
    start: int
    end: int
    data: bytes = field(repr=False)

    def __call__(self, start: int, end: int) -> bytes:
        return self.data if (start, end) == (self.start, self.end) else self.reader(start, end)


@dataclass(frozen=True)
class RangeReader:
    """Reads byte ranges of one stream object; picklable, so Dask workers read for themselves."""

    url: str
    storage_options: dict[str, Any] = field(repr=False)

    def __call__(self, start: int, end: int) -> bytes:
        fs, path = stream_filesystem(self.url, self.storage_options)
        data: bytes = fs.cat_file(path, start=start, end=end)
        return data


class S3NotSet(LookupError):
    """S3 cannot be reached as configured, for a reason no retry changes; the message is one line."""


def check_s3_settings(storage_options: dict[str, Any]) -> None:
    """Refuse, before anything is written, to go to AWS with no credentials anywhere in its chain.

    With no ``S3_ENDPOINT_URL`` and no key, s3fs would try AWS and fail deep in botocore; the
    AWS credential chain (environment, ``~/.aws``, instance roles) is asked once, here, instead.
    """
    if storage_options.get("client_kwargs", {}).get("endpoint_url") or storage_options.get("key"):
        return
    import botocore.session

    if botocore.session.get_session().get_credentials() is None:
        raise S3NotSet(
            "S3 is not configured: set S3_ENDPOINT_URL (with S3_ACCESS_KEY and S3_SECRET_KEY) for MinIO "
            "or SeaweedFS, or give AWS credentials through the AWS credential chain (AWS_ACCESS_KEY_ID, "
            "~/.aws/credentials); `make up` writes the local stack's settings"
        )


#: S3's answers that its credentials are wrong (a missing key id, a secret that does not sign):
#: no retry mends them. An ``AccessDenied`` is not one: the key may read the stream without listing.
CREDENTIALS_REFUSED = ("InvalidAccessKeyId", "SignatureDoesNotMatch")


def check_gamestream_url(url: str) -> None:
    """Refuse a ``GAMESTREAM_URL`` that names no stream: empty, or an ``s3://`` URL without a bucket,
    or without a key where it names one object."""
    example = "a stream object (s3://gamestreams/gamestream.txt) or a prefix of games ending in / (s3://gamestreams/saturday/)"
    if not url.strip():
        raise S3NotSet(f"GAMESTREAM_URL is empty: set it to {example}")
    parts = urlsplit(url)
    if parts.scheme == "s3" and (not parts.netloc or not parts.path):
        raise S3NotSet(f"GAMESTREAM_URL={url} names no stream: set it to {example}")


# pragma: no mutate start (S3 only: the integration tests reach it, on SeaweedFS)
def check_bucket(url: str, storage_options: dict[str, Any], say: Callable[[str], object]) -> None:
    """Before the first poll, ask S3 for the stream's bucket once (tried :data:`tasks.START_TRIES`
    times while S3 does not answer): refuse, in one line naming the setting to correct, a bucket
    that does not exist, credentials S3 refuses, or an S3 that never answers.

    A LIST of the stream's own key or prefix, one entry at most: its answer, unlike a HEAD's,
    says which credential was refused. Any other refusal (a key allowed to read but not to
    list) is left to the live loop, which backs off and reports.
    """
    where = storage_options.get("client_kwargs", {}).get("endpoint_url") or "AWS"
    one_attempt = {"retries": {"max_attempts": 1}, "connect_timeout": 5}  # the tries are tried_at_start's
    with short_lived_s3fs(storage_options, config_kwargs=one_attempt) as probe:
        probe.retries = 1
        tried_at_start(partial(_ask_bucket, probe, url, where), say)


def _ask_bucket(probe: s3fs.S3FileSystem, url: str, where: str) -> None:
    """One try of :func:`check_bucket`."""
    bucket, _, key = stream_path(url).partition("/")
    try:
        probe.call_s3("list_objects_v2", Bucket=bucket, Prefix=key, MaxKeys=1)
    except FileNotFoundError:
        raise S3NotSet(
            f"the bucket {bucket!r} of GAMESTREAM_URL={url} does not exist at {where}: "
            "create it (the simulator does), or correct GAMESTREAM_URL"
        ) from None
    except PermissionError as error:
        code = _error_code(error)
        if code in CREDENTIALS_REFUSED:
            raise S3NotSet(
                f"S3 at {where} refused the credentials ({code}): correct S3_ACCESS_KEY and S3_SECRET_KEY"
            ) from None
    except botocore.exceptions.ConnectionError as error:
        reason = error_reason(error, masker(where))
        raise ServiceUnavailable(
            f"S3 at {shown(where)} is unreachable: {reason}", f"S3 at {shown(where)}", "S3_ENDPOINT_URL"
        ) from None
    except Exception:  # noqa: BLE001 - any other answer is the live loop's to back off from and report
        return


# pragma: no mutate end


def _error_code(error: BaseException) -> str:
    """The S3 error code behind s3fs's translation of it (``SignatureDoesNotMatch``), or ``""``."""
    for cause in (error.__cause__, error.__context__):
        response = getattr(cause, "response", None)
        if isinstance(response, dict):
            return str(response.get("Error", {}).get("Code", ""))
    return ""


def check_stream_settings(url: str, storage_options: dict[str, Any], say: Callable[[str], object]) -> None:
    """The checks a run that follows ``url`` makes before its first poll, each refusing in one line."""
    check_gamestream_url(url)
    if urlsplit(url).scheme != "s3":
        return  # a local file (the benchmarks): nothing of S3's to check
    check_s3_settings(storage_options)
    check_bucket(url, storage_options, say)


# pragma: no mutate start (S3 only: the integration tests reach it, on SeaweedFS)
def ensure_bucket(url: str, storage_options: dict[str, Any]) -> None:
    """Create the stream's bucket if it is missing (once per replay, not once per write)."""
    fs = s3_filesystem(storage_options)
    bucket = stream_path(url).split("/", 1)[0]
    if not fs.exists(bucket):
        fs.mkdir(bucket)


def write_stream(url: str, text: str, storage_options: dict[str, Any]) -> None:
    """Rewrite the whole stream object, as the live feed does at every event."""
    ensure_bucket(url, storage_options)
    s3_filesystem(storage_options).pipe(stream_path(url), text.encode())


def write_streams(texts: dict[str, str], storage_options: dict[str, Any]) -> None:
    """Rewrite several stream objects (url -> whole text) at once.

    s3fs sends the PUTs concurrently on its event loop, as a thousand independent feeds would
    arrive: one round trip of latency for the batch instead of one per game.
    """
    s3_filesystem(storage_options).pipe({stream_path(url): text.encode() for url, text in texts.items()})


# pragma: no mutate end


def read_stream(url: str, storage_options: dict[str, Any]) -> bytes | None:
    """The whole stream object (finalize re-tallies a final from it), ``None`` if it is gone."""
    fs, path = stream_filesystem(url, storage_options)
    fs.invalidate_cache(path)
    try:
        data: bytes = fs.cat_file(path)
    except FileNotFoundError:
        return None
    return data


def read_lines_block(url: str, storage_options: dict[str, Any], offset: int, length: int, size: int) -> bytes:
    """The whole lines of the first ``size`` bytes of a stream that start in [offset, offset + length).

    Blocks cut this way at consecutive offsets are consecutive pieces of the object, each read
    by the Dask worker that parses it; ``size`` (the version polled) is the end, however much
    the object has grown since.
    """
    fs, path = stream_filesystem(url, storage_options)
    with fs.open(path, "rb", size=size) as file:
        block: bytes = read_block(file, offset, length, delimiter=b"\n")
    return block


# pragma: no mutate start (S3 only: the integration tests reach it, on SeaweedFS)
def s3_server(url: str, storage_options: dict[str, Any]) -> str:
    """Which server the S3 endpoint is, as its ``Server`` header says (``SeaweedFS 4.48``, ``MinIO``):
    one HEAD of the stream's bucket."""
    bucket = stream_path(url).split("/", 1)[0]
    response = s3_filesystem(storage_options).call_s3("head_bucket", Bucket=bucket)
    return str(response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("server", ""))


def head_streams(urls: dict[str, str], storage_options: dict[str, Any]) -> dict[str, StreamVersion]:
    """The current version of each of these streams (game -> url), the missing left out: the HEADs
    go out together on the reader's event loop (s3fs's and obstore's are fsspec's), one round trip
    for the batch."""
    fs = reader_filesystem(storage_options)
    paths = {game: stream_path(url) for game, url in urls.items()}
    if not isinstance(fs, AsyncFileSystem):
        found = {game: head_stream(url, storage_options) for game, url in urls.items()}
        return {game: version for game, version in found.items() if version is not None}
    for path in paths.values():
        fs.invalidate_cache(path)

    async def heads() -> list[Any]:
        return await asyncio.gather(*(fs._info(path) for path in paths.values()), return_exceptions=True)

    answers = sync(fs.loop, heads)
    found = {}
    for game, answer in zip(paths, answers, strict=True):
        if isinstance(answer, FileNotFoundError):
            continue
        if isinstance(answer, BaseException):
            raise answer
        found[game] = StreamVersion.of(answer)
    return found


#: The most a heard game's poll reads ahead: a tick's new lines are a few hundred bytes; a stream
#: grown more since (a run catching up) is read by the tick's read, as without a read-ahead.
AHEAD_BYTES = 256 * 1024


@dataclass(frozen=True)
class Ahead:
    """A poll's read-ahead of one stream: its version, as the GET's own answer gives it, and the
    bytes from ``start`` to its end (``None`` when they were more than :data:`AHEAD_BYTES`)."""

    version: StreamVersion
    start: int
    data: bytes | None = field(default=None, repr=False)


def _content_range(answer: dict[str, Any]) -> tuple[int, int]:
    """Where a GET's bytes start and the object's whole size: ``Content-Range: bytes 10-99/100``,
    or, from a server that sent the whole object, 0 and its length."""
    given = str(answer.get("ContentRange") or "")
    if given.startswith("bytes ") and "/" in given and "-" in given:
        span, _, total = given.removeprefix("bytes ").partition("/")
        return int(span.partition("-")[0]), int(total)
    return 0, int(answer["ContentLength"])


def _ahead(start: int, etag: str, first: int, size: int, data: bytes) -> Ahead:
    """A read-ahead from a GET's answer: its bytes from ``start`` when they run to the end."""
    whole = first <= start and first + len(data) == size
    return Ahead(StreamVersion(etag, size), start, data[start - first :] if whole else None)


async def _s3fs_get_from(fs: s3fs.S3FileSystem, path: str, start: int) -> Ahead:
    """One GET of a stream from ``start`` (at most :data:`AHEAD_BYTES`) through s3fs."""
    bucket, key, _ = fs.split_path(path)
    answer = await fs._call_s3("get_object", Bucket=bucket, Key=key, Range=f"bytes={start}-{start + AHEAD_BYTES - 1}")
    try:
        data: bytes = await answer["Body"].read()
    finally:
        answer["Body"].close()
    first, size = _content_range(answer)
    return _ahead(start, str(answer.get("ETag", "")), first, size, data)


def _get_from(fs: AbstractFileSystem) -> Callable[[str, int], Awaitable[Ahead]] | None:
    """The reader's one GET of a stream from a byte, with the stream's version: s3fs's, or
    obstore's own ``get`` (:meth:`tasks.obstore_s3.ObstoreS3.get_from`); none for local files."""
    if isinstance(fs, s3fs.S3FileSystem):
        return partial(_s3fs_get_from, fs)
    get_from = getattr(fs, "get_from", None)
    if get_from is None:
        return None

    async def through(path: str, start: int) -> Ahead:
        return _ahead(start, *await get_from(path, start, AHEAD_BYTES))

    return through


def read_ahead_streams(starts: dict[str, tuple[str, int]], storage_options: dict[str, Any]) -> dict[str, Ahead]:
    """Each stream's version (game -> (url, byte to read from)) with its bytes from there to its end,
    the missing left out: a GET each, in place of a HEAD and then the tick's range GET.

    All go out together on fsspec's loop. A stream that ends before its start (rewritten shorter)
    is asked with a HEAD; so is every stream of a reader without such a GET.
    """
    fs = reader_filesystem(storage_options)
    get_from = _get_from(fs)
    if get_from is None or not isinstance(fs, AsyncFileSystem):
        found = head_streams({game: url for game, (url, _) in starts.items()}, storage_options)
        return {game: Ahead(version, starts[game][1]) for game, version in found.items()}

    async def gets() -> list[Any]:
        return await asyncio.gather(
            *(get_from(stream_path(url), start) for url, start in starts.values()), return_exceptions=True
        )

    found, unranged = {}, {}
    for game, answer in zip(starts, sync(fs.loop, gets), strict=True):
        if isinstance(answer, FileNotFoundError):
            continue
        if isinstance(answer, OSError):  # InvalidRange: the stream ends before the start
            unranged[game] = starts[game][0]
        elif isinstance(answer, BaseException):
            raise answer
        else:
            found[game] = answer
    for game, version in head_streams(unranged, storage_options).items() if unranged else ():
        found[game] = Ahead(version, starts[game][1])
    return found


# pragma: no mutate end


@dataclass(frozen=True)
class GameStreams:
    """The live flow's stream store: one stream object (the game :data:`SINGLE`), or a prefix.

    Built once from the settings; :meth:`versions` is a tick's poll.
    """

    url: str
    storage_options: dict[str, Any]
    multi: bool

    def poll(
        self, games: frozenset[str] | None = None, ahead: Mapping[str, int] | None = None
    ) -> tuple[dict[str, StreamVersion], dict[str, tuple[int, bytes]]]:
        """:meth:`versions`, and for the games in ``ahead`` (game -> byte to read from) their bytes
        from there to the end, read with the version in one GET (:func:`read_ahead_streams`)."""
        ahead = dict(ahead or {})
        if not ahead:
            return self.versions(games), {}
        rest = None if games is None else games - ahead.keys()
        versions = self.versions(rest) if rest is None or rest else {}
        starts = {game: (stream_of(self.url, game), at) for game, at in ahead.items()}
        fetched = {}
        for game, answer in read_ahead_streams(starts, self.storage_options).items():
            versions[game] = answer.version
            if answer.data is not None:
                fetched[game] = (answer.start, answer.data)
        return versions, fetched

    def versions(self, games: frozenset[str] | None = None) -> dict[str, StreamVersion]:
        """The current version of every stream (one LIST for a prefix, one HEAD for a single stream),
        or of these games' streams only (a HEAD each: the games the change feed heard of)."""
        if self.multi and games is not None:
            return head_streams({game: stream_of(self.url, game) for game in games}, self.storage_options)
        if self.multi:
            return list_streams(self.url, self.storage_options)
        version = head_stream(self.url, self.storage_options)
        return {} if version is None else {SINGLE: version}
