"""Incremental reads equal full recomputes, whatever the feed does between two reads."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from boxscore.events import ParsedBlock, parse_block, parse_lines
from boxscore.running import RunningTally, advance, full_read
from boxscore.tally import tally_blocks
from tests.recorded_game import EVENTS_FILE

GAME = frozenset({101, 205})


def reader(data: bytes):
    return lambda start, end: data[start:end]


def full_recompute(data: bytes):
    return tally_blocks([parse_block(data, GAME)])


def test_replaying_the_recorded_game_reads_each_line_twice_not_every_tick() -> None:
    lines = EVENTS_FILE.read_bytes().splitlines(keepends=True)
    state, total_read = None, 0
    for count in range(1, len(lines) + 1):
        data = b"".join(lines[:count])
        progress = advance(state, reader(data), len(data), GAME)
        state, total_read = progress.state, total_read + progress.bytes_read
        assert progress.tally() == full_recompute(data)
        assert progress.full_read == (count == 1)
    size = len(EVENTS_FILE.read_bytes())
    full_rereads = sum(len(b"".join(lines[:count])) for count in range(1, len(lines) + 1))
    assert total_read <= 2 * size  # each line read when new and once more as the check
    assert full_rereads > 17 * total_read
    assert progress.tally().final and progress.tally().team_totals(101) == (48, 14)


def test_a_correction_of_the_last_line_is_detected() -> None:
    before = b"0 59:51 101 2 0\n1 57:06 101 6 0\n"
    after = b"0 59:51 101 2 0\n1 57:06 101 6 1\n2 56:13 205 8 1\n"
    first = advance(None, reader(before), len(before), GAME)
    second = advance(first.state, reader(after), len(after), GAME)
    assert second.full_read and second.tally() == full_recompute(after)


def test_new_part_that_does_not_continue_the_sequence_forces_a_full_read() -> None:
    before = b"0 59:51 101 2 0\n1 57:06 101 6 0\n"
    after = before + b"7 50:00 205 8 1\n"
    second = advance(advance(None, reader(before), len(before), GAME).state, reader(after), len(after), GAME)
    assert second.full_read and second.tally() == full_recompute(after)


def test_a_shrunk_object_is_read_again() -> None:
    before = b"0 59:51 101 2 0\n1 57:06 101 6 0\n"
    after = b"0 59:51 101 2 1\n"
    second = advance(advance(None, reader(before), len(before), GAME).state, reader(after), len(after), GAME)
    assert second.full_read and second.tally() == full_recompute(after)


valid_line = st.builds(
    lambda team, jersey, goal, minute: (team, jersey, goal, minute),
    st.sampled_from([101, 205, 0, 999]), st.sampled_from(["1", "2", "6", "99"]), st.integers(0, 1),
    st.integers(0, 60),
)
junk = st.text(alphabet="0123456789 :-x\t\r", max_size=20)


@st.composite
def histories(draw):
    """A sequence of object versions: appends (good, junk, duplicate, gap) and rewrites."""
    lines: list[str] = []
    next_id = 0
    versions: list[bytes] = []
    for _ in range(draw(st.integers(1, 12))):
        action = draw(st.sampled_from(["append", "append", "append", "junk", "duplicate", "gap", "truncate",
                                       "correct_last", "sentinel", "no_newline"]))
        if action in ("append", "gap", "sentinel", "no_newline"):
            for _ in range(draw(st.integers(1, 4))):
                team, jersey, goal, minute = draw(valid_line)
                if action == "gap":
                    next_id += draw(st.integers(2, 5))
                event = -1 if action == "sentinel" else next_id
                lines.append(f"{event} {minute:02d}:00 {team} {jersey} {goal}\n")
                next_id += 1
        elif action == "junk":
            lines.append(draw(junk) + "\n")
        elif action == "duplicate" and lines:
            lines.append(draw(st.sampled_from(lines)))
        elif action == "truncate" and lines:
            lines = lines[: draw(st.integers(0, len(lines) - 1))]
        elif action == "correct_last" and lines:
            lines[-1] = lines[-1].replace(" 0\n", " 1\n") if lines[-1].endswith(" 0\n") else lines[-1].replace(" 1\n", " 0\n")
        data = "".join(lines).encode()
        if action == "no_newline":
            data = data.rstrip(b"\n")
        versions.append(data)
    return versions


@settings(max_examples=300, deadline=None)
@given(histories())
def test_incremental_equals_full_recompute(versions: list[bytes]) -> None:
    state = None
    for data in versions:
        progress = advance(state, reader(data), len(data), GAME)
        assert progress.tally() == full_recompute(data)
        assert full_read(reader(data), len(data), GAME).tally() == full_recompute(data)
        state = progress.state


@settings(max_examples=200, deadline=None)
@given(histories())
def test_folding_rows_equals_folding_a_frame(versions: list[bytes]) -> None:
    """A tick's few lines are folded as tuples, a long first read as a DataFrame: same totals."""
    by_rows = by_frame = RunningTally()
    for data in versions:
        block = parse_lines(data, GAME)
        assert block.rows is not None
        by_rows = by_rows.fold(block, data)
        by_frame = by_frame.fold(ParsedBlock(block.events, block.rejected, block.examples), data)
        assert by_rows == by_frame
