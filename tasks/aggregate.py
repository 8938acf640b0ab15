"""Reading the stream into a Dask dataframe and tallying it on the Dask workers."""

from __future__ import annotations

from typing import Any

import dask
import dask.dataframe as dd
from dask.bytes import read_bytes
from distributed import Client
from prefect import task

from boxscore.events import ParsedBlock, events_frame, parse_block
from boxscore.tally import Tally, assemble_tally, quality_frame, quality_from_frame, tally_parts
from tasks import IO_TASK

#: Stream bytes per Dask partition; a recorded game is one partition, a long feed many.
BLOCKSIZE = 64 * 2**20


def _events(block: ParsedBlock) -> Any:
    return block.events


@task(**IO_TASK)
def tally_stream(
    client: Client, url: str, storage_options: dict[str, Any], teams: frozenset[int], blocksize: int = BLOCKSIZE
) -> Tally:
    """Read the stream with s3fs into Dask and count shots and goals on the cluster.

    Each partition of lines is parsed on a worker; de-duplication by event id, the per-player
    group-by and the latest event are one Dask computation whose small results come back here.
    """
    _, per_file = read_bytes(url, delimiter=b"\n", blocksize=blocksize, **storage_options)
    blocks = [dask.delayed(parse_block)(data, teams) for data in per_file[0]]
    if not blocks:
        return Tally(None, None, False, {})
    events = dd.from_delayed([dask.delayed(_events)(b) for b in blocks], meta=events_frame(), verify_meta=False)
    unique = events.drop_duplicates(subset="event_id", keep="first", split_out=1)
    shots, latest, final = tally_parts(unique)
    rejections = dd.from_delayed([dask.delayed(quality_frame)(b) for b in blocks], meta=quality_frame(ParsedBlock(events_frame())), verify_meta=False)
    shots, latest, final, total, kept, rejections = dask.compute(
        shots, latest, final, events.event_id.count(), unique.event_id.count(), rejections, scheduler=client
    )
    return assemble_tally(shots, latest, bool(final), quality_from_frame(rejections, int(total) - int(kept)))
