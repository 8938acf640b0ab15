"""Incremental reads equal full recomputes, whatever the feed does between two reads."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from boxscore.events import VECTORISED, ParsedBlock, parse_block, parse_lines
from boxscore.running import Progress, RunningTally, advance, full_read
from tests.helpers import GAME, Reach, examples, growing_long_streams, histories, reader, tally_blocks
from tests.recorded_game import EVENTS_FILE


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


@settings(max_examples=examples(50), deadline=None)
@given(histories())
def test_incremental_equals_full_recompute(versions: list[bytes]) -> None:
    """Also as a tick reads: from the cursor alone (what a Dask worker is sent), counts added back."""
    state = None
    for data in versions:
        progress = advance(state, reader(data), len(data), GAME)
        assert progress.tally() == full_recompute(data)
        from_cursor = advance(state and state.cursor(), reader(data), len(data), GAME)
        assert from_cursor.onto(state) == progress
        state = progress.state


@pytest.mark.parametrize("clean", [True, False], ids=["clean", "doubtful lines and duplicates drawn"])
def test_a_long_stream_read_first_in_one_piece_then_tick_by_tick_equals_full_recomputes(clean: bool) -> None:
    """The first read past ``SMALL_BLOCK_BYTES`` is parsed vectorised and folded as a frame;
    each later tick folds the few new lines as rows, or reads a rewritten object again. A clean
    stream (no doubtful line, no duplicate id) takes both by construction: its first read is
    vectorised, and it grows after it, so a tick folds what it added."""
    reach = Reach()

    @settings(max_examples=examples(10), deadline=None)
    @given(growing_long_streams(doubtful=False, duplicates=False) if clean else growing_long_streams())
    def incremental_equals_full(versions: list[bytes]) -> None:
        state, paths = None, set()
        for data in versions:
            progress = advance(state, reader(data), len(data), GAME)
            if state is None and isinstance(progress, Progress) and progress.paths == (VECTORISED,):
                paths.add("first read vectorised")  # as the parser reported it
            if state is not None:
                paths.add("tick after a full read" if not progress.full_read else "rewrite read again")
            assert progress.tally() == full_recompute(data)
            state = progress.state
        reach.took(*sorted(paths))

    incremental_equals_full()
    if clean:
        reach.assert_share("first read vectorised", 1.0)
        reach.assert_share("tick after a full read", 1.0)


@settings(max_examples=examples(50), deadline=None)
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


def test_event_ids_are_kept_as_runs_and_merged_across_reads() -> None:
    """By hand: ids 0-2, 5 and 7-8 are three runs; a later read's 3-4 and 6 join them into one."""
    import numpy as np

    from boxscore.running import id_runs, union_runs

    assert id_runs(np.array([5, 0, 1, 2, 8, 7, 2])) == [(0, 2), (5, 5), (7, 8)]
    assert id_runs(np.array([], dtype=np.int64)) == []
    assert union_runs([(0, 2), (5, 5), (7, 8)], [(3, 4), (6, 6)]) == [(0, 8)]
    assert union_runs([(0, 2)], [(4, 9), (1, 1)]) == [(0, 2), (4, 9)]


def test_a_read_hands_back_the_first_bytes_of_the_lines_it_folded_for_the_game_identity() -> None:
    """``keep``: a full read returns the stream's first ``keep`` bytes of complete lines, a tick the
    first ``keep`` bytes of the lines it folded (never the partial last line)."""
    first = b"0 59:00 101 6 1\n1 58:00 205 1 0\n2 57:"
    whole = full_read(reader(first), len(first), GAME, keep=20)
    assert whole.lines == b"0 59:00 101 6 1\n1 58"
    grown = first + b"00 101 6 0\n3 56:00 205 1 1\n"
    tick = advance(whole.state, reader(grown), len(grown), GAME, keep=100)
    assert not tick.full_read and tick.lines == b"2 57:00 101 6 0\n3 56:00 205 1 1\n"
    assert advance(whole.state, reader(grown), len(grown), GAME).lines == b""  # keep=0: nothing handed back


def test_a_stream_rewritten_in_place_at_the_same_size_is_read_again_in_full() -> None:
    """A scorer's correction of an earlier goal to a miss: the same bytes long and the last line as
    it was, so only a full read sees it."""
    before = b"0 59:51 101 2 1\n1 57:06 101 6 0\n"
    after = before.replace(b"2 1\n", b"2 0\n")
    second = advance(full_read(reader(before), len(before), GAME).state, reader(after), len(after), GAME)
    assert second.full_read and second.tally() == full_recompute(after)
    assert second.tally().shots == {(101, "2"): (1, 0), (101, "6"): (1, 0)}  # by hand: no goal left


def test_the_last_line_of_a_read_is_what_the_next_read_checks_and_a_full_read_keeps_no_line_by_default() -> None:
    from boxscore.running import last_line

    assert last_line(b"0 59:51 101 2 0\n1 57:06 101 6 1\n") == b"1 57:06 101 6 1\n"
    assert last_line(b"0 59:51 101 2 0\n") == b"0 59:51 101 2 0\n" and last_line(b"") == b""
    data = b"0 59:51 101 2 0\n1 57:06 101 6 1\n"
    assert full_read(reader(data), len(data), GAME).lines == b""


def test_a_read_reports_its_path_and_range_and_a_partial_stranger_is_rejected_when_counted() -> None:
    from boxscore.running import next_range

    assert next_range(None, 40) == (0, 40)
    data = b"0 59:51 101 2 0\n1 57:06 101 6 1\n"
    first = advance(None, reader(data), len(data), GAME)
    assert (first.full_read, first.paths, first.lines) == (True, ("line",), b"")
    grown = data + b"2 56:00 205 8 1\n"
    tick = advance(first.state, reader(grown), len(grown), GAME)
    assert (tick.full_read, tick.paths) == (False, ("line",))
    stranger = data + b"2 56:00 999 8 1"  # no line end yet: the tail, counted with the tally
    tally = full_read(reader(stranger), len(stranger), GAME).tally()
    assert (tally.quality.rejected, tally.shots) == (1, {(101, "2"): (1, 0), (101, "6"): (1, 1)})


def test_a_tick_of_new_bytes_past_the_vectorised_threshold_continues_or_reads_again() -> None:
    """A tick that brings more than 16 KiB (a flow that fell behind): parsed vectorised, and its
    first event decides, as a small tick's does, whether it continues the stream."""
    from boxscore.events import SMALL_BLOCK_BYTES

    before = b"0 59:51 101 2 0\n1 57:06 101 6 1\n"
    state = full_read(reader(before), len(before), GAME).state
    lines = [f"{i} 50:00 205 8 {i % 2}\n".encode() for i in range(2, 1200)]
    grown = before + b"".join(lines)
    assert len(grown) - len(before) >= SMALL_BLOCK_BYTES
    tick = advance(state, reader(grown), len(grown), GAME)
    assert (tick.full_read, tick.paths) == (False, ("vectorised",))
    assert tick.tally() == full_recompute(grown) and tick.tally().last_event_id == 1199
    skipped = before + b"".join(lines[1:])  # event 2 missing: the new part starts at 3
    again = advance(state, reader(skipped), len(skipped), GAME)
    assert again.full_read and again.tally() == full_recompute(skipped)
