"""Long streams tallied block by block without a shuffle: equal to the reference, or refused."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from boxscore.events import parse_block
from boxscore.summary import merge_summaries, summarise_block
from tests.helpers import GAME, Reach, examples, histories, long_streams, tally_blocks
from tests.recorded_game import EVENTS_FILE


def blocks_of(data: bytes, cuts: list[int]) -> list[bytes]:
    """``data`` cut into blocks of whole lines, at the line ends nearest the given offsets."""
    ends = sorted({data.find(b"\n", cut) + 1 for cut in cuts if data.find(b"\n", cut) >= 0})
    starts = [0, *ends]
    return [data[a:b] for a, b in zip(starts, [*ends, len(data)], strict=True) if b > a]


def test_long_streams_in_several_blocks_merge_to_the_reference_or_refuse() -> None:
    """Long streams cut into 2 to 6 blocks of whole lines: the merge of several non-empty block
    summaries is taken in a good share of examples, and equals the reference when taken."""
    reach = Reach()

    @settings(max_examples=examples(60), deadline=None)
    @given(long_streams(), st.lists(st.integers(0, 50_000), min_size=1, max_size=5))
    def merge_or_refuse(data: bytes, cuts: list[int]) -> None:
        blocks = blocks_of(data, cuts)
        merged = merge_summaries([summarise_block(block, GAME) for block in blocks])
        several = sum(1 for block in blocks if block.strip()) > 1
        reach.took(("merged" if merged is not None else "refused") + (" several blocks" if several else " one block"))
        if merged is not None:
            assert merged == tally_blocks([parse_block(data, GAME)])

    merge_or_refuse()
    reach.assert_share("merged several blocks", 0.2)


@settings(max_examples=examples(200), deadline=None)
@given(histories(), st.lists(st.integers(0, 400), max_size=5))
def test_merged_block_summaries_equal_the_reference_or_refuse(versions: list[bytes], cuts: list[int]) -> None:
    data = versions[-1]
    merged = merge_summaries([summarise_block(block, GAME) for block in blocks_of(data, cuts)])
    if merged is not None:
        assert merged == tally_blocks([parse_block(data, GAME)])


def test_the_recorded_game_in_any_number_of_blocks_takes_the_merge() -> None:
    data = EVENTS_FILE.read_bytes()
    whole = tally_blocks([parse_block(data, GAME)])
    for step in (1, 97, 500, 10**6):
        merged = merge_summaries(
            [summarise_block(block, GAME) for block in blocks_of(data, list(range(0, len(data), step)))]
        )
        assert merged == whole
    # hand-checked values of the recorded game: event 70 at 00:00, final, the sentinel not a duplicate
    assert (whole.last_event_id, whole.clock, whole.final, whole.quality.duplicates) == (70, "00:00", True, 0)


def test_overlapping_or_repeated_ids_are_refused() -> None:
    assert (
        merge_summaries(
            [summarise_block(b"0 59:00 101 6 1\n1 58:00 101 6 0\n", GAME), summarise_block(b"1 57:00 205 2 1\n", GAME)]
        )
        is None
    )
    assert summarise_block(b"3 59:00 101 6 1\n2 58:00 101 6 0\n", GAME) is None
    assert summarise_block(b"3 59:00 101 6 1\nbad line\n", GAME) is None
