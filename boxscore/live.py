"""The live loop's rules: what to poll, read, write, finalize and log, and when to stop.

A state machine with no I/O and no clock of its own. Each game the run has seen is one
:class:`Game` record with its :class:`Phase` (waiting -> live -> final); the run keeps, beside
them, what finalize still owes (by game id) and the single stream's game records. The step
(:mod:`boxscore.step`) tells it what happened (a poll's versions, a read's progress, a write, a
failure) and when, in the order of a tick, and asks it what to do next; what it has to say
comes out as :class:`Notice` values to log. So every rule of the loop (backoff per service,
waiting for the stream, stalls, settling, the finalize and summary cadences) is tested with
fake time and no server.

Single-stream mode follows whatever game the stream holds (:mod:`boxscore.identity`): when it
holds a new game, the box scores of the others are archived before the new game's first one is
written, so the page's query always finds the current game. A final game is watched for
``settle_seconds`` more: a scorer's correction in that time is applied and finalized again.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from itertools import islice
from typing import Generic, Literal, Protocol, TypeVar

from boxscore.config import LiveConfig
from boxscore.document import BoxScore, build_boxscore, unknown_shooters
from boxscore.games import Matchup, stream_of
from boxscore.identity import IDENTITY_BYTES, GameRecord, first_line, identify, opening
from boxscore.masking import described
from boxscore.report import scoreline
from boxscore.roster import League
from boxscore.running import Progress, Rewritten, RunningTally, events_in, next_range, resume_at, starts_over
from boxscore.watch import Watch

Level = Literal["debug", "info", "warning"]

#: The single-stream mode's one game.
SINGLE = ""
#: What the loop says while no stream exists yet (the demo and tests wait for this line).
WAITING = "waiting for the stream"


@dataclass(frozen=True)
class Notice:
    """One line for the flow's log."""

    level: Level
    message: str


class StreamTimeout(RuntimeError):
    """The stream did not appear, or stopped changing before the game was over."""


class UnknownTeam(ValueError):
    """The single stream's team, as the run was given it, is not in the teams table: no wait can
    change that, so the run ends at once, naming the option."""


@dataclass(frozen=True)
class GameRead:
    """One game's read for a tick: its stream from where ``state`` ends up to ``size`` bytes."""

    url: str
    teams: frozenset[int]
    state: RunningTally | None
    size: int
    keep: int = 0  # bytes of the new complete lines to bring back (single mode: for the identity)
    #: read the whole object in parallel, as its own task run, instead of in the tick's batch
    whole: bool = False
    #: the bytes the read starts with (``next_range(state, size)``), already read by the poll
    #: (its read-ahead of a game the change feed heard of): the read makes no request of its own
    fetched: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ReadFailed:
    """One game's read failed (its object unreadable, say): the reason, as text that travels back."""

    reason: str


@dataclass
class Backoff:
    """When to try a failing service again: 1, 2, 4 ... at most 15 s apart.

    The live loop never dies of an outage: what it could not do waits for the next attempt, and
    each attempt (not each tick) is reported, as is the recovery with the outage's length.
    """

    service: str
    first: float = 1.0
    longest: float = 15.0
    failures: int = 0  # in a row, since the last success
    next_try: float = 0.0
    since: float = 0.0  # when the first of these failures happened
    reason: str = ""  # the last failure, as shown

    def ready(self, now: float) -> bool:
        return now >= self.next_try

    def failed(self, now: float, error: BaseException | str, waiting: str) -> Notice:
        """Note a failure (an exception, or its reason as text when it came from a worker)."""
        if not self.failures:
            self.since = now
        self.failures += 1
        self.reason = error if isinstance(error, str) else described(error)
        delay = min(self.first * 2 ** (self.failures - 1), self.longest)
        self.next_try = now + delay
        return Notice(
            "warning",
            f"{self.service} failed ({self.reason}); {waiting}, next attempt in {delay:.0f} s",
        )

    def succeeded(self, now: float) -> Notice | None:
        notice = None
        if self.failures:
            notice = Notice("info", f"{self.service} answers again after {now - self.since:.0f} s")
        self.failures, self.next_try = 0, 0.0
        return notice


@dataclass(frozen=True)
class LoopRules:
    """The live flow's parameters, and the cadences that keep a thousand games cheap."""

    poll_interval: float = LiveConfig.poll_interval
    wait_for_stream: float = LiveConfig.wait_for_stream
    stall_timeout: float = LiveConfig.stall_timeout
    settle_seconds: float = LiveConfig.settle_seconds
    finalize: bool = LiveConfig.finalize
    #: games ending while others play share one finalize, at most this often: a finalize rewrites
    #: the season tables from every result, so its cost grows with the day (a game day's second
    #: half spent 40 % of its CPU finalizing every 5 s); the last games are finalized at once
    finalize_every: float = 30.0
    #: with many games, one progress line this often instead of one per box score
    summary_every: float = 30.0
    #: a game waiting for its matchup re-reads the reference tables at most this often
    reference_every: float = 5.0
    #: a full read of a stream this big or bigger (one Dask block) is a Dask dataframe computed in
    #: a task run of its own, polled between ticks, so it never holds up the other games' ticks
    dask_block_bytes: int = LiveConfig.dask_block_bytes
    #: how long one tick's read, or one whole read, may take (a scheduler without workers, say)
    read_timeout: float = LiveConfig.read_timeout
    #: one game: the Prefect UI's box score and clock at most this often (two API calls each), a
    #: final one at once; a box score per event made these half of what following a game cost
    show_every: float = 1.0
    #: a game whose box score trails a change of its stream this long is behind (a Prefect event)
    behind_seconds: float = LiveConfig.behind_seconds
    #: the season's schedule gets the live games' entries at most this often (a final at once): the
    #: season document holds every game, and a thousand games' writes every tick held the loop up
    schedule_every: float = 5.0
    #: and at most this share of the loop's time: a write that took 0.6 s (ten thousand games'
    #: season document, which SecantusDB rewrites whole) is made every 12 s, while it holds the
    #: loop, and every heard game with it
    schedule_share: float = 0.05
    #: a run that has read nothing this long lets go of its local Dask cluster, which starts again
    #: (in some 25 ms) at its next read: idle, the cluster's own ticks were most of the run's CPU,
    #: and half a minute outlasts the pause between most shots, so a playing game keeps it
    release_workers_after: float = 30.0
    #: a tick archives the stale box scores of at most this many games, the rest at the next
    #: ticks: a run's first reads of ten thousand games are ten thousand candidates, which the
    #: store checks in one pass over the box scores (0.6 s for ten thousand on SecantusDB,
    #: whatever the number of games asked about), or a query each where the server cannot group
    #: (FerretDB, some 1 ms a game)
    archive_per_tick: int = 10_000

    @classmethod
    def of(cls, config: LiveConfig) -> LoopRules:
        """The rules of a run with these parameters (the cadences keep their defaults)."""
        return cls(
            poll_interval=config.poll_interval,
            wait_for_stream=config.wait_for_stream,
            stall_timeout=config.stall_timeout,
            settle_seconds=config.settle_seconds,
            finalize=config.finalize,
            dask_block_bytes=config.dask_block_bytes,
            read_timeout=config.read_timeout,
            behind_seconds=config.behind_seconds,
        )


class Version(Hashable, Protocol):
    """A stream object's version as a poll sees it: compared for equality, and its size."""

    @property
    def size(self) -> int: ...


V = TypeVar("V", bound=Version)


class Phase(Enum):
    """Where a game is in the run, in the order it goes through them."""

    #: a poll showed its stream; nothing of it is read yet (no matchup, unreadable, or no event)
    WAITING = "waiting"
    #: read and counted; its box score is not final
    LIVE = "live"
    #: its final box score is written; watched ``settle_seconds`` more for a scorer's correction
    FINAL = "final"


@dataclass
class Game(Generic[V]):
    """One game's state in the run, keyed by the game as the poll names it (:data:`SINGLE` for the one stream).

    What the run does next for a game follows from this record alone: its phase, the version
    its tally has read, the box score still to write, a whole read in flight, a read backing off.
    """

    phase: Phase = Phase.WAITING
    version: V | None = None  # the version folded into ``tally``
    tally: RunningTally | None = None  # what the bytes read so far add up to
    unwritten: BoxScore | None = None  # the newest box score not yet in MongoDB
    final: BoxScore | None = None  # the final box score as written (phase FINAL)
    final_at: float = 0.0  # when it was written
    whole_read: tuple[V, float] | None = None  # the version being read whole, and since when
    rewritten: bool = False  # a tick's read found the stream rewritten: read it whole next
    fully_read: bool = False  # read in full since its last write: later box scores are stale
    read_backoff: Backoff | None = None  # its stream cannot be read: when to try again
    lines: bytes = b""  # single stream: its first complete lines, for the identity
    rejected_said: int = 0  # rejected lines already reported in the log
    #: when a poll first saw its stream differ from what its tally has read (UTC text, from the poll)
    changed_at: str | None = None
    changed_tick: float | None = None  # and the loop's time of that poll
    unwritten_seen: str = ""  # ``changed_at`` of the change ``unwritten`` shows: its ``seen_at``
    unwritten_tick: float | None = None  # and ``changed_tick``: where its lag counts from
    #: why its stream, read, gives no box score (its first line is not an event), for a stall's message
    held_back: str = ""
    #: the last poll's read-ahead of its stream: the version it read, where it started, its bytes
    ahead: tuple[V, int, bytes] | None = field(default=None, repr=False)

    def settled(self, now: float, settle_seconds: float) -> bool:
        """Final and quiet long enough: its stream is no longer read."""
        return self.phase is Phase.FINAL and now - self.final_at >= settle_seconds

    def release(self) -> None:
        """Settled: its stream is never read again, so what reading it needed goes (a day of games
        keeps only each final box score, the run's result)."""
        self.tally, self.lines, self.ahead = None, b"", None


def _fetched(ahead: tuple[V, int, bytes] | None, state: RunningTally | None, version: V) -> bytes | None:
    """A poll's read-ahead's bytes where they are exactly what the read of ``version`` starts with."""
    if ahead is None:
        return None
    read, start, data = ahead
    fits = read == version and next_range(state, version.size) == (start, start + len(data))
    return data if fits else None


class LiveLoop(Generic[V]):
    """The state of one live run: what was read of each stream, what is written, what is final.

    ``url`` is one stream object (single mode, the game :data:`SINGLE`) or a prefix of
    ``<game_id>.txt`` streams (``multi``); ``mongo`` names MongoDB (password masked) in notices.
    """

    def __init__(
        self,
        url: str,
        multi: bool,
        rules: LoopRules,
        started: float,
        mongo: str,
        records: list[GameRecord] | None = None,
        game_id: str | None = None,
        sql: str = "SQL database",
        s3: str | None = None,
    ) -> None:
        self.url, self.multi, self.rules = url, multi, rules
        self.given = game_id  # single mode: the user's GAME_ID, else derived from the stream
        self.records: list[GameRecord] = list(records or ())  # single mode: games seen, newest first
        self.game_id: str | None = None  # single mode: the game the stream holds now
        self.archive_other_games = False  # single mode: a new game began, archive the others first
        self.already_finalized: set[str] = set()
        self.to_finalize: set[str] = set()  # game ids final since the last finalize
        self._unsaved: dict[str, GameRecord] = {}
        self.games: dict[str, Game[V]] = {}  # every game a poll has shown, by its key
        self._stale: dict[str, int] = {}  # game id -> its newest box score's event, oldest first
        self._unshown: BoxScore | None = None  # single mode: the newest box score the UI has not shown
        self.last_shown = float("-inf")
        self.s3 = Backoff(s3 or f"S3 ({url})")
        self.sql = sql
        self.finalizing = Backoff(f"finalize ({sql})")
        self.reading = Backoff(f"reading {self.s3.service}")
        self.reference_read_at = float("-inf")
        self.mongo = Backoff(f"MongoDB ({mongo})")
        self.started = self.last_change = self.last_summary = started
        self.written_since_summary = 0
        self.last_finalized = float("-inf")
        self._versions: dict[str, V] = {}
        self._unread: set[str] = set()  # games polled changed and not read at that version yet
        self._notices: list[Notice] = []
        self._said: set[Hashable] = set()
        services = {"s3": self.s3, "dask": self.reading, "mongodb": self.mongo, "sql": self.finalizing}
        self.watch = Watch(rules.behind_seconds, services)

    # -- views of the games ------------------------------------------------------------------

    @property
    def seen(self) -> dict[str, V]:
        """The version each game's tally has read (games read at least once)."""
        return {key: game.version for key, game in self.games.items() if game.version is not None}

    @property
    def finals(self) -> dict[str, BoxScore]:
        """The final box score of each game in phase FINAL."""
        return {key: game.final for key, game in self.games.items() if game.final is not None}

    @property
    def unwritten(self) -> dict[str, BoxScore]:
        """The box scores not yet in MongoDB, by game."""
        return {key: game.unwritten for key, game in self.games.items() if game.unwritten is not None}

    @property
    def whole_reads(self) -> dict[str, tuple[V, float]]:
        """The whole reads in flight: the version read, and since when."""
        return {key: game.whole_read for key, game in self.games.items() if game.whole_read is not None}

    def _game(self, key: str) -> Game[V]:
        game = self.games.get(key)
        if game is None:
            game = self.games[key] = Game()
        return game

    # -- what to say -------------------------------------------------------------------------

    def notices(self) -> list[Notice]:
        """What happened since the last call, oldest first."""
        said, self._notices = self._notices, []
        return said

    def _say(self, notice: Notice | None) -> None:
        if notice is not None:
            self._notices.append(notice)

    def _once(self, level: Level, message: str, *also: Hashable) -> None:
        """Say this once in the run: the same message (with the same ``also``) is not said again."""
        key = (message, *also)
        if key not in self._said:
            self._said.add(key)
            self._notices.append(Notice(level, message))

    def _failed(self, backoff: Backoff, service: str, now: float, error: BaseException, waiting: str) -> None:
        """A shared service failed: said, and watched (its failures; down at the first in a row)."""
        self._say(backoff.failed(now, error, waiting))
        self.watch.failed(service, backoff.reason)

    def _answered(self, backoff: Backoff, service: str, now: float) -> None:
        self.watch.answered(service, now)  # before the backoff forgets the outage
        self._say(backoff.succeeded(now))

    def stream_of(self, game: str) -> str:
        return stream_of(self.url, game)

    # -- poll --------------------------------------------------------------------------------

    def poll_due(self, now: float) -> bool:
        return self.s3.ready(now)

    def poll_failed(self, now: float, error: BaseException) -> None:
        self._failed(self.s3, "s3", now, error, "keeping the box scores as they are")

    def read_ahead(self, games: Collection[str]) -> dict[str, int]:
        """Where each of these games' next read starts, for those a tick's read would continue (read
        before, not rewritten, no whole read out): their poll may read from there to the end with
        their version, one request instead of a HEAD and a range GET."""
        ahead = {}
        for game in games:
            record = self.games.get(game)
            if record is not None and record.tally is not None and not record.rewritten and record.whole_read is None:
                ahead[game] = resume_at(record.tally)
        return ahead

    def polled(
        self,
        now: float,
        versions: Mapping[str, V],
        at: str = "",
        games: Collection[str] | None = None,
        fetched: Mapping[str, tuple[int, bytes]] | None = None,
    ) -> list[str]:
        """Record a poll's versions (game -> version), made at ``at`` (UTC text); return the games
        to read, in order.

        ``games`` are the games the poll asked about (a HEAD each, after the change feed heard of
        them), ``None`` every stream; a game asked about and not in ``versions`` is missing.
        ``fetched``: the bytes the poll read ahead (game -> (start, bytes to the end of its version)).
        """
        self._answered(self.s3, "s3", now)
        for game, (start, data) in (fetched or {}).items():
            if game in versions and game in self.games:
                self.games[game].ahead = (versions[game], start, data)
        if games is None:
            self._versions, asked = dict(versions), self.games.keys() | versions.keys()
        else:
            asked = set(games)
            for game in asked:
                if game in versions:
                    self._versions[game] = versions[game]
                else:
                    self._versions.pop(game, None)
        for game in sorted(k for k in asked if k not in versions and self._live(k)):
            self._once("warning", f"the stream {self.stream_of(game)} is missing; waiting for it to come back")
        for key in versions.keys() - self.games.keys():
            self.games[key] = Game()
        for key, version in versions.items():
            record = self.games[key]
            if record.changed_at is None and version != record.version:
                record.changed_at, record.changed_tick = at, now
        if not versions and not self.seen:
            self._once("info", f"{WAITING} {self.url} to appear")
        settle = self.rules.settle_seconds
        settled = {key for key in asked if key in self.games and self.games[key].settled(now, settle)}
        for key in settled:
            self.games[key].release()
        self.watch.polled(now, versions, settled)
        candidates = asked | self._unread
        self._unread = {
            game
            for game in candidates
            if game in self._versions and game not in settled and self._versions[game] != self.games[game].version
        }
        return sorted(self._unread)

    def _live(self, game: str) -> bool:
        record = self.games.get(game)
        return record is not None and record.phase is Phase.LIVE

    def unread(self) -> list[str]:
        """The games a poll found changed that are not read at that version yet, in order."""
        return sorted(self._unread)

    def busy(self) -> bool:
        """Whether the loop has work in hand that the next tick does (without a poll): a change not
        yet read, a read in flight or backing off, a box score or record to write, a game to
        finalize, a service backing off. A loop that is not busy can wait for the change feed."""
        return bool(
            self._unread
            or self._stale
            or self._unsaved
            or self.to_finalize
            or self.archive_other_games
            or any(b.failures for b in (self.s3, self.reading, self.mongo, self.finalizing))
            or any(g.unwritten is not None or g.whole_read is not None for g in self.games.values())
        )

    def wake_at(self, now: float) -> float:
        """When the next tick must come at the latest, whatever is heard: a final game's settling
        ends (its stream is let go; the last one's ends the run), or a timeout is due."""
        settle = self.rules.settle_seconds
        finals = (g for g in self.games.values() if g.phase is Phase.FINAL)
        ends = [g.final_at + settle for g in finals if g.final_at + settle > now]
        if self.all_final():
            ends.append(self.last_change + settle)
        ends.append((self.last_change if self.seen else self.started) + self.rules.stall_timeout)
        if not self.seen:
            ends.append(self.started + self.rules.wait_for_stream)
        if self.multi:
            ends.append(self.last_summary + self.rules.summary_every)
        return min(ends)

    # -- read --------------------------------------------------------------------------------

    def reference_due(self, now: float, games: list[str], matchups: Mapping[str, Matchup], read: bool) -> bool:
        """Read the reference tables now? Once first; then, while a game waits for its matchup, at
        most every ``reference_every`` s (not every tick: the tables are three queries)."""
        if not games:
            return False
        if not read:
            return True
        waiting = any(game not in matchups for game in games)
        return waiting and now - self.reference_read_at >= self.rules.reference_every

    def reference_read(self, now: float) -> None:
        self.reference_read_at = now

    def reads(
        self, now: float, games: list[str], matchups: Mapping[str, Matchup], league: League | None
    ) -> dict[str, GameRead]:
        """The reads for these changed games; a game without a matchup or a known team is skipped, said once."""
        todo: dict[str, GameRead] = {}
        if not self.reading.ready(now):
            return todo
        for game in games:
            record = self._game(game)
            if record.whole_read is not None or (
                record.read_backoff is not None and not record.read_backoff.ready(now)
            ):
                continue
            matchup = matchups.get(game)
            if matchup is None or league is None:
                self._once("warning", f"game {game} is not in the games table yet; skipping it")
                continue
            unknown = [team for team in (matchup.home, matchup.away) if team not in league.teams]
            if unknown and not self.multi:
                sides = (("home", matchup.home), ("away", matchup.away))
                named = [f"--{side}-team {team}" for side, team in sides if team in unknown]
                raise UnknownTeam(
                    f"{' and '.join(named)}: not in the teams table ({self.sql}); give a team id it holds"
                )
            if unknown:
                self._once(
                    "warning",
                    f"game {game}: team {', '.join(map(str, unknown))} is not in the teams table; skipping the game",
                )
                continue
            state = None if record.rewritten else record.tally
            version = self._versions[game]
            whole = starts_over(state, version.size) and version.size >= self.rules.dask_block_bytes
            if whole:
                record.whole_read = (version, now)
            todo[game] = GameRead(
                self.stream_of(game),
                frozenset({matchup.home, matchup.away}),
                state,
                version.size,
                0 if self.multi else IDENTITY_BYTES,
                whole,
                None if whole else _fetched(record.ahead, state, version),
            )
            record.ahead = None
        return todo

    def overdue(self, now: float) -> list[str]:
        """Games whose whole read has taken longer than ``read_timeout``: the flow gives up on it."""
        return sorted(g for g, (_, since) in self.whole_reads.items() if now - since > self.rules.read_timeout)

    def read_failed(self, now: float, error: BaseException, games: int) -> None:
        """A tick's read failed (S3 GETs, Dask): read again with its own backoff (polls may succeed)."""
        self._failed(self.reading, "dask", now, error, f"{games} changed stream(s) will be read again")

    def read_done(
        self,
        now: float,
        progress: Mapping[str, Progress | ReadFailed | Rewritten],
        matchups: Mapping[str, Matchup],
        league: League,
    ) -> None:
        """Fold each game's progress and queue its new box score; a game whose read failed backs off alone.

        A whole read's progress is of the version it started from (later ones are read next tick);
        a game found rewritten is read whole from the next tick on.
        """
        for game, step in progress.items():
            record = self._game(game)
            version = record.whole_read[0] if record.whole_read is not None else self._versions.get(game)
            record.whole_read = None
            if isinstance(step, Rewritten):
                record.rewritten = True
                continue
            if isinstance(step, ReadFailed):
                if record.read_backoff is None:
                    record.read_backoff = Backoff(f"game {game or '-'}: reading {self.stream_of(game)}")
                self._say(record.read_backoff.failed(now, step.reason, "its box score stays as it was"))
                self.watch.read_failed()
                continue
            if record.read_backoff is not None:
                self._say(record.read_backoff.succeeded(now))
                record.read_backoff = None
            assert version is not None  # a game is read only after a poll showed it
            before = None if step.full_read else record.tally
            self.watch.folded(
                game,
                events_in(step.state) - events_in(before),
                step.state.rejected - (before.rejected if before else 0),
            )
            record.version, record.tally, record.rewritten = version, step.state, False
            if version == self._versions.get(game):
                self._unread.discard(game)
            if record.phase is Phase.WAITING:
                record.phase = Phase.LIVE
            if step.full_read:
                record.fully_read = True
            tally = step.tally()
            if tally.last_event_id is None:
                self._once(
                    "warning",
                    f"the stream of {game or self.url} has no event; its box score stays as it was",
                    version,  # said again for each version that is still empty
                )
                continue
            game_id = game if self.multi else self._identify(now, game, step)
            if game_id is None:
                continue
            matchup = matchups[game]
            home, away, players = league.sides(matchup.home, matchup.away)
            document = build_boxscore(tally, home, away, players, game_id, self.multi)
            if document == record.final and record.unwritten is None:
                # the final as it is stored (the end-of-game line after the final clock, heard on its
                # own): nothing to write again, no second final to announce or finalize
                record.changed_at, record.changed_tick, record.held_back = None, None, ""
                self.watch.caught_up(now, game)
                continue
            record.unwritten = document
            record.unwritten_seen, record.changed_at, record.held_back = record.changed_at or "", None, ""
            record.unwritten_tick, record.changed_tick = record.changed_tick, None
            if tally.quality.rejected > record.rejected_said:
                new, record.rejected_said = tally.quality.rejected - record.rejected_said, tally.quality.rejected
                first = f"; the first: {tally.quality.examples[0]!r}" if tally.quality.examples else ""
                self._say(
                    Notice(
                        "warning",
                        f"game {game_id}: {new} line(s) rejected, skipped and not counted "
                        f"({tally.quality.rejected} in all: not a valid event of its two teams){first}",
                    )
                )
            for team in (home.id, away.id):
                for jersey in unknown_shooters(tally, team, players):
                    self._once(
                        "warning",
                        f"game {game or '-'} team {team}: jersey {jersey} is not on the roster (shots counted)",
                    )
        self._answered(self.reading, "dask", now)
        if any(isinstance(step, Progress) for step in progress.values()):
            self.last_change = now

    def _identify(self, now: float, game: str, step: Progress) -> str | None:
        """Single mode: the id of the game the stream holds after this read (``None``: not yet known)."""
        record = self.games[game]
        lines = step.lines if step.full_read else record.lines + step.lines
        record.lines = lines = lines[:IDENTITY_BYTES]
        settling = record.phase is Phase.FINAL and not record.settled(now, self.rules.settle_seconds)
        identity = identify(lines, self.records, self.given, settling)
        if identity is None:
            record.held_back = f"the first line of {self.url} is not an event ({opening(lines)!r})"
            self._once("warning", f"{record.held_back}; no box score is written until it is")
            return None
        if identity.game_id != self.game_id:
            self._follow(game, identity.game_id, identity.new, lines)
        self.watch.identified(game, identity.game_id)
        current = self.records[0]
        if not current.final and current.lines != lines:
            self.records[0] = replace(current, lines=lines)
        return identity.game_id

    def _follow(self, game: str, game_id: str, new: bool, lines: bytes) -> None:
        """Start following ``game_id`` on the stream: a new game, a replay or a resumed one."""
        known = next((r for r in self.records if r.game_id == game_id), None)
        if known is None:
            known = GameRecord(game_id, first_line(lines) or "", lines)
        self.records = [known, *(r for r in self.records if r.game_id != game_id)]
        self._unsaved[game_id] = known
        self.game_id = game_id
        record = self.games[game]
        record.final, record.phase = None, Phase.LIVE
        if new:
            self.archive_other_games = True
            self._say(Notice("info", f"a new game on {self.url}: {game_id}"))
            self._once(
                "info",
                "the box scores of every other game in the collection move to its archive, as each new game "
                "starts: one stream's collection holds its current game only (a prefix run needs a "
                "MONGO_COLLECTION of its own)",
            )
        else:
            self._say(Notice("info", f"following game {game_id} on {self.url}"))
        if known.final and known.finalized and known.lines == lines:
            self.already_finalized.add(game_id)
            self._say(Notice("info", f"game {game_id} is already final and finalized: nothing to finalize again"))

    # -- archive -----------------------------------------------------------------------------

    def archive_due(self) -> str | None:
        """Single mode: the game to keep when the others' box scores must move to the archive first."""
        return self.game_id if self.archive_other_games and any(g.unwritten for g in self.games.values()) else None

    def archived(self) -> None:
        self.archive_other_games = False

    # -- write -------------------------------------------------------------------------------

    def to_write(self, now: float) -> list[BoxScore]:
        """The box scores to upsert now (none while MongoDB backs off or an archive is due)."""
        if self.archive_other_games or not self.mongo.ready(now):
            return []
        return [game.unwritten for game in self.games.values() if game.unwritten is not None]

    def seen_at(self, documents: list[BoxScore]) -> dict[str, str]:
        """When the change each of these box scores shows was first seen, by game id (the write's ``seen_at``)."""
        games = (self.games[document["game_id"] if self.multi else SINGLE] for document in documents)
        return {document["game_id"]: game.unwritten_seen for document, game in zip(documents, games, strict=True)}

    def write_failed(self, now: float, error: BaseException, count: int) -> None:
        self._failed(self.mongo, "mongodb", now, error, f"{count} box score(s) kept for the next attempt")

    def written(self, now: float, documents: list[BoxScore]) -> None:
        self._answered(self.mongo, "mongodb", now)
        for document in documents:
            game = document["game_id"] if self.multi else SINGLE
            record = self.games[game]
            self.watch.stored(now, game, document, record.unwritten_tick, caught_up=record.changed_at is None)
            if record.unwritten is document:
                record.unwritten, record.unwritten_tick = None, None
            if record.fully_read or document["game_id"] in self._stale:
                # box scores past the newest one written are stale: one still waiting for its
                # archive moves up to each later box score, which must not be archived with them
                record.fully_read = False
                self._stale[document["game_id"]] = document["event_id"]
            if document["final"]:
                if record.final != document:
                    record.final_at = now
                    self._final_written(game, document)
                record.final, record.phase = document, Phase.FINAL
            # one game: every change is news; a thousand: only the finals, plus a summary
            level: Level = "info" if document["final"] or not self.multi else "debug"
            self._say(Notice(level, f"{game}: {scoreline(document)}" if self.multi else scoreline(document)))
        self.written_since_summary += len(documents)
        if documents and not self.multi:
            self._unshown = documents[-1]

    def to_show(self, now: float) -> BoxScore | None:
        """One game: the written box score for the UI now, if any (``show_every``; a final at once)."""
        document = self._unshown
        if document is None or (not document["final"] and now - self.last_shown < self.rules.show_every):
            return None
        self._unshown, self.last_shown = None, now
        return document

    def stale(self) -> list[tuple[str, int]]:
        """(game id, event id): the game's box scores of later events are stale, to archive.

        Asked after a full read is written: the stream was rewritten (a correction that removed
        lines, or a prefix game id used again by another game), so box scores past its latest
        event no longer describe it and must not be what the page finds. At most
        ``archive_per_tick`` games, the oldest first; the rest keep the loop busy until asked for,
        each past its game's newest box score by then.
        """
        games = list(islice(self._stale, self.rules.archive_per_tick))
        return [(game, self._stale.pop(game)) for game in games]

    def keep_stale(self, stale: list[tuple[str, int]]) -> None:
        """An archive of stale box scores failed: tried again first (a later box score's event wins)."""
        self._stale = {**dict(stale), **self._stale}

    # -- finalize ----------------------------------------------------------------------------

    def _final_written(self, game: str, document: BoxScore) -> None:
        game_id = document["game_id"]
        if not self.multi:
            self.records[0] = replace(
                self.records[0], lines=self.games[game].lines, final=True, finalized=game_id in self.already_finalized
            )
            self._unsaved[game_id] = self.records[0]
        if self.rules.finalize and game_id not in self.already_finalized:
            self.to_finalize.add(game_id)
        self.already_finalized.discard(game_id)  # a later change of it is a correction: finalize again

    def all_final(self) -> bool:
        read = [game for game in self.games.values() if game.version is not None]
        return (
            bool(read)
            and all(game.phase is Phase.FINAL for game in read)
            and not any(game.unwritten is not None or game.whole_read is not None for game in self.games.values())
        )

    def finalize_due(self, now: float) -> bool:
        """When a game ends; with many games at most every ``finalize_every`` s, and once all are final."""
        return (
            bool(self.to_finalize)
            and self.finalizing.ready(now)
            and (self.all_final() or now - self.last_finalized >= self.rules.finalize_every)
        )

    def finalize_failed(self, now: float, error: BaseException) -> None:
        """Finalize failed: the games stay to finalize, tried again with backoff; the others go on."""
        waiting = f"{len(self.to_finalize)} final game(s) are finalized at the next attempt"
        self._failed(self.finalizing, "sql", now, error, waiting)

    def finalized(self, now: float, games: set[str]) -> None:
        """These games' results are in the season tables (finalize has marked their records)."""
        self._answered(self.finalizing, "sql", now)
        self.watch.finalized(sorted(games))
        self.to_finalize -= games
        self.last_finalized = now
        self.records = [replace(r, finalized=True) if r.game_id in games else r for r in self.records]

    def keep_unsaved(self, records: list[tuple[int, GameRecord]]) -> None:
        """Records that could not be saved: saved with the next ones."""
        for _, record in records:
            self._unsaved.setdefault(record.game_id, record)

    def records_to_save(self) -> list[tuple[int, GameRecord]]:
        """Single mode: the game records changed since the last call, each with its rank (newest highest)."""
        rank = {record.game_id: len(self.records) - index for index, record in enumerate(self.records)}
        saved, self._unsaved = self._unsaved, {}
        return sorted((rank[record.game_id], record) for record in saved.values())

    # -- end of tick -------------------------------------------------------------------------

    def finished(self, now: float) -> bool:
        """Whether the run is over; raises :class:`StreamTimeout` when it can never end well.

        Every timeout counts from the run's start or the last change, whatever the polls, reads
        and writes did meanwhile, so an unreachable service ends the run with its name.
        """
        if not self.seen and now - self.started > self.rules.wait_for_stream:
            raise StreamTimeout(f"nothing could be followed within {self.rules.wait_for_stream:.0f} s: {self._why()}")
        if not self.all_final() and self.seen and now - self.last_change > self.rules.stall_timeout:
            raise StreamTimeout(
                f"{self.url} has not changed for {self.rules.stall_timeout:.0f} s{self._failing()}{self._held_back()}"
                "; --stall-timeout waits longer"
            )
        if self.to_finalize and self.finalizing.failures and now - self.finalizing.since > self.rules.stall_timeout:
            raise StreamTimeout(
                f"{self.finalizing.service} kept failing for {self.rules.stall_timeout:.0f} s "
                f"({self.finalizing.reason}); games not finalized: {', '.join(sorted(self.to_finalize))}"
            )
        if self.multi and now - self.last_summary >= self.rules.summary_every:
            self._say(
                Notice(
                    "info",
                    f"following {len(self.seen)} games ({len(self.finals)} final): "
                    f"{self.written_since_summary} box scores written in {now - self.last_summary:.0f} s",
                )
            )
            self.last_summary, self.written_since_summary = now, 0
        return self.all_final() and not self.to_finalize and now - self.last_change >= self.rules.settle_seconds

    def _why(self) -> str:
        """Why no game was followed: the failing service, unmatched games, or no stream at all."""
        for service in (self.s3, self.reading):
            if service.failures:
                return f"{service.service} keeps failing ({service.reason})"
        if self.games:
            games = ", ".join(sorted(self.games)[:5]) if self.multi else self.url
            return f"no game could be read ({games}): no matchup of known teams in the games table ({self.sql})"
        return f"{self.url} did not appear: check GAMESTREAM_URL, or start the feed; --wait-for-stream waits longer"

    def _held_back(self) -> str:
        """Why a stream that was read gives no box score: said with a stall, which it explains."""
        reasons = sorted({game.held_back for game in self.games.values() if game.held_back})
        return "".join(f"; no box score was written: {reason}: correct the feed" for reason in reasons)

    def _failing(self) -> str:
        failing = [f"; {b.service} keeps failing ({b.reason})" for b in (self.s3, self.reading) if b.failures]
        return "".join(failing)

    def pause(self, tick_started: float, now: float) -> float:
        """Seconds to wait before the next tick, so ticks start ``poll_interval`` apart."""
        return max(0.0, self.rules.poll_interval - (now - tick_started))
