"""Reading the stream into a Dask dataframe and tallying it on the Dask workers."""

from __future__ import annotations

import time
from typing import Any

import dask
import dask.dataframe as dd
from dask.bytes import read_bytes
from distributed import Client

from boxscore.events import ParsedBlock, events_frame, parse_block
from boxscore.live import GameRead, ReadFailed
from boxscore.masking import described
from boxscore.running import Progress, Reader, advance, next_range
from boxscore.summary import merge_summaries, summarise_block
from boxscore.tally import Tally, assemble_tally, quality_frame, quality_from_frame, tally_parts
from tasks.stream import PrefetchedReader, RangeReader, s3_filesystem, stream_path

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
    rejections = dd.from_delayed(
        [dask.delayed(quality_frame)(b) for b in blocks],
        meta=quality_frame(ParsedBlock(events_frame())),
        verify_meta=False,
    )
    return (*tally_parts(unique), events.event_id.count(), unique.event_id.count(), rejections)


def _assemble(parts: tuple | None) -> Tally:
    if parts is None:
        return Tally(None, None, False, {})
    shots, latest, final, total, kept, rejections = parts
    return assemble_tally(shots, latest, bool(final), quality_from_frame(rejections, int(total) - int(kept)))


def _lazy_summaries(url: str, storage_options: dict[str, Any], teams: frozenset[int], blocksize: int) -> list:
    """One delayed :func:`summarise_block` per block of the stream."""
    _, per_file = read_bytes(url, delimiter=b"\n", blocksize=blocksize, **storage_options)
    return [dask.delayed(summarise_block)(data, teams) for data in per_file[0]]


def tally_streams(
    client: Client,
    streams: dict[str, tuple[str, frozenset[int]]],
    storage_options: dict[str, Any],
    blocksize: int = BLOCKSIZE,
) -> dict[str, Tally]:
    """Tally several streams (game id -> (url, shooting teams)) on the Dask workers.

    First pass, for every stream at once: each block is read with s3fs, checked and counted in
    Arrow on a worker, and the small per-block summaries are merged here, with no shuffle (see
    :mod:`boxscore.summary`). A stream with a rejected line or a repeated event id is tallied
    again the exact way: a Dask dataframe, one partition per block of lines parsed on a worker,
    de-duplicated by event id, grouped per player, all in one computation.
    """
    lazy = {game: _lazy_summaries(url, storage_options, teams, blocksize) for game, (url, teams) in streams.items()}
    (summaries,) = dask.compute(lazy, scheduler=client) if lazy else ({},)
    tallies = {game: merge_summaries(parts) for game, parts in summaries.items()}
    exact = [game for game, tally in tallies.items() if tally is None]
    graphs = {game: _lazy_tally(streams[game][0], storage_options, streams[game][1], blocksize) for game in exact}
    graphs = {game: parts for game, parts in graphs.items() if parts is not None}
    (computed,) = dask.compute(graphs, scheduler=client) if graphs else ({},)
    return {game: tallies[game] or _assemble(computed.get(game)) for game in streams}


def _advance_batch(batch: dict[str, GameRead], storage_options: dict[str, Any]) -> dict[str, Progress | ReadFailed]:
    """One Dask task for a batch of games: their new bytes fetched concurrently, then folded.

    s3fs sends the range GETs of the whole batch at once on its event loop, so a tick pays about
    one round trip per batch, not one per game. A read :func:`advance` needs beyond the
    prefetched range (a full re-read after a rewrite) is made on demand. A game whose read fails
    comes back as :class:`ReadFailed` with the reason, and the other games are read as usual.
    """
    ranges = {game: next_range(read.state, read.size) for game, read in batch.items()}
    wanted = [game for game, (start, end) in ranges.items() if end > start]
    fetched = (
        s3_filesystem(storage_options).cat_ranges(
            [stream_path(batch[game].url) for game in wanted],
            [ranges[game][0] for game in wanted],
            [ranges[game][1] for game in wanted],
            on_error="return",
        )
        if wanted
        else []
    )
    prefetched = {game: data for game, data in zip(wanted, fetched, strict=True) if isinstance(data, bytes)}
    progress: dict[str, Progress | ReadFailed] = {}
    for game, read in batch.items():
        reader: Reader = RangeReader(read.url, storage_options)
        if game in prefetched:
            reader = PrefetchedReader(reader, *ranges[game], prefetched[game])
        try:
            progress[game] = advance(read.state, reader, read.size, read.teams, read.keep)
        except Exception as error:  # noqa: BLE001 - one unreadable object must not fail the others' reads
            progress[game] = ReadFailed(described(error))
    return progress


def advance_streams(
    client: Client, streams: dict[str, GameRead], storage_options: dict[str, Any], timeout: float = 60.0
) -> dict[str, Progress | ReadFailed]:
    """Bring every changed game up to date (game id -> what to read of its stream).

    One Dask computation per tick, one task per worker thread: each reads the new bytes of its
    games and folds them (a full read where an object was rewritten); only small states come back.
    A read that takes longer than ``timeout`` (no worker, a hung one) fails as a ``TimeoutError``.
    """
    if not streams:
        return {}
    games = sorted(streams)
    batches = min(len(games), max(1, sum(client.nthreads().values())))
    # traverse=False: the batches hold plain states, there is nothing lazy in them for Dask to find
    lazy = [
        dask.delayed(_advance_batch)(
            dask.delayed({game: streams[game] for game in games[i::batches]}, traverse=False), storage_options
        )
        for i in range(batches)
    ]
    futures = client.compute(lazy)
    deadline = time.monotonic() + timeout
    try:
        done = [future.result(timeout=max(0.0, deadline - time.monotonic())) for future in futures]
    except TimeoutError:
        client.cancel(futures)
        workers = len(client.nthreads())
        raise TimeoutError(
            f"Dask at {client.scheduler.address} did not finish the read within {timeout:.0f} s ({workers} worker(s))"
        ) from None
    return {game: step for batch in done for game, step in batch.items()}
