"""Reading the stream into a Dask dataframe and tallying it on the Dask workers."""

from __future__ import annotations

from typing import Any

import dask
import dask.dataframe as dd
from dask.bytes import read_bytes
from distributed import Client
from prefect import task

from boxscore.events import ParsedBlock, events_frame, parse_block
from boxscore.running import Progress, RunningTally, advance
from boxscore.tally import Tally, assemble_tally, quality_frame, quality_from_frame, tally_parts
from tasks import IO_TASK
from tasks.stream import RangeReader

#: Stream bytes per Dask partition; a recorded game is one partition, a long feed many.
BLOCKSIZE = 64 * 2**20


def _events(block: ParsedBlock) -> Any:
    return block.events


def _lazy_tally(url: str, storage_options: dict[str, Any], teams: frozenset[int], blocksize: int) -> tuple | None:
    """The Dask graph of one stream's tally (``None`` for an empty object)."""
    _, per_file = read_bytes(url, delimiter=b"\n", blocksize=blocksize, **storage_options)
    blocks = [dask.delayed(parse_block)(data, teams) for data in per_file[0]]
    if not blocks:
        return None
    events = dd.from_delayed([dask.delayed(_events)(b) for b in blocks], meta=events_frame(), verify_meta=False)
    unique = events.drop_duplicates(subset="event_id", keep="first", split_out=1)
    rejections = dd.from_delayed([dask.delayed(quality_frame)(b) for b in blocks],
                                 meta=quality_frame(ParsedBlock(events_frame())), verify_meta=False)
    return (*tally_parts(unique), events.event_id.count(), unique.event_id.count(), rejections)


def _assemble(parts: tuple | None) -> Tally:
    if parts is None:
        return Tally(None, None, False, {})
    shots, latest, final, total, kept, rejections = parts
    return assemble_tally(shots, latest, bool(final), quality_from_frame(rejections, int(total) - int(kept)))


@task(**IO_TASK)
def tally_streams(
    client: Client, streams: dict[str, tuple[str, frozenset[int]]], storage_options: dict[str, Any],
    blocksize: int = BLOCKSIZE,
) -> dict[str, Tally]:
    """Tally several streams (game id -> (url, shooting teams)) in one Dask computation.

    Each stream is read with s3fs into a Dask dataframe, one partition per block of lines parsed
    on a worker; de-duplication by event id, the per-player group-by and the latest event of
    every game are computed together, and only their small results come back here.
    """
    graphs = {game: _lazy_tally(url, storage_options, teams, blocksize) for game, (url, teams) in streams.items()}
    lazy = {game: parts for game, parts in graphs.items() if parts is not None}
    (computed,) = dask.compute(lazy, scheduler=client) if lazy else ({},)
    return {game: _assemble(computed.get(game)) for game in streams}


@task(**IO_TASK)
def advance_streams(
    client: Client,
    streams: dict[str, tuple[str, frozenset[int], RunningTally | None, int]],
    storage_options: dict[str, Any],
) -> dict[str, Progress]:
    """Bring every changed game (id -> (url, teams, running state, new size)) up to date.

    One Dask computation per tick: each game's new bytes are range-read and folded on a
    worker (a full read where the object was rewritten); only small states come back.
    """
    lazy = {game: dask.delayed(advance)(state, RangeReader(url, storage_options), size, teams)
            for game, (url, teams, state, size) in streams.items()}
    (done,) = dask.compute(lazy, scheduler=client) if lazy else ({},)
    return done
