"""The long-stream tally on a local Dask cluster: merged block summaries or the exact dataframe path."""

from __future__ import annotations

from pathlib import Path

from boxscore.events import parse_block
from tasks.aggregate import tally_streams
from tasks.cluster import dask_client
from tests.helpers import GAME, tally_blocks
from tests.recorded_game import EVENTS_FILE


def test_tally_streams_takes_the_merge_for_a_clean_stream_and_the_exact_path_for_a_dirty_one(tmp_path: Path) -> None:
    clean = tmp_path / "clean.txt"
    clean.write_bytes(EVENTS_FILE.read_bytes())
    dirty = tmp_path / "dirty.txt"  # event 5 again (a duplicate) and a junk line
    dirty.write_bytes(EVENTS_FILE.read_bytes().replace(b"\n6 54:14", b"\n5 54:00 205 8 1\nnot a shot\n6 54:14"))
    with dask_client() as client:
        tallies = tally_streams(client, {"clean": (str(clean), GAME), "dirty": (str(dirty), GAME)}, {}, 256)
    assert tallies["clean"] == tally_blocks([parse_block(clean.read_bytes(), GAME)])
    assert tallies["dirty"] == tally_blocks([parse_block(dirty.read_bytes(), GAME)])
    assert tallies["clean"].team_totals(101)[1] == 14 and tallies["clean"].team_totals(205)[1] == 9  # 14-9 by hand
    assert (tallies["dirty"].quality.rejected, tallies["dirty"].quality.duplicates) == (1, 1)
    assert tallies["dirty"].team_totals(205) == tallies["clean"].team_totals(205)  # the duplicate counts once
