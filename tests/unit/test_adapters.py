"""The adapters' own rules that need no server: naming a service that does not answer, the tries
at a run's start, and the stream's ranges and paths on local files (fsspec's local filesystem is
the same interface the S3 clients give the readers).

The servers themselves are the integration tier's (tests/integration): here only what the
adapters decide, with the expectations written out by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks import START_TRIES, ServiceUnavailable, reaching, tried_at_start
from tasks.settings import READER_OPTION
from tasks.stream import (
    GameStreams,
    PrefetchedReader,
    RangeReader,
    S3NotSet,
    StreamVersion,
    _content_range,
    _error_code,
    check_gamestream_url,
    head_stream,
    read_lines_block,
    read_stream,
    s3fs_options,
    stream_path,
)

# -- a service that does not answer -------------------------------------------------------------


def test_a_driver_s_error_becomes_one_that_names_the_service_its_masked_url_and_its_setting() -> None:
    with (
        pytest.raises(ServiceUnavailable) as raised,
        reaching("MongoDB", "mongodb://app:s3cret@db:27017/", (ConnectionError,), "MONGO_URL"),
    ):
        raise ConnectionError("db:27017: connection refused\nsecond line with s3cret")
    error = raised.value
    assert str(error) == "MongoDB at mongodb://app:***@db:27017/ is unreachable: db:27017: connection refused"
    assert (error.service, error.setting) == ("MongoDB at mongodb://app:***@db:27017/", "MONGO_URL")
    assert error.__cause__ is None and error.__suppress_context__  # the driver's text stays out


def test_brief_drops_what_the_driver_adds_and_an_empty_reason_is_the_error_s_kind() -> None:
    with (
        pytest.raises(ServiceUnavailable, match=r"^S3 at http://s3:9000 is unreachable: refused$"),
        reaching("S3", "http://s3:9000", (OSError,), brief=lambda text: text.split(" (", 1)[0]),
    ):
        raise OSError("refused (after 3 retries)")
    with (
        pytest.raises(ServiceUnavailable, match=r"^S3 at http://s3:9000 is unreachable: TimeoutError$"),
        reaching("S3", "http://s3:9000", (OSError,)),
    ):
        raise TimeoutError()


def test_an_error_the_service_did_not_cause_passes_through() -> None:
    with pytest.raises(KeyError), reaching("MongoDB", "mongodb://db", (ConnectionError,)):
        raise KeyError("a bug of ours")


def test_a_service_is_tried_four_times_1_2_and_4_s_apart_each_failure_said_then_the_last_raised() -> None:
    slept: list[float] = []
    said: list[str] = []
    tries = [0]

    def down() -> None:
        tries[0] += 1
        raise ServiceUnavailable(f"MongoDB at mongodb://db is unreachable: try {tries[0]}")

    with pytest.raises(ServiceUnavailable, match=r"try 4$"):
        tried_at_start(down, said.append, slept.append)
    assert START_TRIES == 4 and tries == [4] and slept == [1.0, 2.0, 4.0]
    assert said == [
        f"MongoDB at mongodb://db is unreachable: try {n}; trying again in {s} s" for n, s in [(1, 1), (2, 2), (3, 4)]
    ]


def test_a_service_that_answers_at_its_third_try_gives_its_answer_and_anything_else_is_not_tried_again() -> None:
    answers = iter([ServiceUnavailable("down"), ServiceUnavailable("down"), "indexes made"])

    def third_time() -> str:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    slept: list[float] = []
    assert tried_at_start(third_time, lambda line: None, slept.append) == "indexes made" and slept == [1.0, 2.0]
    with pytest.raises(ValueError):
        tried_at_start(lambda: (_ for _ in ()).throw(ValueError("a bug")), lambda line: None, slept.append)
    assert slept == [1.0, 2.0]


# -- the stream's names, ranges and checks ------------------------------------------------------

GAME = b"0 59:51 101 2 0\n1 57:06 101 6 0\n2 56:13 205 8 1\n3 55:0"  # the last line not yet whole


@pytest.fixture
def stream(tmp_path: Path) -> str:
    path = tmp_path / "gamestream.txt"
    path.write_bytes(GAME)
    return f"file://{path}"


def test_a_stream_s_path_is_its_url_without_the_scheme_and_the_reader_s_name_stays_out_of_s3fs() -> None:
    assert stream_path("s3://gamestreams/saturday/g1.txt") == "gamestreams/saturday/g1.txt"
    options = {"key": "k", "secret": "s", READER_OPTION: "obstore"}
    assert s3fs_options(options) == {"key": "k", "secret": "s"} and READER_OPTION in options


def test_a_range_is_the_bytes_from_start_to_end_and_a_prefetched_one_is_served_without_a_read(stream: str) -> None:
    reader = RangeReader(stream, {})
    assert reader(0, 16) == b"0 59:51 101 2 0\n" and reader(16, 32) == b"1 57:06 101 6 0\n"
    reads: list[tuple[int, int]] = []

    def counted(start: int, end: int) -> bytes:
        reads.append((start, end))
        return reader(start, end)

    prefetched = PrefetchedReader(counted, 16, 32, b"already here")
    assert prefetched(16, 32) == b"already here" and reads == []
    assert prefetched(0, 16) == b"0 59:51 101 2 0\n" and reads == [(0, 16)]
    assert prefetched(16, 33) == GAME[16:33] and reads == [(0, 16), (16, 33)]


def test_a_block_is_the_whole_lines_that_start_in_it(stream: str) -> None:
    assert read_lines_block(stream, {}, 0, 10, len(GAME)) == b"0 59:51 101 2 0\n"  # ends at its line's end
    assert read_lines_block(stream, {}, 10, 20, len(GAME)) == b"1 57:06 101 6 0\n"  # the one line starting in it
    assert read_lines_block(stream, {}, 0, 17, len(GAME)) == b"0 59:51 101 2 0\n1 57:06 101 6 0\n"


def test_a_stream_s_version_and_whole_read_and_a_missing_stream(stream: str, tmp_path: Path) -> None:
    version = head_stream(stream, {})
    assert version is not None and version.size == len(GAME)
    assert GameStreams(stream, {}, multi=False).versions() == {"": version}
    assert read_stream(stream, {}) == GAME
    missing = f"file://{tmp_path / 'nothing.txt'}"
    assert head_stream(missing, {}) is None and read_stream(missing, {}) is None
    assert GameStreams(missing, {}, multi=False).versions() == {}
    assert StreamVersion("e", 3) == StreamVersion("e", 3) != StreamVersion("e", 4)


@pytest.mark.parametrize(
    "url",
    ["s3://gamestreams/gamestream.txt", "s3://gamestreams/saturday/", "s3://gamestreams/", "file:///tmp/g.txt"],
)
def test_a_url_that_names_a_stream_or_a_prefix_is_taken(url: str) -> None:
    check_gamestream_url(url)


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("", "GAMESTREAM_URL is empty: set it to"),
        ("   ", "GAMESTREAM_URL is empty: set it to"),
        ("s3://gamestreams", "GAMESTREAM_URL=s3://gamestreams names no stream: set it to"),
        ("s3:///gamestream.txt", "GAMESTREAM_URL=s3:///gamestream.txt names no stream: set it to"),
    ],
)
def test_a_url_that_names_no_stream_is_refused_saying_what_to_set(url: str, said: str) -> None:
    with pytest.raises(S3NotSet) as refused:
        check_gamestream_url(url)
    assert str(refused.value).startswith(said)
    assert str(refused.value).endswith("a prefix of games ending in / (s3://gamestreams/saturday/)")


def test_the_s3_code_behind_s3fs_s_translation_is_read_from_its_cause() -> None:
    class ClientError(Exception):
        def __init__(self, code: str) -> None:
            self.response = {"Error": {"Code": code}}

    try:
        try:
            raise ClientError("SignatureDoesNotMatch")
        except ClientError as cause:
            raise PermissionError("Forbidden") from cause
    except PermissionError as translated:
        assert _error_code(translated) == "SignatureDoesNotMatch"
    assert _error_code(PermissionError("no cause")) == ""


def test_the_reader_is_s3fs_unless_obstore_is_named_and_a_local_url_is_read_as_a_file(stream: str) -> None:
    import s3fs
    from fsspec.implementations.local import LocalFileSystem

    from tasks.obstore_s3 import ObstoreS3
    from tasks.stream import botocore_session, reader_filesystem, s3_filesystem, stream_filesystem

    options = {"key": "k", "secret": "s", "client_kwargs": {"endpoint_url": "http://127.0.0.1:9"}}
    assert isinstance(reader_filesystem(options), s3fs.S3FileSystem)
    writer = s3_filesystem({**options, READER_OPTION: "obstore"})  # writes always go through s3fs
    assert (writer.key, writer.secret, writer.session) == ("k", "s", botocore_session())
    assert isinstance(reader_filesystem({**options, READER_OPTION: "obstore"}), ObstoreS3)
    fs, path = stream_filesystem("s3://gamestreams/g.txt", options)
    assert isinstance(fs, s3fs.S3FileSystem) and path == "gamestreams/g.txt"
    fs, _ = stream_filesystem("s3://gamestreams/g.txt", {**options, READER_OPTION: "obstore"})
    assert isinstance(fs, ObstoreS3)
    fs, path = stream_filesystem(stream, {READER_OPTION: "obstore"})
    assert isinstance(fs, LocalFileSystem) and path == stream.removeprefix("file://")


@pytest.fixture
def no_aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The AWS credential chain finds nothing: no variables, no files, no instance metadata."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.mark.usefixtures("no_aws_credentials")
def test_s3_with_no_endpoint_and_no_credentials_anywhere_is_refused_naming_the_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tasks.stream import check_s3_settings, check_stream_settings

    check_s3_settings({"client_kwargs": {"endpoint_url": "http://127.0.0.1:9"}})  # MinIO or SeaweedFS
    check_s3_settings({"key": "k", "secret": "s"})  # AWS with keys
    for url in ("s3://gamestreams/g.txt", "s3://gamestreams/saturday/"):
        with pytest.raises(S3NotSet) as refused:
            check_stream_settings(url, {}, print)
        assert str(refused.value) == (
            "S3 is not configured: set S3_ENDPOINT_URL (with S3_ACCESS_KEY and S3_SECRET_KEY) for MinIO "
            "or SeaweedFS, or give AWS credentials through the AWS credential chain (AWS_ACCESS_KEY_ID, "
            "~/.aws/credentials); `make up` writes the local stack's settings"
        )
    check_stream_settings("file:///tmp/g.txt", {}, print)  # a local file: nothing of S3's to check
    with pytest.raises(S3NotSet, match=r"^GAMESTREAM_URL is empty"):
        check_stream_settings("", {}, print)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    check_s3_settings({})  # the credential chain has them


def test_a_version_is_the_etag_s3_gives_and_the_size_and_a_local_file_has_no_etag() -> None:
    assert StreamVersion.of({"ETag": '"9b2cf535f27731c974343645a3985328"', "size": "52", "name": "g"}) == StreamVersion(
        '"9b2cf535f27731c974343645a3985328"', 52
    )
    assert StreamVersion.of({"size": 7, "type": "file"}) == StreamVersion("", 7)


def test_an_s3_error_without_a_code_has_none() -> None:
    class Answer(Exception):
        def __init__(self, response: dict) -> None:
            self.response = response

    for response in ({}, {"Error": {}}, {"Error": {"Message": "denied"}}):
        try:
            raise PermissionError("Forbidden") from Answer(response)
        except PermissionError as translated:
            assert _error_code(translated) == ""


def test_a_service_unavailable_names_no_service_or_setting_unless_told() -> None:
    plain = ServiceUnavailable("S3 is down")
    assert (str(plain), plain.service, plain.setting) == ("S3 is down", "", "")


def test_an_s3_stream_s_bucket_is_checked_with_the_run_s_options_and_a_prefix_is_listed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The calls into S3 itself are the integration tier's; here, which call each setting leads to."""
    import tasks.stream as stream_module

    calls: list[tuple] = []
    monkeypatch.setattr(stream_module, "check_bucket", lambda *args: calls.append(("check_bucket", *args)))
    monkeypatch.setattr(stream_module, "list_streams", lambda *args: calls.append(("list_streams", *args)) or {})
    options = {"key": "k", "secret": "s", "client_kwargs": {"endpoint_url": "http://127.0.0.1:9"}}
    stream_module.check_stream_settings("s3://gamestreams/g.txt", options, print)
    assert calls == [("check_bucket", "s3://gamestreams/g.txt", options, print)]
    assert GameStreams("s3://gamestreams/saturday/", options, multi=True).versions() == {}
    assert calls[1] == ("list_streams", "s3://gamestreams/saturday/", options)


def test_a_range_gets_answer_says_where_its_bytes_start_and_the_objects_whole_size() -> None:
    assert _content_range({"ContentRange": "bytes 16-45/46", "ContentLength": 30}) == (16, 46)
    assert _content_range({"ContentRange": "bytes 0-0/1", "ContentLength": 1}) == (0, 1)
    # a server that ignores the range sends the whole object, without a Content-Range
    assert _content_range({"ContentLength": 46}) == (0, 46)
    assert _content_range({"ContentRange": "", "ContentLength": 12}) == (0, 12)
