"""A full read as a Dask dataframe equals the one-pass full read, and later ticks continue from it.

The blocks are cut by :func:`tasks.aggregate.stream_blocks` from a local file (no server) and
computed with Dask's synchronous scheduler; the expectation is
:func:`boxscore.running.full_read` of the same bytes, which is itself checked against a plain
pandas recount in test_running.py.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boxscore.events import LINES, SMALL_BLOCK_BYTES, VECTORISED, parse_block
from boxscore.running import Progress, advance, full_read
from tasks.aggregate import stream_blocks, whole_read
from tests.helpers import GAME, Reach, examples, histories, long_streams, reader, tally_blocks, text_blocks
from tests.recorded_game import EVENTS_FILE


def read_in_blocks(data: bytes, dask_block_bytes: int, keep: int = 0) -> Progress:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "stream.txt"
        path.write_bytes(data)
        blocks = stream_blocks(str(path), {}, len(data), dask_block_bytes)
        return whole_read(blocks, GAME, keep, "sync")


def assert_same(parallel: Progress, one_pass: Progress) -> None:
    assert parallel.state == one_pass.state
    assert parallel.tally() == one_pass.tally()
    assert (parallel.full_read, parallel.bytes_read, parallel.lines) == (True, one_pass.bytes_read, one_pass.lines)


def test_the_recorded_game_in_64_byte_blocks_is_its_one_pass_read() -> None:
    data = EVENTS_FILE.read_bytes()
    parallel = read_in_blocks(data, 64, keep=100)
    assert_same(parallel, full_read(reader(data), len(data), GAME, 100))
    # the file's 71 complete lines are events 0 to 70; its last line, the -1 sentinel, has no newline
    assert parallel.state.offset == data.rindex(b"\n") + 1 and parallel.state.seen == [(0, 70)]
    assert parallel.tally().final and parallel.state.last_line == b"70 00:00 0 0 0\n"
    assert parallel.tally().team_totals(101)[1] == 14 and parallel.tally().team_totals(205)[1] == 9


@settings(max_examples=examples(10), deadline=None)
@given(st.lists(text_blocks, min_size=1, max_size=4), st.integers(1, 120), st.sampled_from([0, 9, 10_000]))
def test_any_text_in_any_blocks_reads_as_one_pass(parts: list[str], dask_block_bytes: int, keep: int) -> None:
    """Odd whitespace, signs, junk, duplicates and CRLF, cut anywhere: the same state and tally."""
    data = "".join(parts).encode()
    parallel = read_in_blocks(data, dask_block_bytes, keep)
    assert_same(parallel, full_read(reader(data), len(data), GAME, keep))
    assert parallel.tally() == tally_blocks([parse_block(data, GAME)])


def clean_stream(events: int) -> bytes:
    """``events`` valid shots of the two teams with rising ids, single spaces: every block of it is clean."""
    lines = []
    for event in range(events):
        clock = 3600 - event * 3600 // events
        team = (101, 205)[event % 2]
        lines.append(f"{event} {clock // 60:02d}:{clock % 60:02d} {team} {event % 30 + 1} {event % 3 // 2}\n")
    return "".join(lines).encode()


#: 58 KB of clean lines: one block, blocks of 25 KB and blocks of 4 KB take each path of a whole read
CLEAN = clean_stream(3_000)


def block_paths(paths: tuple[str, ...]) -> str:
    """What a whole read's blocks took, as the parser reported it per block."""
    if set(paths) == {VECTORISED}:
        return "every block vectorised"
    return "vectorised and line blocks" if VECTORISED in paths else "every block by lines"


@pytest.mark.parametrize(
    ("dask_block_bytes", "taken"),
    [
        (2 * len(CLEAN), "every block vectorised"),  # one block past SMALL_BLOCK_BYTES
        (25_000, "vectorised and line blocks"),  # two of 25 KB, the last of 8 KB
        (4_000, "every block by lines"),  # every block under SMALL_BLOCK_BYTES
    ],
)
def test_a_long_clean_stream_reads_as_one_pass_on_each_block_path(dask_block_bytes: int, taken: str) -> None:
    """Every run reaches the three shapes of a whole read, as the workers' parser reports them,
    and each counts all 3,000 shots: a block path that loses a line fails here."""
    assert len(CLEAN) > 3 * SMALL_BLOCK_BYTES
    parallel = read_in_blocks(CLEAN, dask_block_bytes, keep=50)
    assert block_paths(parallel.paths) == taken, parallel.paths
    assert_same(parallel, full_read(reader(CLEAN), len(CLEAN), GAME, 50))
    shots = sum(parallel.tally().team_totals(team)[0] for team in (101, 205))
    assert shots == 3_000


def test_a_reported_path_is_the_parser_s_own() -> None:
    assert parse_block(CLEAN, GAME).path == VECTORISED
    assert parse_block(CLEAN[:4_000], GAME).path == LINES  # small
    assert parse_block(CLEAN.replace(b"\n1 ", b"\n1  ", 1), GAME).path == LINES  # a double space: not clean


def test_a_long_stream_in_dask_blocks_reads_as_one_pass() -> None:
    """Generated long streams (padding, signs, duplicates, doubtful lines, CRLF) in blocks of any
    size: the same state and tally; the paths the blocks took are counted from the parser's report."""
    reach = Reach()

    @settings(max_examples=examples(5), deadline=None)
    @given(long_streams(), st.integers(2_000, 40_000))
    def one_pass(data: bytes, dask_block_bytes: int) -> None:
        parallel = read_in_blocks(data, dask_block_bytes, keep=50)
        reach.took(block_paths(parallel.paths))
        assert_same(parallel, full_read(reader(data), len(data), GAME, 50))

    one_pass()


@settings(max_examples=examples(12), deadline=None)
@given(histories(), st.integers(8, 120))
def test_ticks_continue_from_a_parallel_read_as_from_a_one_pass_one(
    versions: list[bytes], dask_block_bytes: int
) -> None:
    first, *later = versions
    state = read_in_blocks(first, dask_block_bytes).state
    for data in later:
        step = advance(state, reader(data), len(data), GAME)
        assert isinstance(step, Progress)
        assert step.tally() == tally_blocks([parse_block(data, GAME)])
        state = step.state


def test_a_rewrite_of_a_big_object_is_left_to_the_parallel_read() -> None:
    data = EVENTS_FILE.read_bytes()
    state = full_read(reader(data), len(data), GAME).state
    corrected = data.replace(b"\n70 00:00 0 0 0", b"\n70 00:01 0 0 0")
    step = advance(state, reader(corrected), len(corrected), GAME, dask_block_bytes=len(corrected))
    assert not isinstance(step, Progress) and step.size == len(corrected)
    small = advance(state, reader(corrected), len(corrected), GAME, dask_block_bytes=len(corrected) + 1)
    assert isinstance(small, Progress) and small.full_read


@pytest.mark.parametrize("dask_block_bytes", [10_000, 1_000, 2 * len(CLEAN)])
def test_a_repeated_event_id_counts_its_first_line_in_a_whole_read(dask_block_bytes: int) -> None:
    """Event 7 is first a Johns Hopkins miss (``7 59:52 205 8 0``), then, at the stream's end, a
    Syracuse goal: the first line counts, wherever the blocks are cut (one block, or blocks apart)."""
    assert b"\n7 59:52 205 8 0\n" in CLEAN
    parallel = read_in_blocks(CLEAN + b"7 10:00 101 6 1\n", dask_block_bytes)
    # by hand from clean_stream: even ids Syracuse's, odd ones Johns Hopkins', a goal where id % 3 == 2
    goals = {
        101: sum(1 for e in range(0, 3_000, 2) if e % 3 == 2),
        205: sum(1 for e in range(1, 3_000, 2) if e % 3 == 2),
    }
    assert parallel.tally().team_totals(101) == (1_500, goals[101])
    assert parallel.tally().team_totals(205) == (1_500, goals[205])
    assert parallel.tally().quality.duplicates == 1


def test_a_block_s_rejections_travel_back_from_a_worker_as_written() -> None:
    import pandas as pd

    from boxscore.events import parse_lines
    from boxscore.tally import Quality, quality_frame, quality_from_frame

    blocks = [parse_lines("x 1\n0 59:00 101 6 1\ny 2\n", GAME), parse_lines("z 3\n", GAME), parse_lines("", GAME)]
    frame = pd.concat([quality_frame(block) for block in blocks], ignore_index=True)
    assert quality_from_frame(frame, duplicates=4) == Quality(3, 4, ("x 1", "y 2", "z 3"))
    assert quality_from_frame(frame, duplicates=0, max_examples=2).examples == ("x 1", "y 2")
