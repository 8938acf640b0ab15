"""The live loop as one pure step: observations in, effects out (h11's shape, for a box score).

The flow is an interpreter: it carries out each :data:`Effect` with one adapter call and feeds
what the call returned back as an :data:`Observation`::

    state = LoopState.start(loop)
    while True:
        state, effects = step(state, now, observations)
        observations = [what carrying out each effect returned]

So the order of a tick lives here, once, and the unit tests drive whole games through it with
fake time and fake observations. One tick, in order (each ``->`` waits for an observation)::

    [game records, once] [listen to the change feed, when due]
    -> poll -> reference tables (when due) -> whole reads submitted -> the tick's read
    -> whole reads collected -> archive the other games -> upsert -> the season's schedule
    -> archive stale box scores
    -> save the game records -> show in the UI -> finalize (when due)
    -> the tick's figures (metrics; with a prefix, the UI's games when due)
    -> [let go of the local Dask cluster, when nothing was read for a while]
    -> stop, fail, or sleep (with a change feed: wait for it to hear of a change)

The moments worth an alert (a game started, final, finalized or behind; a service down or back)
come out as :class:`Announce` effects beside the log lines, as they happen.

:class:`boxscore.live.LiveLoop` holds the rules each stage applies (backoff, waits, cadences,
what to say); this module only says when each applies and what the flow must do about it. A
step does no I/O and reads no clock: ``now`` is given. The state is updated in place and
returned, as a pure function's result would be, so a step costs no copy of the games' tallies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum, auto
from typing import Any

from boxscore.document import BoxScore
from boxscore.feed import Feed, Heard
from boxscore.games import Matchup
from boxscore.identity import GameRecord
from boxscore.live import SINGLE, GameRead, Level, LiveLoop, ReadFailed, StreamTimeout
from boxscore.roster import League
from boxscore.running import Progress, Rewritten
from boxscore.season_document import ScheduledGame, planned_entry, played_entry
from boxscore.watch import Figures, GameFigures, GameState, Moment

# -- effects: what the flow is to do ---------------------------------------------------------


@dataclass(frozen=True)
class ReadGameRecords:
    """Read the games seen on the single stream (a restart continues from them)."""


@dataclass(frozen=True)
class Poll:
    """Each game's current version: one HEAD of the stream, or one LIST of the prefix (``games``
    ``None``); or a HEAD of each of these games' streams, which the change feed heard of.

    ``ahead``: heard games whose next read continues from a known byte (game -> that byte). Their
    poll is a GET from there, which says their version and brings the new bytes with it: the
    tick's read of them then asks S3 for nothing more."""

    games: frozenset[str] | None = None
    ahead: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Listen:
    """Start (or start again) the change feed. Nothing comes back: what it hears is awaited."""


@dataclass(frozen=True)
class AwaitChanges:
    """Wait for the change feed to hear of a change, this long at most; what it heard comes back."""

    seconds: float


@dataclass(frozen=True)
class ReadReference:
    """Read teams, players and (with a prefix) the games table."""


@dataclass(frozen=True)
class SubmitWholeReads:
    """Submit each of these reads as a task run of its own (a Dask dataframe of blocks)."""

    reads: Mapping[str, GameRead]


@dataclass(frozen=True)
class ReadStreams:
    """The tick's read: the new bytes of these games, on the Dask workers, in one computation."""

    reads: Mapping[str, GameRead]


@dataclass(frozen=True)
class CollectWholeReads:
    """Collect the whole reads that finished; give up (cancel) those of the ``overdue`` games."""

    overdue: Sequence[str]


@dataclass(frozen=True)
class ArchiveOtherGames:
    """Single stream, a new game: move every other game's box scores to the archive."""

    keep: str


@dataclass(frozen=True)
class Upsert:
    """Upsert these box scores in one bulk write, each with when its change was first seen (by game id)."""

    documents: Sequence[BoxScore]
    seen_at: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WriteSchedule:
    """Put these games on the season's schedule as their box scores just written have them, and
    the planned games (the ``games`` table's) not on it yet (:mod:`boxscore.season_document`)."""

    games: Sequence[ScheduledGame]
    planned: Sequence[ScheduledGame] = ()


@dataclass(frozen=True)
class ArchiveStale:
    """Archive each game's box scores of events after the given one (a rewritten stream)."""

    stale: Sequence[tuple[str, int]]


@dataclass(frozen=True)
class SaveGameRecords:
    """Save the single stream's changed game records, each with its rank."""

    records: Sequence[tuple[int, GameRecord]]


@dataclass(frozen=True)
class Show:
    """Show this box score in the Prefect UI (its table and the game clock). Nothing comes back."""

    document: BoxScore


@dataclass(frozen=True)
class Finalize:
    """Run the finalize subflow for these games."""

    games: Sequence[str]


@dataclass(frozen=True)
class Measure:
    """Record the tick's figures (the live run's metrics). Nothing comes back."""

    figures: Figures


@dataclass(frozen=True)
class ShowGames:
    """Show the games a prefix run follows in the Prefect UI (a table by game). Nothing comes back."""

    games: Mapping[str, GameFigures]


@dataclass(frozen=True)
class Announce:
    """Announce a moment an operator may want an alert for (a Prefect event). Nothing comes back."""

    moment: Moment


@dataclass(frozen=True)
class Log:
    """One line for the run's log. Nothing comes back."""

    level: Level
    message: str


@dataclass(frozen=True)
class ReleaseWorkers:
    """Let go of the run's local Dask cluster: nothing was read for a while, and idle it costs the
    run most of its CPU; the next read starts it again. A user's cluster is kept. Nothing comes back."""


@dataclass(frozen=True)
class Sleep:
    """Wait this long before the next step. Nothing comes back."""

    seconds: float


@dataclass(frozen=True)
class Stop:
    """The run is over: return this (the final box score, or the finals by game id)."""

    result: Any


@dataclass(frozen=True)
class Fail:
    """The run can never end well: raise this."""

    error: StreamTimeout


Effect = (
    ReadGameRecords
    | Poll
    | ReadReference
    | SubmitWholeReads
    | ReadStreams
    | CollectWholeReads
    | ArchiveOtherGames
    | Upsert
    | WriteSchedule
    | ArchiveStale
    | SaveGameRecords
    | Show
    | Finalize
    | Measure
    | ShowGames
    | Announce
    | Log
    | ReleaseWorkers
    | Sleep
    | Listen
    | AwaitChanges
    | Stop
    | Fail
)

# -- observations: what the flow's I/O returned ----------------------------------------------

Outcome = Progress | ReadFailed | Rewritten


@dataclass(frozen=True)
class GameRecordsRead:
    records: Sequence[GameRecord]


@dataclass(frozen=True)
class Polled:
    """Each stream's version, and when the poll was made (UTC text: what a box score's ``seen_at`` says);
    ``fetched``, the bytes read ahead (game -> (where they start, the bytes to the end of its version))."""

    versions: Mapping[str, Any]
    at: str = ""
    fetched: Mapping[str, tuple[int, bytes]] = field(default_factory=dict)


@dataclass(frozen=True)
class ReferenceRead:
    matchups: Mapping[str, Matchup]
    league: League


@dataclass(frozen=True)
class WholeReadsSubmitted:
    """``refused``: the reads that could not be submitted, as failed reads."""

    refused: Mapping[str, ReadFailed]


@dataclass(frozen=True)
class StreamsRead:
    progress: Mapping[str, Outcome]


@dataclass(frozen=True)
class WholeReadsCollected:
    """The whole reads that finished (or failed), by game."""

    done: Mapping[str, Outcome]


@dataclass(frozen=True)
class Done:
    """A write (archive, upsert, records) or a finalize succeeded."""


@dataclass(frozen=True)
class Failed:
    """The effect's service failed: the poll, the tick's read, a write or finalize."""

    error: BaseException


Observation = (
    GameRecordsRead
    | Polled
    | ReferenceRead
    | WholeReadsSubmitted
    | StreamsRead
    | WholeReadsCollected
    | Done
    | Failed
    | Heard
)


class Stage(Enum):
    """Where the run is: what the next step does, or which effect's observation it waits for."""

    START = auto()
    GAME_RECORDS = auto()
    POLL = auto()
    POLLING = auto()
    REFERENCE = auto()
    SUBMITTING = auto()
    READING = auto()
    COLLECTING = auto()
    ARCHIVING_OTHERS = auto()
    UPSERTING = auto()
    SCHEDULING = auto()
    ARCHIVING_STALE = auto()
    SAVING_RECORDS = auto()
    SHOW = auto()
    FINALIZE = auto()
    FINALIZING = auto()
    MEASURE = auto()
    SHOW_GAMES = auto()
    END = auto()
    AWAITING = auto()


@dataclass
class LoopState:
    """The run's state: the loop's rules and games, the tick's stage and what the tick has so far."""

    loop: LiveLoop[Any]
    feed: Feed | None = None  # the object store's change feed, if the run has one
    stage: Stage = Stage.START
    tick: float = 0.0  # when this tick began
    matchups: Mapping[str, Matchup] = field(default_factory=dict)
    league: League | None = None
    changed: list[str] = field(default_factory=list)  # the games this tick's poll found changed
    reads: dict[str, GameRead] = field(default_factory=dict)  # the tick's read, once whole reads are submitted
    done: dict[str, Outcome] = field(default_factory=dict)  # whole reads over this tick (refused included)
    written: Sequence[BoxScore] = ()  # the box scores being upserted
    #: each game's schedule entry as its latest written box score has it, until the schedule is written
    scheduling: dict[str, ScheduledGame] = field(default_factory=dict)
    scheduled_at: float = float("-inf")  # when the schedule was last written (or tried)
    schedule_asked: float = 0.0  # when the last write of the schedule was asked for
    schedule_took: float = 0.0  # and how long it took
    finalized: set[str] = field(default_factory=set)  # the games this run finalized: finalize writes their entries
    planned: Sequence[ScheduledGame] = ()  # the planned games not yet put on the schedule
    planned_sent: frozenset[str] = frozenset()  # the planned games the schedule has
    archiving: Sequence[tuple[str, int]] = ()  # the stale box scores being archived
    saving: Sequence[tuple[int, GameRecord]] = ()  # the game records being saved
    finalizing: frozenset[str] = frozenset()  # the games being finalized
    figures: Figures | None = None  # the tick's figures, once measured
    games_shown: float = float("-inf")  # when a prefix run last showed its games in the UI
    states_shown: dict[str, GameState] = field(default_factory=dict)  # and each game's state it showed

    polling: frozenset[str] | None = None  # what the poll in flight asked: every stream, or these games
    last_read: float | None = None  # when the run last read on Dask; None: it holds no workers

    @classmethod
    def start(cls, loop: LiveLoop[Any], feed: Feed | None = None) -> LoopState:
        return cls(loop, feed)


def step(state: LoopState, now: float, observations: Sequence[Observation] = ()) -> tuple[LoopState, list[Effect]]:
    """Take what the last effects returned; return what to do next, ending with one effect to wait for.

    Every effect before the last needs no observation (logs, the UI); the last one's observation
    (if it has one) is the next step's input.
    """
    for observation in observations:
        _observe(state, now, observation)
    effects: list[Effect] = []
    while True:
        effect = _advance(state, now)
        effects.extend(Log(n.level, n.message) for n in state.loop.notices())
        if state.feed is not None:
            effects.extend(Log(n.level, n.message) for n in state.feed.notices())
        effects.extend(Announce(moment) for moment in state.loop.watch.moments())
        if effect is None:
            continue
        effects.append(effect)
        if not isinstance(effect, Show | Measure | ShowGames | Listen | ReleaseWorkers):
            return state, effects


def _observe(state: LoopState, now: float, observation: Observation) -> None:
    """Fold an observation into the loop; the stage moves to what comes after its effect."""
    loop, tick, stage = state.loop, state.tick, state.stage
    failed = observation.error if isinstance(observation, Failed) else None
    if stage is Stage.GAME_RECORDS and isinstance(observation, GameRecordsRead):
        loop.records = list(observation.records)
        state.stage = Stage.POLL
    elif stage is Stage.POLLING:
        if isinstance(observation, Polled):
            state.changed = loop.polled(tick, observation.versions, observation.at, state.polling, observation.fetched)
            if state.feed is not None:
                state.feed.polled(now, state.polling)
            state.stage = Stage.REFERENCE
        else:
            loop.poll_failed(tick, _error(failed))
            if state.feed is not None:
                state.feed.poll_failed(state.polling)
            state.stage = Stage.COLLECTING
    elif stage is Stage.REFERENCE and isinstance(observation, ReferenceRead):
        state.matchups, state.league = observation.matchups, observation.league
        state.planned = [
            planned_entry(matchup, observation.league.teams)
            for game, matchup in sorted(observation.matchups.items())
            if loop.multi and game not in state.planned_sent  # the single stream's game is planned by no table
        ]
        loop.reference_read(tick)
        state.stage = Stage.SUBMITTING
    elif stage is Stage.SUBMITTING and isinstance(observation, WholeReadsSubmitted):
        state.done.update(observation.refused)
        state.stage = Stage.READING
    elif stage is Stage.READING:
        if isinstance(observation, StreamsRead):
            loop.read_done(tick, observation.progress, state.matchups, _league(state))
        else:
            loop.read_failed(tick, _error(failed), len(state.reads))
        state.reads, state.stage = {}, Stage.COLLECTING
    elif stage is Stage.COLLECTING and isinstance(observation, WholeReadsCollected):
        state.done.update(observation.done)
        _whole_reads_over(state)
    elif stage is Stage.ARCHIVING_OTHERS:
        if failed is None:
            loop.archived()
            state.stage = Stage.UPSERTING
        else:
            loop.write_failed(tick, failed, len(loop.unwritten))
            state.stage = Stage.SHOW
    elif stage is Stage.UPSERTING:
        if failed is None:
            finalized = state.finalized | loop.already_finalized  # before the write's news changes it
            loop.written(now, list(state.written))
            state.scheduling.update(
                (document["game_id"], played_entry(document))
                for document in state.written
                if document["game_id"] not in finalized
            )
            state.stage = Stage.SCHEDULING
        else:
            loop.write_failed(tick, failed, len(loop.unwritten))
            state.stage = Stage.SHOW
        state.written = ()
    elif stage is Stage.SCHEDULING:
        state.scheduled_at = now
        if failed is None:  # a failure's time is the client's timeout: not what a write costs
            state.schedule_took = now - state.schedule_asked
            state.planned_sent |= {game["game_id"] for game in state.planned}
            state.planned, state.scheduling = (), {}
        else:  # the entries wait for the next write (or finalize's)
            loop.write_failed(tick, failed, 0)
        state.stage = Stage.ARCHIVING_STALE
    elif stage is Stage.ARCHIVING_STALE:
        if failed is not None:
            loop.write_failed(tick, failed, 0)
            loop.keep_stale(list(state.archiving))
        state.archiving, state.stage = (), Stage.SAVING_RECORDS
    elif stage is Stage.SAVING_RECORDS:
        if failed is not None:
            loop.write_failed(tick, failed, 0)
            loop.keep_unsaved(list(state.saving))
        state.saving, state.stage = (), Stage.SHOW
    elif stage is Stage.AWAITING and isinstance(observation, Heard):
        assert state.feed is not None  # a run awaits changes only from its feed
        stopped = state.feed.listening and not observation.listening
        state.feed.heard_of(now, observation)
        # a feed that just stopped ends the wait early: the tick's wait goes on, as polling's
        state.stage = Stage.END if stopped and not observation.keys else Stage.POLL
    elif stage is Stage.FINALIZING:
        if failed is None:
            loop.finalized(now, set(state.finalizing))
            state.finalized |= state.finalizing
            for game in state.finalizing:  # finalize wrote their entries, as final and counted or not
                state.scheduling.pop(game, None)
        else:
            loop.finalize_failed(now, failed)
        state.finalizing, state.stage = frozenset(), Stage.MEASURE
    else:
        raise ValueError(f"{type(observation).__name__} does not answer the effect of stage {stage.name}")


def _advance(state: LoopState, now: float) -> Effect | None:
    """Carry the tick on from its stage: the next effect, or ``None`` when the stage needed none."""
    loop, tick = state.loop, state.tick
    stage = state.stage
    if stage is Stage.START:
        state.stage = Stage.POLL if loop.multi else Stage.GAME_RECORDS
        return None if loop.multi else ReadGameRecords()
    if stage is Stage.POLL:
        return _poll(state, now)
    if stage is Stage.REFERENCE:
        if loop.reference_due(tick, state.changed, state.matchups, state.league is not None):
            return ReadReference()
        state.stage = Stage.SUBMITTING
        return None
    if stage is Stage.SUBMITTING:
        reads = loop.reads(tick, state.changed, state.matchups, state.league)
        state.reads = {game: read for game, read in reads.items() if not read.whole}
        whole = {game: read for game, read in reads.items() if read.whole}
        if whole:
            state.last_read = now
            return SubmitWholeReads(whole)
        state.stage = Stage.READING
        return None
    if stage is Stage.READING:
        if state.reads and state.league is not None:
            state.last_read = now
            return ReadStreams(state.reads)
        state.reads, state.stage = {}, Stage.COLLECTING
        return None
    if stage is Stage.COLLECTING:
        if loop.whole_reads.keys() - state.done.keys():
            state.last_read = now  # the workers are busy with them
            overdue = loop.overdue(tick)
            for game in overdue:
                state.done[game] = ReadFailed(f"the whole read did not finish within {loop.rules.read_timeout:.0f} s")
            return CollectWholeReads(overdue)
        _whole_reads_over(state)
        return None
    if stage is Stage.ARCHIVING_OTHERS:
        keep = loop.archive_due()
        if keep is not None:
            return ArchiveOtherGames(keep)
        state.stage = Stage.UPSERTING
        return None
    if stage is Stage.UPSERTING:
        state.written = loop.to_write(tick)
        if state.written:
            return Upsert(state.written, state.loop.seen_at(list(state.written)))
        # nothing new to store: entries left waiting by an earlier tick go to the schedule once due
        state.stage = Stage.SCHEDULING if _schedule_due(state, now) else Stage.SHOW
        return None
    if stage is Stage.SCHEDULING:
        if state.planned or _schedule_due(state, now):
            state.schedule_asked = now
            return WriteSchedule(list(state.scheduling.values()), state.planned)
        state.stage = Stage.ARCHIVING_STALE
        return None
    if stage is Stage.ARCHIVING_STALE:
        state.archiving = loop.stale()
        if state.archiving:
            return ArchiveStale(state.archiving)
        state.stage = Stage.SAVING_RECORDS
        return None
    if stage is Stage.SAVING_RECORDS:
        state.saving = loop.records_to_save()  # none with a prefix: records are the single stream's
        if state.saving:
            return SaveGameRecords(state.saving)
        state.stage = Stage.SHOW
        return None
    if stage is Stage.SHOW:
        state.stage = Stage.FINALIZE
        document = loop.to_show(tick)
        return None if document is None else Show(document)
    if stage is Stage.FINALIZE:
        if loop.finalize_due(tick):
            state.finalizing, state.stage = frozenset(loop.to_finalize), Stage.FINALIZING
            return Finalize(sorted(state.finalizing))
        state.stage = Stage.MEASURE
        return None
    if stage is Stage.MEASURE:
        figures = loop.watch.figures(now, now - tick)
        if state.feed is not None:
            figures = replace(figures, feed=state.feed.figures())
        state.figures, state.stage = figures, Stage.SHOW_GAMES
        return Measure(state.figures)
    if stage is Stage.SHOW_GAMES:
        state.stage = Stage.END
        return _games_to_show(state, now)
    if stage is Stage.END:
        if _release_due(state, now):
            state.last_read = None
            return ReleaseWorkers()
        return _end_of_tick(state, now)
    raise ValueError(f"stage {stage.name} waits for an observation")


def _poll(state: LoopState, now: float) -> Effect | None:
    """The tick's start: listen (when due), then poll every stream, or the games heard of, or none.

    With no poll (the feed heard nothing, or S3 backs off), changes an earlier poll found and
    could not read yet are read from what that poll said.
    """
    loop, feed = state.loop, state.feed
    state.tick, state.done = now, {}
    if feed is not None and feed.listen_due(now):
        feed.listened(now)
        return Listen()
    if not loop.poll_due(now):  # S3 backs off
        state.stage = Stage.COLLECTING
        return None
    ahead = loop.read_ahead(feed.heard) if feed is not None and feed.read_ahead else {}
    games = None if feed is None else feed.to_poll(now, len(loop.games), ahead.keys())
    if games is None or games:
        if feed is not None:
            feed.poll_asked(now, games)
        state.polling, state.stage = games, Stage.POLLING
        return Poll(games, ahead if games else {})
    if loop.unread():
        state.changed, state.stage = loop.unread(), Stage.REFERENCE
        return None
    state.stage = Stage.COLLECTING
    return None


def _whole_reads_over(state: LoopState) -> None:
    """Fold the whole reads that ended this tick; then the tick's writes."""
    if state.done and state.league is not None:
        state.loop.read_done(state.tick, state.done, state.matchups, state.league)
    state.done, state.stage = {}, Stage.ARCHIVING_OTHERS


def _games_to_show(state: LoopState, now: float) -> Effect | None:
    """A prefix run's games for the UI: at the log's summary cadence, and whenever a game's state changes."""
    loop, figures = state.loop, state.figures
    if not loop.multi or figures is None or not figures.games:
        return None
    states = {game: figures.state for game, figures in figures.games.items()}
    if now - state.games_shown < loop.rules.summary_every and states == state.states_shown:
        return None
    state.games_shown, state.states_shown = now, states
    return ShowGames(figures.games)


def _schedule_due(state: LoopState, now: float) -> bool:
    """Entries wait, and a game's later box score replaces its entry, until :func:`_schedule_wait`
    after the last write; a final is written at once. The season document holds every game of
    the season, and a store that rewrites a document whole (SecantusDB) made a write per tick the
    loop's longest wait at a thousand games."""
    if not state.scheduling:
        return False
    if now - state.scheduled_at >= _schedule_wait(state):
        return True
    return any(entry["status"] == "final" for entry in state.scheduling.values())


def _schedule_wait(state: LoopState) -> float:
    """``schedule_every``, or longer where the last write took more than ``schedule_share`` of it:
    the schedule's writes take at most that share of the loop's time."""
    rules = state.loop.rules
    return max(rules.schedule_every, state.schedule_took / rules.schedule_share)


def _release_due(state: LoopState, now: float) -> bool:
    """The run holds workers, has read nothing for ``release_workers_after``, and no whole read is out."""
    last, loop = state.last_read, state.loop
    return last is not None and now - last >= loop.rules.release_workers_after and not loop.whole_reads


def _end_of_tick(state: LoopState, now: float) -> Effect:
    """Stop, fail, or sleep until the next tick starts ``poll_interval`` after this one."""
    loop, tick = state.loop, state.tick
    try:
        over = loop.finished(tick)
    except StreamTimeout as error:
        return Fail(error)
    if over:
        return Stop(dict(sorted(loop.finals.items())) if loop.multi else loop.finals[SINGLE])
    feed = state.feed
    if feed is None:
        state.stage = Stage.POLL
        return Sleep(loop.pause(tick, now))
    state.stage = Stage.AWAITING
    wake_at = loop.wake_at(now)
    if state.last_read is not None:  # the workers are let go on time, not at the next full poll
        wake_at = min(wake_at, state.last_read + loop.rules.release_workers_after)
    if state.scheduling:  # and waiting schedule entries are written on time
        wake_at = min(wake_at, state.scheduled_at + _schedule_wait(state))
    return AwaitChanges(feed.wait(loop.pause(tick, now), now, loop.busy(), wake_at))


def _league(state: LoopState) -> League:
    assert state.league is not None  # the tick reads only once the reference tables are read
    return state.league


def _error(error: BaseException | None) -> BaseException:
    assert error is not None  # a stage that is not answered with data is answered with a failure
    return error
