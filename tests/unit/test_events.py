"""Parsing stream lines: what counts, what is rejected, and that nothing raises."""

import pytest

from boxscore.events import clock_seconds, parse_block, parse_line
from tests.helpers import GAME, text_blocks
from tests.recorded_game import EVENTS_FILE


def test_recorded_game_parses_every_line() -> None:
    block = parse_block(EVENTS_FILE.read_bytes(), GAME)
    assert len(block.events) == 72
    assert block.rejected == 0
    first = block.events.iloc[0]
    assert (first.event_id, first.clock, first.team, first.jersey, first.goal) == (0, "59:51", 101, "2", 0)
    last = block.events.iloc[-1]
    assert (last.event_id, last.clock, last.team) == (-1, "00:00", 0)


@pytest.mark.parametrize(
    "line, expected",
    [
        ("12 48:52 101 10 1", (12, "48:52", 101, "10", 1)),
        ("12\t48:52  101 10 1", (12, "48:52", 101, "10", 1)),
        ("70 00:00 0 0 0", (70, "00:00", 0, "0", 0)),
        ("-1 00:00 0 0 0", (-1, "00:00", 0, "0", 0)),
        ("3 60:00 205 007 0", (3, "60:00", 205, "007", 0)),
    ],
)
def test_valid_lines(line: str, expected: tuple) -> None:
    assert parse_line(line, GAME) == expected


@pytest.mark.parametrize(
    "line",
    [
        "12 48:52 101 10",  # four fields
        "12 48:52 101 10 1 extra",  # six fields
        "x 48:52 101 10 1",  # event id not an integer
        "-2 48:52 101 10 1",  # below the sentinel
        "12 60:01 101 10 1",  # past the game length
        "12 48:60 101 10 1",  # seconds out of range
        "12 4:52 101 10 1",  # clock not mm:ss
        "12 48:52 101 1000 1",  # jersey of four digits
        "12 48:52 101 10 2",  # goal flag not 0/1
        "12 48:52 999 10 1",  # team playing neither side
    ],
)
def test_rejected_lines(line: str) -> None:
    assert parse_line(line, GAME) is None


def test_block_counts_rejections_ignores_blanks_and_crlf() -> None:
    text = b"0 59:51 101 2 0\r\n\r\ngarbage here\n  \n1 57:06 101 6 1\nbad\xff line\n2 56:13 205 8 1"
    block = parse_block(text, GAME)
    assert list(block.events.event_id) == [0, 1, 2]
    assert block.rejected == 2
    assert block.examples == ("garbage here", "bad\ufffd line")


def test_clock_seconds() -> None:
    assert clock_seconds("59:51") == 3591
    assert clock_seconds("00:00") == 0


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from boxscore.events import parse_clean_block, parse_lines  # noqa: E402


@settings(max_examples=400, deadline=None)
@given(text_blocks, st.sampled_from(["utf-8", "crlf"]))
def test_parser_never_raises_and_both_paths_agree(text: str, encoding: str) -> None:
    data = text.replace("\n", "\r\n").encode() if encoding == "crlf" else text.encode("utf-8", "surrogatepass")
    reference = parse_lines(data, GAME)
    fast = parse_block(data, GAME)
    assert fast.events.equals(reference.events)
    assert (fast.rejected, fast.examples) == (reference.rejected, reference.examples)
    clean = parse_clean_block(data, GAME)
    if clean is not None:
        assert reference.rejected == 0 and clean.events.equals(reference.events)


def test_clean_recorded_game_takes_the_vectorised_path() -> None:
    assert parse_clean_block(EVENTS_FILE.read_bytes(), GAME).events.equals(
        parse_lines(EVENTS_FILE.read_bytes(), GAME).events
    )
