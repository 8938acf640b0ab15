"""Many games under one prefix: which object is a game's stream, and what a stream is called."""

from __future__ import annotations

import pytest

from boxscore.games import game_id_of, is_prefix, stream_of, stream_url


@pytest.mark.parametrize(
    ("key", "game_id"),
    [
        ("gamestreams/saturday/g0042.txt", "g0042"),
        ("g0042.txt", "g0042"),
        ("a/b/2026-03-01_unc.vs.duke.txt", "2026-03-01_unc.vs.duke"),
        ("x/" + "a" * 64 + ".txt", "a" * 64),  # 64 characters: the longest id
        ("x/" + "a" * 65 + ".txt", None),
        ("x/g0042.csv", None),
        ("x/g0042.txt.tmp", None),
        ("x/.txt", None),  # no id at all
        ("x/_g.txt", None),  # must start with a letter or digit
        ("x/-g.txt", None),
        ("x/g 1.txt", None),
        ("x/g/1.txt", "1"),
        ("x/é.txt", None),
    ],
)
def test_a_key_names_a_game_only_when_it_is_an_id_and_txt(key: str, game_id: str | None) -> None:
    assert game_id_of(key) == game_id


def test_a_prefix_ends_in_a_slash_and_names_each_game_s_stream() -> None:
    assert is_prefix("s3://gamestreams/saturday/") and not is_prefix("s3://gamestreams/gamestream.txt")
    assert stream_url("s3://gamestreams/saturday/", "g0042") == "s3://gamestreams/saturday/g0042.txt"


def test_a_games_stream_is_its_file_under_a_prefix_and_the_one_stream_otherwise() -> None:
    assert stream_of("s3://gamestreams/saturday/", "g0042") == "s3://gamestreams/saturday/g0042.txt"
    assert stream_of("s3://gamestreams/gamestream.txt", "") == "s3://gamestreams/gamestream.txt"
    assert stream_of("s3://gamestreams/gamestream.txt", "g0042") == "s3://gamestreams/gamestream.txt"
