"""The MongoDB client the store builds honours what the user's URL says.

pymongo lets a keyword argument override the same option in the URL; the store's own default
server selection must not silently replace a user's ``serverSelectionTimeoutMS``.
"""

from __future__ import annotations

import pytest

from tasks.boxscores import SERVER_SELECTION_MS, mongo_client

# nothing listens on port 9: the clients are built, never used
URL = "mongodb://app:secret@127.0.0.1:9/"


@pytest.mark.parametrize(
    ("url", "seconds"),
    [
        (URL, SERVER_SELECTION_MS / 1000),
        (f"{URL}?serverSelectionTimeoutMS=300", 0.3),
        (f"{URL}?retryWrites=false&serverselectiontimeoutms=1200", 1.2),  # options are case-insensitive
        (f"{URL}?connectTimeoutMS=300", SERVER_SELECTION_MS / 1000),  # another timeout is not this one
    ],
)
def test_the_url_s_server_selection_timeout_wins_over_the_store_s(url: str, seconds: float) -> None:
    client = mongo_client(url)
    try:
        assert client.options.server_selection_timeout == seconds
    finally:
        client.close()
        mongo_client.cache_clear()


def test_the_page_s_shorter_default_applies_where_the_url_sets_none() -> None:
    client = mongo_client(URL, 2000)
    try:
        assert client.options.server_selection_timeout == 2.0
    finally:
        client.close()
        mongo_client.cache_clear()


def test_pymongo_s_reason_is_brief_enough_to_read_in_one_line() -> None:
    from tasks.boxscores import brief_mongo_reason

    said = (
        "127.0.0.1:1: [Errno 111] Connection refused (configured timeouts: socketTimeoutMS: 20000.0ms, "
        "connectTimeoutMS: 20000.0ms), Timeout: 0.3s, Topology Description: <TopologyDescription id: 6b15, "
        "topology_type: Unknown, servers: [<ServerDescription ('127.0.0.1', 1) server_type: Unknown>]>"
    )
    assert brief_mongo_reason(said) == "127.0.0.1:1: [Errno 111] Connection refused"
    assert brief_mongo_reason("authentication failed") == "authentication failed"


def test_only_the_first_timeout_and_what_follows_it_are_dropped() -> None:
    from tasks.boxscores import brief_mongo_reason, selection_timeout

    assert brief_mongo_reason("a, Timeout: b, Timeout: c") == "a"
    assert selection_timeout("mongodb://db/", 5000) == {"serverSelectionTimeoutMS": 5000}  # pymongo's spelling
    assert selection_timeout("mongodb://db/?serverSelectionTimeoutMS=1", 5000) == {}
