"""Long streams tallied block by block without a shuffle: equal to the reference, or refused."""

from __future__ import annotations

from itertools import pairwise

import pytest
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


@pytest.mark.parametrize("duplicates", [False, True], ids=["no duplicate id", "a duplicate id"])
def test_long_streams_in_several_blocks_merge_to_the_reference_or_refuse(duplicates: bool) -> None:
    """Long streams cut into 2 to 6 blocks of whole lines: a clean stream whose ids rise merges
    (by construction, every example), and equals the reference; a repeated id is refused (by
    construction too: it repeats within a block or across two)."""
    reach = Reach()
    streams = long_streams(doubtful=None if duplicates else False, duplicates=duplicates)

    @settings(max_examples=examples(30), deadline=None)
    @given(streams, st.data())
    def merge_or_refuse(data: bytes, draw: st.DataObject) -> None:
        # every cut ends a line before the last one: two blocks at least
        cuts = draw.draw(st.lists(st.integers(0, data.rfind(b"\n", 0, len(data) - 1) - 1), min_size=1, max_size=5))
        blocks = blocks_of(data, cuts)
        merged = merge_summaries([summarise_block(block, GAME) for block in blocks])
        several = sum(1 for block in blocks if block.strip()) > 1
        reach.took(("merged" if merged is not None else "refused") + (" several blocks" if several else " one block"))
        if merged is not None:
            assert merged == tally_blocks([parse_block(data, GAME)])

    merge_or_refuse()
    reach.assert_share("refused several blocks" if duplicates else "merged several blocks", 1.0)


@st.composite
def mergeable_streams(draw, several: bool, sentinels_apart: bool = False) -> tuple[bytes, list[bytes]]:
    """A feed's stream as the merge takes it, in one block or cut into 2 to 12 blocks of whole lines.

    Real ids strictly increase (with gaps, plain or zero-padded), clock marks between shots, and
    the ``-1`` sentinel (a clock mark) 0 to 5 times anywhere, so that sentinels repeat within a
    block and across blocks, and consecutive ids meet at block borders. ``sentinels_apart``: two
    sentinels at least, one in the first block and one in the last.
    """
    count = draw(st.integers(2, 60))
    gaps = draw(st.lists(st.integers(1, 3), min_size=count, max_size=count))
    pad = draw(st.sampled_from([0, 3]))
    lines, event = [], draw(st.integers(0, 5))
    for i, gap in enumerate(gaps):
        clock = max(0, 3600 - (i + 1) * 3600 // (count + 1))
        team = draw(st.sampled_from([101, 205, 101, 205, 0]))
        jersey, goal = draw(st.sampled_from(["1", "6", "22"])), draw(st.integers(0, 1))
        lines.append(
            f"{event:0{pad}d} {clock // 60:02d}:{clock % 60:02d} {team} {jersey if team else 0} {goal if team else 0}"
        )
        event += gap
    for _ in range(draw(st.sampled_from([0, 1, 2, 3, 4, 5]))):
        lines.insert(draw(st.integers(0, len(lines))), SENTINEL)
    cuts = sorted(set(draw(st.lists(st.integers(1, len(lines) - 1), min_size=1, max_size=11)))) if several else []
    bounds = [0, *cuts, len(lines)]
    parts = [lines[a:b] for a, b in pairwise(bounds) if b > a]
    if sentinels_apart:
        parts[0].insert(draw(st.integers(0, len(parts[0]))), SENTINEL)
        parts[-1].insert(draw(st.integers(0, len(parts[-1]))), SENTINEL)
    blocks = ["".join(line + "\n" for line in part).encode() for part in parts]
    return b"".join(blocks), blocks


SENTINEL = "-1 00:00 0 0 0"
#: the streams the merge takes, and the paths every example of each takes by construction
MERGEABLE = {
    "one block": (mergeable_streams(several=False), ["one block"]),
    "several blocks": (mergeable_streams(several=True), ["several blocks"]),
    "sentinels in several blocks": (
        mergeable_streams(several=True, sentinels_apart=True),
        ["several blocks", "sentinel repeated", "sentinels in several blocks"],
    ),
}


@pytest.mark.parametrize("kind", list(MERGEABLE))
def test_streams_the_merge_takes_merge_to_the_reference_every_time(kind: str) -> None:
    """Every example merges (by construction), and the merged tally equals the reference tally of
    the whole stream: in one block, in several, with sentinels repeated across blocks."""
    reach = Reach()
    streams, paths = MERGEABLE[kind]

    @settings(max_examples=examples(35), deadline=None)
    @given(streams)
    def merges(stream: tuple[bytes, list[bytes]]) -> None:
        data, blocks = stream
        summaries = [summarise_block(block, GAME) for block in blocks]
        assert all(summary is not None for summary in summaries), "a block the merge should take was refused"
        merged = merge_summaries(summaries)
        assert merged is not None
        assert merged == tally_blocks([parse_block(data, GAME)])
        sentinels = data.count(SENTINEL.encode())
        reach.took(
            "several blocks" if len(blocks) > 1 else "one block",
            *(["sentinel repeated"] if sentinels > 1 else []),
            *(["sentinels in several blocks"] if sum(SENTINEL.encode() in block for block in blocks) > 1 else []),
        )

    merges()
    for path in paths:
        reach.assert_share(path, 1.0)


@settings(max_examples=examples(200), deadline=None)
@given(histories(), st.lists(st.integers(0, 400), max_size=5))
def test_block_summaries_of_any_history_equal_the_reference_or_refuse(versions: list[bytes], cuts: list[int]) -> None:
    """Any text (bad lines, repeated ids, decreasing ids) in blocks: when the merge is taken it is
    right; the refusals themselves are named in test_overlapping_or_repeated_ids_are_refused."""
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


def test_blocks_whose_id_spans_overlap_are_refused_even_when_one_ends_past_the_other() -> None:
    """0-2 and 1-3: each block's ids rise, but id 1 or 2 may be in both."""
    first, second = b"0 59:00 101 6 1\n2 58:00 101 6 0\n", b"1 57:00 205 2 1\n3 56:00 205 2 0\n"
    assert merge_summaries([summarise_block(first, GAME), summarise_block(second, GAME)]) is None
    later, earlier = summarise_block(b"2 57:00 205 2 1\n3 56:00 205 2 0\n", GAME), summarise_block(first[:16], GAME)
    apart = merge_summaries([later, earlier])
    assert apart is not None and [goal.event_id for goal in apart.goals] == [
        0,
        2,
    ]  # in id order, whatever the blocks' order


def test_the_sentinel_ends_the_game_whatever_its_clock() -> None:
    assert summarise_block(b"0 59:00 101 6 1\n-1 30:00 0 0 0\n", GAME).final
    assert not summarise_block(b"0 59:00 101 6 1\n1 30:00 0 0 0\n", GAME).final
    assert summarise_block(b"0 59:00 101 6 1\n1 00:00 0 0 0\n", GAME).final


def test_a_block_with_a_stranger_a_repeated_id_or_only_the_sentinel() -> None:
    assert summarise_block(b"0 59:00 999 6 1\n", GAME) is None  # a stranger's shot: the exact path decides
    assert summarise_block(b"1 59:00 101 6 1\n1 58:00 101 6 0\n", GAME) is None  # which line of id 1 counts?
    only = summarise_block(b"-1 00:00 0 0 0\n", GAME)
    assert only is not None and only.final and only.first is None
