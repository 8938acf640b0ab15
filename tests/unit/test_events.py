"""Parsing stream lines: what counts, what is rejected, and that nothing raises."""

import pytest

from boxscore.events import clock_seconds, parse_block, parse_line
from tests.helpers import GAME, Reach, examples, long_streams, text_blocks
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

from boxscore.events import SMALL_BLOCK_BYTES, parse_clean_block, parse_lines  # noqa: E402
from boxscore.running import full_read  # noqa: E402

#: what each kind of input is, and the path the parser must take on every example of it (``None``:
#: either): short text is under ``SMALL_BLOCK_BYTES``, a clean long stream is one the vectorised
#: parser takes whole, a doubtful line mostly sends a long stream back to the line parser (not
#: always: some are valid where they stand, a CR before a CRLF end say)
PARSER_INPUTS = {
    "short text": (
        st.one_of(
            text_blocks.map(lambda text: text.encode("utf-8", "surrogatepass")),
            text_blocks.map(lambda text: text.replace("\n", "\r\n").encode("utf-8", "surrogatepass")),
        ),
        "line",
    ),
    "a clean long stream": (long_streams(doubtful=False), "vectorised"),
    "a long stream with a doubtful line": (long_streams(doubtful=True), None),
}


@pytest.mark.parametrize("kind", list(PARSER_INPUTS))
def test_parser_never_raises_and_both_paths_agree(kind: str) -> None:
    """The vectorised parser equals the line parser: short text of any kind, and long streams
    past ``SMALL_BLOCK_BYTES``, clean (vectorised) or with one doubtful line (mostly sent back).
    Each kind of input takes its path by construction, so every example must."""
    reach = Reach()
    inputs, path = PARSER_INPUTS[kind]

    @settings(max_examples=examples(100), deadline=None)
    @given(inputs)
    def both_paths_agree(data: bytes) -> None:
        reference = parse_lines(data, GAME)
        fast = parse_block(data, GAME)
        reach.took(fast.path)  # the path the parser reports it took
        assert fast.events.equals(reference.events)
        assert (fast.rejected, fast.examples) == (reference.rejected, reference.examples)

    both_paths_agree()
    if path is not None:
        reach.assert_share(path, 1.0)


def test_clean_recorded_game_takes_the_vectorised_path() -> None:
    assert parse_clean_block(EVENTS_FILE.read_bytes(), GAME).events.equals(
        parse_lines(EVENTS_FILE.read_bytes(), GAME).events
    )


# -- the vectorised path applies exactly the line rules ------------------------------------

DIGITS = st.text(alphabet="0123456789", min_size=1, max_size=4)
#: a field as a feed might garble it: signs, plus, padding, non-ASCII digits, out of range
NUMBER = st.one_of(
    DIGITS,
    st.builds(lambda d: "-" + d, DIGITS),
    st.builds(lambda d: "+" + d, DIGITS),
    st.builds(lambda d: "00" + d, DIGITS),
    st.sampled_from(["-0", "+0", "٣", "３", "1٣", "99999999999999999999", "0x1", "1.0", ""]),
    # the shapes' edges: 18 digits fit, 19 do not, padded or not; a colon or a dash inside
    st.sampled_from(["0" * 17 + "7", "0" * 18 + "7", "9" * 18, "1" * 19, "1:2", ":", "1-2", "-", "--1"]),
)
CLOCK = st.one_of(
    st.builds(lambda m, s: f"{m:02d}:{s:02d}", st.integers(0, 61), st.integers(0, 61)),
    st.builds(lambda m, s: f"{m}:{s}", NUMBER, NUMBER),
    st.sampled_from(["-0:30", "10:-0", "+1:00", "1:00", "60:00", "60:01", "٠٠:٠٠"]),
)
TEAM = st.one_of(st.sampled_from(["0", "101", "205", "999"]), NUMBER)
SPACE = st.sampled_from([" ", " ", " ", " ", "  ", "\t", "\x0b", "\x0c", "\xa0", " \t", "\u2003"])
GARBLED_LINE = st.builds(
    lambda lead, e, s1, clock, s2, team, s3, jersey, s4, goal, trail: (
        f"{lead}{e}{s1}{clock}{s2}{team}{s3}{jersey}{s4}{goal}{trail}"
    ),
    st.sampled_from(["", "", "", " ", "\t"]),
    NUMBER,
    SPACE,
    CLOCK,
    SPACE,
    TEAM,
    SPACE,
    NUMBER,
    SPACE,
    st.sampled_from(["0", "1", "2", "-0", "+1", "01", "١"]),
    st.sampled_from(["", "", "", " ", "\r", "\t"]),
)
#: enough clean lines to take any block past SMALL_BLOCK_BYTES, onto the vectorised path
CLEAN = b"".join(f"{i} 59:{i % 60:02d} 101 6 {i % 2}\n".encode() for i in range(1200))


@settings(max_examples=examples(150), deadline=None)
@given(st.lists(GARBLED_LINE, min_size=1, max_size=3), st.integers(0, 1199), st.sampled_from([b"\n", b"\r\n"]))
def test_a_large_block_parses_as_the_line_parser_says(lines: list[str], at: int, newline: bytes) -> None:
    cut = CLEAN.index(b"\n", at * 10) + 1 if at else 0
    inserted = newline.join(line.encode("utf-8", "surrogatepass") for line in lines) + newline
    data = CLEAN[:cut] + inserted + CLEAN[cut:]
    assert len(data) >= SMALL_BLOCK_BYTES
    reference, fast = parse_lines(data, GAME), parse_block(data, GAME)
    assert fast.events.equals(reference.events)
    assert (fast.rejected, fast.examples) == (reference.rejected, reference.examples)
    clean = parse_clean_block(data, GAME)
    if clean is not None:
        assert reference.rejected == 0 and clean.events.equals(reference.events)


def test_a_signed_team_in_a_large_block_is_rejected_and_does_not_take_the_event_id() -> None:
    """The line rules reject ``5 10:00 -0 7 1`` (a signed team), so it takes no event id: the
    real event 5 after it counts, in a block large enough for the vectorised path."""
    data = CLEAN[: CLEAN.index(b"\n5 59:05") + 1]
    data += b"5 10:00 -0 7 1\n" + CLEAN[CLEAN.index(b"\n5 59:05") + 1 :]
    tally = full_read(lambda start, end: data[start:end], len(data), GAME).tally()
    assert (tally.quality.rejected, tally.quality.duplicates) == (1, 0)
    assert tally.quality.examples == ("5 10:00 -0 7 1",)
    assert tally.shots[(101, "6")] == (1200, 600)  # every clean line, event 5 included


CLEAN_PAIR = b"0 59:00 101 6 1\n1 58:00 205 2 0\n"


@pytest.mark.parametrize(
    ("data", "event_ids"),
    [
        (b"", []),
        (b"\n \n\t\r\n", []),  # blank lines only
        (CLEAN_PAIR, [0, 1]),
        (CLEAN_PAIR.replace(b"\n", b"\r\n"), [0, 1]),
        (b"0 59:00 101 6 1\r1 58:00 205 2 0\n", None),  # a lone CR: one line for the line parser
        (b'0 59:00 101 "6" 1\n', None),  # quotes are bytes, not quoting
        (b"0  59:00 101 6 1\n", None),
        (b" 59:00 101 6 1\n", None),  # a leading space: five fields, the first empty
        (b"0 59:00 101 6 \n", None),  # a trailing space: five fields, the last empty
        (b"0\t59:00 101 6 1\n", None),
        (b"0 59:00 101 6 1\x0b\n", None),
        (b"0 60:00 101 6 1\n", [0]),
        (b"0 60:01 101 6 1\n", None),
        (b"0 61:00 101 6 1\n", None),
        (b"0 12:59 101 6 1\n", [0]),
        (b"0 12:60 101 6 1\n", None),
        (b"-1 00:00 0 0 0\n", [-1]),
        (b"-2 59:00 101 6 1\n", None),
        (b"0 59:00 101 6 1\n\xff\n", None),  # not UTF-8
        (b"0 59:00 101 6 1\n1 58:00 101 6\n", None),  # a field short
        (b"000000000000000007 59:00 101 6 1\n", [7]),  # 18 digits
        (b"-00000000000000001 59:00 0 0 0\n", [-1]),  # a sign and 17 digits
        (b"-000000000000000001 59:00 0 0 0\n", [-1]),  # a sign and 18 digits
        (b"0000000000000000007 59:00 101 6 1\n", None),  # 19 digits, though the number is small
        (b"7 59:00 000000000000000101 6 1\n", [7]),
        (b"7 59:00 0000000000000000101 6 1\n", None),
        (b"7 59:00 101 006 1\n", [7]),
        (b"7 59:00 101 0006 1\n", None),
        (b"7 59:00 101 1: 1\n", None),  # a colon outside the clock
        (b"7 59:00 101 -6 1\n", None),  # a dash that is not an event id's sign
        (b"7 59:00 -0 6 1\n", None),
        (b"7 59:00 101 6 -0\n", None),
        (b"7 59:00 101 6 01\n", None),
        (b"- 59:00 101 6 1\n", None),
        (b"7 5:900 101 6 1\n", None),  # five bytes, the colon out of place
        (b"7 5/:00 101 6 1\n", None),  # a byte no valid line holds (just below '0')
    ],
)
def test_the_vectorised_table_is_the_line_parser_s_or_none(data: bytes, event_ids: list[int] | None) -> None:
    """Small blocks, asked directly (``parse_block`` sends only big ones): a table only when every
    line is valid as written, and then the same events as the line parser's."""
    table = parse_clean_block(data, GAME)
    if event_ids is None:
        assert table is None
        return
    lines = parse_lines(data, GAME)
    assert table.events["event_id"].tolist() == event_ids == lines.events["event_id"].tolist()
    assert table.events.equals(lines.events) and lines.rejected == 0
    assert table.path == "vectorised"


def test_the_vectorised_table_takes_only_the_game_s_teams_and_the_clock_marks() -> None:
    stranger = b"0 59:00 999 6 1\n"
    assert parse_clean_block(stranger, GAME) is None and len(parse_clean_block(stranger)) == 1
    assert len(parse_clean_block(b"0 59:00 0 0 0\n", GAME)) == 1


def test_a_block_of_exactly_small_block_bytes_is_vectorised_and_one_byte_less_is_not() -> None:
    line = b"0 59:00 101 6 1\n"  # 16 bytes: 1,024 of them make SMALL_BLOCK_BYTES exactly
    data = line * (SMALL_BLOCK_BYTES // len(line))
    assert len(data) == SMALL_BLOCK_BYTES
    assert parse_block(data, GAME).path == "vectorised"
    assert parse_block(data[:-1], GAME).path == "line"
    stranger = data[: -len(line)] + b"1 58:00 999 6 1\n"
    parsed = parse_block(stranger, GAME)  # the game's teams reach the vectorised check
    assert (parsed.path, parsed.rejected) == ("line", 1)


def test_the_line_parser_strips_ascii_blanks_only_and_keeps_five_examples_of_120_characters() -> None:
    assert parse_lines("\u00a00 59:00 101 6 1\n", GAME).rejected == 1  # a no-break space is not a blank
    assert len(parse_lines(" \t0 59:00 101 6 1\f\v\r\n", GAME)) == 1
    bad = [f"bad {i} " + "x" * 200 for i in range(7)]
    parsed = parse_lines("\n".join(bad), GAME)
    assert parsed.rejected == 7
    assert parsed.examples == tuple(line[:120] for line in bad[:5])
