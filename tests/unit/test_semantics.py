"""The stream's rules, written out naively here and checked against the pipeline.

For arbitrary text, the tally the live flow computes (incremental fold, line by line or
vectorised) equals this plain reading of the rules: five ASCII-whitespace-separated fields,
event id >= -1, clock mm:ss within 00:00-60:00, team 0 or one of the game's, jersey of 1-3
digits, goal 0 or 1; the first line with an id counts, later ones are duplicates. A counted shot
is in quarter ``max(1, ceil((3600 - seconds left) / 900))``; the goals are listed by event id.
"""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boxscore.events import parse_block
from boxscore.running import advance, full_read
from boxscore.summary import merge_summaries, summarise_block
from tests.helpers import GAME, Reach, examples, long_streams, tally_blocks, text_blocks

DIGITS = set("0123456789")


def digits(text: str, low: int, high: int) -> bool:
    return low <= len(text) <= high and set(text) <= DIGITS


def naive_tally(text: str) -> dict:
    shots: dict[tuple[int, str], list[int]] = {}
    quarters: dict[tuple[int, int], list[int]] = {}
    goals: list[tuple[int, str, int, str]] = []
    seen: set[int] = set()
    rejected, duplicates, examples = 0, 0, []
    latest, final = None, False
    for raw in text.split("\n"):
        line = raw.strip(" \t\r\f\v")
        if not line:
            continue
        fields = re.split("[ \t\r\f\v]+", line)
        ok = len(fields) == 5
        if ok:
            event, clock, team, jersey, goal = fields
            ok = (
                digits(event.removeprefix("-"), 1, 18)
                and int(event) >= -1
                and len(clock) == 5
                and clock[2] == ":"
                and digits(clock[:2] + clock[3:], 4, 4)
                and int(clock[3:]) < 60
                and int(clock[:2]) * 60 + int(clock[3:]) <= 3600
                and digits(team, 1, 18)
                and (int(team) == 0 or int(team) in GAME)
                and digits(jersey, 1, 3)
                and goal in ("0", "1")
            )
        if not ok:
            rejected += 1
            if len(examples) < 5:
                examples.append(line[:120])
            continue
        if int(event) in seen:
            duplicates += 1
            continue
        seen.add(int(event))
        if int(team) != 0:
            counts = shots.setdefault((int(team), jersey), [0, 0])
            counts[0] += 1
            counts[1] += int(goal)
            elapsed = 3600 - (int(clock[:2]) * 60 + int(clock[3:]))
            by_quarter = quarters.setdefault((int(team), max(1, math.ceil(elapsed / 900))), [0, 0])
            by_quarter[0] += 1
            by_quarter[1] += int(goal)
            if goal == "1":
                goals.append((int(event), clock, int(team), jersey))
        if int(event) >= 0 and (latest is None or int(event) > latest[0]):
            latest = (int(event), clock)
        final = final or clock == "00:00" or int(event) == -1
    return {
        "last_event_id": latest and latest[0],
        "clock": latest and latest[1],
        "final": final,
        "shots": {key: tuple(value) for key, value in shots.items()},
        "quarters": {key: tuple(value) for key, value in quarters.items()},
        "goals": sorted(goals),
        "quality": (rejected, duplicates, tuple(examples)),
    }


def as_dict(tally) -> dict:
    return {
        "last_event_id": tally.last_event_id,
        "clock": tally.clock,
        "final": tally.final,
        "shots": dict(tally.shots),
        "quarters": dict(tally.quarters),
        "goals": [tuple(goal) for goal in tally.goals],
        "quality": (tally.quality.rejected, tally.quality.duplicates, tally.quality.examples),
    }


#: the inputs, and the paths every example of each takes by construction: short text is under
#: ``SMALL_BLOCK_BYTES`` (the line parser); a clean long stream whose ids rise is parsed vectorised
#: and its two halves' summaries merge; any long stream takes whichever its lines lead to
RULES_INPUTS = {
    "short text": (
        st.lists(text_blocks, min_size=1, max_size=4).map(
            lambda blocks: "\n".join(blocks).encode("utf-8", "surrogatepass")
        ),
        ["line"],
    ),
    # its complete lines alone pass the threshold (the last line may have no end; a line is at most 40 bytes)
    "a clean long stream": (
        long_streams(min_bytes=16 * 1024 + 64, doubtful=False, duplicates=False),
        ["vectorised", "block summaries merged"],
    ),
    "any long stream": (long_streams(), []),
}


@pytest.mark.parametrize("kind", list(RULES_INPUTS))
def test_the_pipeline_follows_the_rules_as_written(kind: str) -> None:
    """Short text of any kind, and long streams past ``SMALL_BLOCK_BYTES`` that the vectorised
    parser and the block summaries take: every path gives the naive tally."""
    reach = Reach()
    inputs, paths = RULES_INPUTS[kind]

    @settings(max_examples=examples(35), deadline=None)
    @given(inputs)
    def follows_the_rules(data: bytes) -> None:
        expected = naive_tally(data.decode("utf-8", errors="replace"))
        read = full_read(lambda a, b: data[a:b], len(data), GAME)
        paths = list(read.paths)  # the path the parser reports the complete lines took
        assert as_dict(read.tally()) == expected
        assert as_dict(tally_blocks([parse_block(data, GAME)])) == expected
        halves = [data[: len(data) // 2], data[len(data) // 2 :]]
        split = data.rfind(b"\n", 0, len(data) // 2) + 1
        merged = merge_summaries([summarise_block(data[:split], GAME), summarise_block(data[split:], GAME)])
        if merged is not None:
            paths.append("block summaries merged")
            assert as_dict(merged) == expected
        reach.took(*paths)
        advanced = advance(
            full_read(lambda a, b: halves[0][a:b], len(halves[0]), GAME).state, lambda a, b: data[a:b], len(data), GAME
        )
        assert as_dict(advanced.tally()) == expected

    follows_the_rules()
    for path in paths:
        reach.assert_share(path, 1.0)
