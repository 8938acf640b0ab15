"""Small rules of the core written out by hand: each field's pattern, clocks read in place,
and the order that makes one stored box score the current one."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from boxscore import events
from boxscore.document import as_built, current_order
from boxscore.events import Digits, clean_block, clock_digits


def test_each_field_s_pattern_as_the_line_parser_matches_it() -> None:
    assert Digits(1, 18, signed=True).pattern() == "-?[0-9]{1,18}"
    assert Digits(1, 3).pattern() == "[0-9]{1,3}"
    assert Digits(1, 1, largest=1).pattern() == "[0-1]{1,1}"
    for shape in ("-?[0-9]{1,18}", "[0-9]{2}:[0-9]{2}", "[0-9]{1,18}", "[0-9]{1,3}", "[0-1]{1,1}"):
        assert f"({shape})" in events._LINE.pattern


def test_clocks_are_read_in_place_across_chunks_empty_ones_included() -> None:
    clocks = pa.chunked_array([pa.array([], pa.string()), pa.array(["59:51", "00:07"]), pa.array(["12:34"])])
    read = clock_digits(clocks)
    assert read is not None
    minutes, seconds = read
    assert minutes.tolist() == [59, 0, 12] and seconds.tolist() == [51, 7, 34]
    assert minutes.dtype == np.int64 and seconds.dtype == np.int64
    none = clock_digits(pa.chunked_array([], type=pa.string()))
    assert none is not None and [len(part) for part in none] == [0, 0]


def test_a_colon_where_a_digit_belongs_is_no_clock() -> None:
    for clock in (":5:00", "5::00", "05::0", "05:0:", "05-00"):
        assert clock_digits(pa.array([clock])) is None, clock


def test_a_blank_block_is_no_event_with_int64_columns() -> None:
    blank = clean_block(b" \n\n")
    assert blank is not None and blank.table.num_rows == 0
    assert all(column.dtype == np.int64 and len(column) == 0 for column in (blank.event_id, blank.team, blank.minutes))


def test_a_stored_box_score_as_built_has_no_when_fields() -> None:
    stored = {"_id": 5, "event_id": 5, "stored_at": "2026-03-14T18:00:01.000000Z", "seen_at": "x"}
    assert as_built(stored) == {"_id": 5, "event_id": 5}
    assert as_built({"_id": 5}) == {"_id": 5}


def test_the_current_box_score_is_stored_last_then_of_the_greater_game_id_and_an_old_one_first() -> None:
    old = {"_id": 70, "event_id": 70}  # stored before box scores said when
    single = {"_id": 71, "event_id": 71, "stored_at": "2026-03-14T18:00:02.000000Z"}
    g9 = {"game_id": "g9", "stored_at": "2026-03-14T18:00:02.000000Z"}
    g10 = {"game_id": "g10", "stored_at": "2026-03-14T18:00:02.000000Z"}
    earlier = {"game_id": "g99", "stored_at": "2026-03-14T18:00:01.000000Z"}
    assert sorted([g9, old, earlier, g10, single], key=current_order) == [old, earlier, single, g10, g9]
    assert current_order(old) == ("", "")
