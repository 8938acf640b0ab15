"""Reading the stream into a Dask dataframe and tallying it on the Dask workers.

Two shapes of read. A tick's read (:func:`advance_streams`) folds the few new lines of every
changed game in one small Dask computation, with no task run: a task run per tick cost half the
flow's CPU. A full read of a stream of one Dask block or more (:func:`read_whole_stream`) is a
task run of its own: a Dask dataframe of the stream's blocks, parsed, de-duplicated and grouped
on the workers, which hands back a running state later ticks continue from.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import reduce
from typing import TYPE_CHECKING, Any, NamedTuple

from prefect import task
from prefect.cache_policies import NO_CACHE

from boxscore.config import LiveConfig
from boxscore.events import ParsedBlock, events_frame, parse_block
from boxscore.live import GameRead, ReadFailed
from boxscore.masking import described
from boxscore.running import (
    Intervals,
    Progress,
    Reader,
    Rewritten,
    RunningTally,
    advance,
    full_read,
    id_runs,
    last_line,
    next_range,
    split_lines,
    union_runs,
)
from boxscore.tally import Tally, TallyParts, assemble_tally, quality_frame, quality_from_frame, tally_parts
from tasks.stream import (
    PrefetchedReader,
    RangeReader,
    read_lines_block,
    reader_filesystem,
    stream_filesystem,
    stream_path,
)

if TYPE_CHECKING:
    import pandas as pd
    from dask.delayed import Delayed
    from distributed import Client

# Dask (and pandas with it) is imported where a read is made, not with this module: the live
# flow's first poll, which comes before any read, does not wait for it.


def stream_blocks(url: str, storage_options: dict[str, Any], size: int, dask_block_bytes: int) -> list[Delayed]:
    """The first ``size`` bytes of a stream as lazy blocks of whole lines, each read on a worker."""
    import dask

    return [
        dask.delayed(read_lines_block)(url, storage_options, offset, dask_block_bytes, size)
        for offset in range(0, size, dask_block_bytes)
    ]


def _events(block: ParsedBlock) -> Any:
    return block.events


def _path(block: ParsedBlock) -> str:
    return block.path


def _seen(ids: pd.Series) -> Intervals:
    return id_runs(ids.to_numpy())


class TallyGraph(NamedTuple):
    """The lazy pieces of a stream's tally, computed together in one Dask computation."""

    parts: TallyParts
    total: Any  # events parsed
    kept: Any  # events after de-duplication
    rejections: Any
    seen: list[Delayed]  # the runs of distinct event ids, per partition
    paths: list[Delayed]  # the parse path each block took on its worker (ParsedBlock.path)


def _lazy_tally(blocks: list[Delayed], teams: frozenset[int]) -> TallyGraph:
    """A Dask dataframe of the blocks' events, one partition per block, de-duplicated by event id."""
    import dask
    import dask.dataframe as dd

    parsed = [dask.delayed(parse_block)(block, teams) for block in blocks]
    events = dd.from_delayed([dask.delayed(_events)(b) for b in parsed], meta=events_frame(), verify_meta=False)
    unique = events.drop_duplicates(subset="event_id", keep="first", split_out=1)
    rejections = dd.from_delayed(
        [dask.delayed(quality_frame)(b) for b in parsed],
        meta=quality_frame(ParsedBlock(events_frame())),
        verify_meta=False,
    )
    seen = [dask.delayed(_seen)(part) for part in unique.event_id.to_delayed()]
    paths = [dask.delayed(_path)(b) for b in parsed]
    return TallyGraph(tally_parts(unique), events.event_id.count(), unique.event_id.count(), rejections, seen, paths)


def _assemble(parts: TallyGraph) -> Tally:
    quality = quality_from_frame(parts.rejections, int(parts.total) - int(parts.kept))
    return assemble_tally(parts.parts, quality)


def tally_streams(
    client: Client,
    streams: dict[str, tuple[str, frozenset[int]]],
    storage_options: dict[str, Any],
    dask_block_bytes: int = LiveConfig.dask_block_bytes,
) -> dict[str, Tally]:
    """Tally several whole streams (game id -> (url, shooting teams)) on the Dask workers.

    First pass, for every stream at once: each block is read, checked and counted in Arrow on a
    worker, and the small per-block summaries are merged here, with no shuffle (see
    :mod:`boxscore.summary`). A stream with a rejected line or a repeated event id is tallied
    again the exact way, as :func:`whole_read` does.
    """
    import dask

    from boxscore.summary import merge_summaries, summarise_block

    blocks = {}
    for game, (url, _) in streams.items():
        fs, path = stream_filesystem(url, storage_options)
        blocks[game] = stream_blocks(url, storage_options, int(fs.info(path)["size"]), dask_block_bytes)
    lazy = {game: [dask.delayed(summarise_block)(b, streams[game][1]) for b in blocks[game]] for game in streams}
    (summaries,) = dask.compute(lazy, scheduler=client)
    tallies = {game: merge_summaries(parts) for game, parts in summaries.items()}
    exact = [game for game, tally in tallies.items() if tally is None and blocks[game]]
    graphs = {game: _lazy_tally(blocks[game], streams[game][1]) for game in exact}
    (computed,) = dask.compute(graphs, scheduler=client) if graphs else ({},)
    empty = Tally(None, None, False, {})
    return {game: tallies[game] or (_assemble(computed[game]) if game in computed else empty) for game in streams}


def whole_read(blocks: list[Delayed], teams: frozenset[int], keep: int, scheduler: Any) -> Progress:
    """The :class:`Progress` of a full read of a stream in ``blocks``, computed as a Dask dataframe.

    Equal to :func:`boxscore.running.full_read` of the same bytes (tests/unit/test_whole_read.py):
    the complete lines are tallied in parallel, and where they end, the last of them and the
    runs of their event ids come back with the tally, so later ticks fold only new lines.
    """
    import dask

    if not blocks:
        return full_read(lambda start, end: b"", 0, teams, keep)
    pieces = [dask.delayed(split_lines, nout=2)(block) for block in blocks]
    complete = [whole for whole, _ in pieces]
    graph = _lazy_tally(complete, teams)
    lazy = (graph, [dask.delayed(len)(c) for c in complete], [dask.delayed(last_line)(c) for c in complete])
    lazy += ([c[:keep] for c in complete], [tail for _, tail in pieces])
    with warnings.catch_warnings():
        # dataframe expressions and delayed blocks in one computation, so each block is read once
        warnings.filterwarnings("ignore", "Computing mixed collections", UserWarning)
        parts, sizes, lasts, heads, tails = dask.compute(*lazy, scheduler=scheduler)
    end = max((i for i, (size, tail) in enumerate(zip(sizes, tails, strict=True)) if size or tail), default=0)
    if any(tails[:end]):  # only the object's last line may lack its newline
        raise RuntimeError("the stream changed while it was read in blocks; it is read again")
    tally = _assemble(parts)
    last = next((line for line in reversed(lasts) if line), b"")
    state = RunningTally.of(tally, sum(sizes), last, reduce(union_runs, parts.seen, []))
    tail = parse_block(tails[end], teams)
    return Progress(state, tail, True, sum(sizes) + len(tails[end]), b"".join(heads)[:keep], tuple(parts.paths))


@task(
    name="read-whole-stream",
    task_run_name="read whole {read.url}",
    retries=2,
    retry_delay_seconds=1,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def read_whole_stream(
    read: GameRead, storage_options: dict[str, Any], dask_block_bytes: int = LiveConfig.dask_block_bytes
) -> Progress:
    """One game's full read, on the run's Dask cluster as a task run of its own (the UI shows it).

    It runs on a Dask worker and computes its dataframe through prefect-dask's
    :func:`get_dask_client`. Its retries cover that client failing to start (it has failed on
    ``None.address``, PrefectHQ/prefect#17334) as well as S3; a read that fails them all is a
    failed read of this game only, made again with the game's backoff.
    """
    from prefect_dask import get_dask_client

    blocks = stream_blocks(read.url, storage_options, read.size, dask_block_bytes)
    with get_dask_client() as client:
        return whole_read(blocks, read.teams, read.keep, client)


Step = Progress | ReadFailed | Rewritten


def _advance_batch(
    batch: dict[str, GameRead], storage_options: dict[str, Any], dask_block_bytes: int | None
) -> dict[str, Step]:
    """One Dask task for a batch of games: their new bytes fetched concurrently, then folded.

    The reader sends the range GETs of the whole batch at once on its event loop, so a tick pays
    about one round trip per batch, not one per game; a game whose poll read its new bytes ahead
    (:attr:`GameRead.fetched`) asks for none. A read :func:`advance` needs beyond the
    prefetched range (a full re-read after a rewrite) is made on demand, unless the object is
    ``dask_block_bytes`` bytes or more: that game comes back :class:`Rewritten`. A game whose read fails
    comes back as :class:`ReadFailed` with the reason, and the other games are read as usual.
    """
    ranges = {game: next_range(read.state, read.size) for game, read in batch.items()}
    ahead = {game: read.fetched for game, read in batch.items() if read.fetched is not None}
    wanted = [game for game, (start, end) in ranges.items() if end > start and game not in ahead]
    fetched: list[Any] = []
    if wanted:
        try:
            fetched = reader_filesystem(storage_options).cat_ranges(
                [stream_path(batch[game].url) for game in wanted],
                [ranges[game][0] for game in wanted],
                [ranges[game][1] for game in wanted],
                on_error="return",
            )
        except Exception:  # noqa: BLE001 - obstore fails a whole batch for one object: each game is then read alone
            fetched = [None] * len(wanted)
    prefetched = {game: data for game, data in zip(wanted, fetched, strict=True) if isinstance(data, bytes)} | ahead
    progress: dict[str, Step] = {}
    for game, read in batch.items():
        reader: Reader = RangeReader(read.url, storage_options)
        if game in prefetched:
            reader = PrefetchedReader(reader, *ranges[game], prefetched[game])
        try:
            progress[game] = advance(read.state, reader, read.size, read.teams, read.keep, dask_block_bytes)
        except Exception as error:  # noqa: BLE001 - one unreadable object must not fail the others' reads
            progress[game] = ReadFailed(described(error))
    return progress


def advance_streams(
    client: Client,
    streams: dict[str, GameRead],
    storage_options: dict[str, Any],
    timeout: float = 60.0,
    dask_block_bytes: int | None = None,
) -> dict[str, Step]:
    """Bring every changed game up to date (game id -> what to read of its stream).

    One task per worker thread (fewer only with fewer games), submitted directly rather than as a
    delayed graph: each reads the new bytes of its games and folds them onto each game's cursor
    (a full read where an object was rewritten). The counts so far stay here: only the cursors
    travel, and only the new lines' counts come back (:meth:`Progress.onto` adds them up). A read that takes
    longer than ``timeout`` (no worker, a hung one) fails as a ``TimeoutError``. A full read of
    ``dask_block_bytes`` bytes or more is left to :func:`read_whole_stream`.
    """
    if not streams:
        return {}
    games = sorted(streams)
    cursors = {game: replace(read, state=read.state and read.state.cursor()) for game, read in streams.items()}
    # one task per thread even for a few games: on a process cluster, one task per tick gave a
    # longer freshness tail side by side at 100 games (docs/choices.md)
    tasks = min(len(games), max(1, sum(client.nthreads().values())))
    futures = [
        client.submit(
            _advance_batch,
            {game: cursors[game] for game in games[i::tasks]},
            storage_options,
            dask_block_bytes,
            pure=False,
        )
        for i in range(tasks)
    ]
    deadline = time.monotonic() + timeout
    try:
        done = [future.result(timeout=max(0.0, deadline - time.monotonic())) for future in futures]
    except TimeoutError:
        client.cancel(futures)
        workers = len(client.nthreads())
        raise TimeoutError(
            f"Dask at {client.scheduler.address} did not finish the read within {timeout:.0f} s ({workers} worker(s))"
        ) from None
    return {
        game: step.onto(streams[game].state) if isinstance(step, Progress) else step
        for batch in done
        for game, step in batch.items()
    }


@dataclass
class DaskReader:
    """The live flow's reads on its Dask cluster: the tick's batch, and whole reads as task runs.

    Built once per run from the settings and the run's parameters. The client is the run's
    DaskTaskRunner's, asked for at the first read (a stream may not exist yet); ``on_client``
    hears of it once (the flow logs where it reads). A whole read's future is kept here until
    it is collected.
    """

    storage_options: dict[str, Any]
    dask_block_bytes: int
    read_timeout: float
    client: Callable[[], Client]
    on_client: Callable[[Client], None] = lambda client: None
    #: closes the run's local cluster (the DaskTaskRunner's); whether there was one to close
    let_go: Callable[[], bool] = lambda: False
    _client: Client | None = None
    _whole: dict[str, Any] = field(default_factory=dict)
    _told: bool = False

    def read(self, reads: Mapping[str, GameRead]) -> dict[str, Step]:
        """The tick's read of these games (raises when S3 or Dask fails it as a whole)."""
        if self._client is None:
            self._client = self.client()
            if not self._told:  # once a run: a cluster started again after a release is the same one to a user
                self._told = True
                self.on_client(self._client)
        return advance_streams(
            self._client, dict(reads), self.storage_options, self.read_timeout, self.dask_block_bytes
        )

    def release(self) -> bool:
        """Let go of a local cluster between reads (the step says when); whether one was closed.
        Kept while a whole read is out: its future lives on that cluster."""
        if self._whole:
            return False
        self._client = None
        return self.let_go()

    def submit_whole(self, reads: Mapping[str, GameRead]) -> dict[str, ReadFailed]:
        """Submit each whole read as its task run; those that could not be submitted, as failed reads."""
        refused = {}
        for game, read in reads.items():
            try:
                self._whole[game] = read_whole_stream.submit(read, self.storage_options, self.dask_block_bytes)
            except Exception as error:  # noqa: BLE001 - the Prefect API or Dask refused it: read again later
                refused[game] = ReadFailed(described(error))
        return refused

    def collect_whole(self, overdue: Sequence[str]) -> dict[str, Step]:
        """The whole reads that finished (or failed), by game; those of ``overdue`` games are cancelled."""
        for game in overdue:
            future = self._whole.pop(game, None)
            if future is not None:
                future.wrapped_future.cancel()
        done: dict[str, Step] = {}
        for game, future in list(self._whole.items()):
            if future.wrapped_future.done():
                del self._whole[game]
                try:
                    done[game] = future.result()
                except Exception as error:  # noqa: BLE001 - this game's read failed, the others go on
                    done[game] = ReadFailed(described(error))
        return done
