"""The whole live loop through :func:`boxscore.step.step`, with fake time and fake observations.

``World`` answers each effect the way the flow's adapters would (from bytes in memory, a dict
for MongoDB, services that can be down), so these tests run the loop's real order of a tick,
from the first poll to finalized, with no server. The expected values are hand counts of the
few lines each stream holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from boxscore import step as s
from boxscore.feed import Feed, Heard
from boxscore.games import Matchup
from boxscore.identity import GameRecord
from boxscore.live import SINGLE, GameRead, LiveLoop, LoopRules, StreamTimeout
from boxscore.running import Reader, advance, full_read, next_range
from boxscore.watch import Figures, Moment
from tests.helpers import reader
from tests.unit.test_live import AWAY, FINAL, GAME_A, HOME, LEAGUE, LIVE, version

Script = Callable[[float], dict[str, bytes]]  # the streams in the bucket at a time


@dataclass
class World:
    """The services as the loop sees them: the bucket at each time, MongoDB, SQL, Dask, finalize."""

    script: Script
    down: Callable[[float], set[str]] = lambda now: set()  # services down at a time: s3, mongo, dask, finalize
    records: list[GameRecord] = field(default_factory=list)  # the single stream's stored game records
    stored: dict[Any, dict[str, Any]] = field(default_factory=dict)  # _id -> box score, as MongoDB holds them
    archived: list[str] = field(default_factory=list)
    finalized: list[list[str]] = field(default_factory=list)
    logs: list[tuple[str, str]] = field(default_factory=list)
    effects: list[str] = field(default_factory=list)  # each effect's name, in order
    now: float = 0.0
    whole: dict[str, Any] = field(default_factory=dict)  # whole reads in flight: game -> the read
    #: effects (by name) that fail at a time, whatever the services: one write among a tick's writes
    broken: Callable[[str, float], bool] = lambda effect, now: False
    whole_done_at: float = 0.0  # whole reads finish from this time on (before it they hang)
    overdue: list[list[str]] = field(default_factory=list)  # each CollectWholeReads' overdue games
    stale: list[list[tuple[str, int]]] = field(default_factory=list)  # each ArchiveStale's games
    shown: list[int] = field(default_factory=list)  # the event id of each box score shown in the UI
    figures: list[Figures] = field(default_factory=list)  # each tick's figures, in order
    moments: list[Moment] = field(default_factory=list)  # each moment announced, in order
    games_shown: list[dict[str, Any]] = field(default_factory=list)  # each table of games shown in the UI
    upserted: list[float] = field(default_factory=list)  # when each upsert succeeded
    #: each schedule write: its games (id, status) and the planned games it put on the schedule
    scheduled: list[tuple[list[tuple[str, str]], list[str]]] = field(default_factory=list)
    released: list[float] = field(default_factory=list)  # when the run let go of its Dask workers
    #: each schedule write: when, and each game's (status, home score, away score) in it
    schedule_writes: list[tuple[float, list[tuple[str, int, int]]]] = field(default_factory=list)
    costs: dict[str, float] = field(default_factory=dict)  # seconds an effect takes (by name); others none
    #: (when, game) of each range the reads asked S3 for
    ranges_read: list[tuple[float, str]] = field(default_factory=list)

    def reader(self, game: str, data: bytes, read: GameRead) -> Reader:
        """The stream's bytes as the tick's read gets them: the poll's read-ahead for the range it
        starts with, any other range from S3 (each such request counted in ``ranges_read``)."""

        def read_range(start: int, end: int) -> bytes:
            if read.fetched is not None and (start, end) == next_range(read.state, read.size):
                return read.fetched
            self.ranges_read.append((self.now, game))
            return data[start:end]

        return read_range

    def failed(self, service: str) -> s.Failed | None:
        return s.Failed(ConnectionError(f"{service} is down")) if service in self.down(self.now) else None

    def answer(self, effect: s.Effect) -> s.Observation | None:
        """What carrying out the effect returns, once the time it takes (``costs``) has passed."""
        seen = self._answer(effect)
        self.now = round(self.now + self.costs.get(type(effect).__name__, 0.0), 3)
        return seen

    def _answer(self, effect: s.Effect) -> s.Observation | None:
        name = type(effect).__name__
        self.effects.append(name)
        streams = self.script(self.now)
        if self.broken(name, self.now):
            return s.Failed(ConnectionError(f"{name} failed"))
        match effect:
            case s.ReadGameRecords():
                return s.GameRecordsRead(list(self.records))
            case s.Poll():
                versions = {game: version(data) for game, data in streams.items()}
                return self.failed("s3") or s.Polled(versions, wall(self.now))
            case s.ReadReference():
                return s.ReferenceRead({game: Matchup(game, HOME, AWAY) for game in streams}, LEAGUE)
            case s.SubmitWholeReads(reads):
                self.whole.update(reads)
                return s.WholeReadsSubmitted({})
            case s.ReadStreams(reads):
                return self.failed("dask") or s.StreamsRead(
                    {
                        game: advance(
                            read.state, self.reader(game, streams[game], read), read.size, read.teams, read.keep, 10**9
                        )
                        for game, read in reads.items()
                    }
                )
            case s.CollectWholeReads(overdue):
                self.overdue.append(list(overdue))
                for game in overdue:
                    self.whole.pop(game)  # the flow cancels it
                if self.now < self.whole_done_at:
                    return s.WholeReadsCollected({})
                done = {
                    game: full_read(reader(streams[game]), read.size, read.teams, read.keep)
                    for game, read in self.whole.items()
                }
                self.whole = {}
                return s.WholeReadsCollected(done)
            case s.ArchiveOtherGames(keep):
                if failed := self.failed("mongo"):
                    return failed
                self.archived += [i for i, d in self.stored.items() if d["game_id"] != keep]
                self.stored = {i: d for i, d in self.stored.items() if d["game_id"] == keep}
                return s.Done()
            case s.Upsert(documents, seen_at):
                if failed := self.failed("mongo"):
                    return failed
                self.stored.update({d["_id"]: {**d, "seen_at": seen_at[d["game_id"]]} for d in documents})
                self.upserted.append(self.now)
                return s.Done()
            case s.WriteSchedule(games, planned):
                if failed := self.failed("mongo"):
                    return failed
                self.scheduled.append(([(g["game_id"], g["status"]) for g in games], [g["game_id"] for g in planned]))
                self.schedule_writes.append(
                    (self.now, [(g["status"], g["home_score"], g["away_score"]) for g in games])
                )
                return s.Done()
            case s.Show(document):
                self.shown.append(document["event_id"])
            case s.ArchiveStale() | s.SaveGameRecords():
                if isinstance(effect, s.ArchiveStale) and not self.failed("mongo"):
                    self.stale.append(list(effect.stale))
                if isinstance(effect, s.SaveGameRecords) and not self.failed("mongo"):
                    saved = {record.game_id: record for _, record in effect.records}
                    self.records = [saved.pop(r.game_id, r) for r in self.records] + list(saved.values())
                return self.failed("mongo") or s.Done()
            case s.Finalize(games):
                if failed := self.failed("finalize"):
                    return failed
                self.finalized.append(list(games))
                return s.Done()
            case s.Log(level, message):
                self.logs.append((level, message))
            case s.Measure(figures):
                self.figures.append(figures)
            case s.Announce(moment):
                self.moments.append(moment)
            case s.ShowGames(games):
                self.games_shown.append(dict(games))
            case s.ReleaseWorkers():
                self.released.append(self.now)
        return None


def wall(now: float) -> str:
    """The wall clock at the loop's time ``now`` (UTC text, as the flow stamps a poll)."""
    return f"2026-03-14T18:{int(now) // 60:02d}:{int(now) % 60:02d}.{round(now % 1 * 1e6):06d}Z"


def run(
    world: World,
    loop: LiveLoop[Any],
    until: float = 600.0,
    feed: Feed | None = None,
    heard: Callable[[float], Heard] | None = None,
) -> Any:
    """The flow's interpreter, with the time advanced by each Sleep (or, with a ``feed``, by each
    wait, as ``heard`` answers it): the run's result."""
    state, observations = s.LoopState.start(loop, feed), []
    while world.now <= until:
        state, effects = s.step(state, world.now, observations)
        observations = [seen for effect in effects if (seen := world.answer(effect)) is not None]
        last = effects[-1]
        if isinstance(last, s.Stop):
            return last.result
        if isinstance(last, s.Fail):
            raise last.error
        if isinstance(last, s.Sleep):
            world.now = round(world.now + max(last.seconds, 0.5), 3)  # each tick takes no time here
        if isinstance(last, s.AwaitChanges):
            assert heard is not None  # a run awaits changes only with a feed
            observations = [heard(last.seconds)]
    raise AssertionError(f"still running at {world.now}: {world.effects[-12:]}")


def single(**rules: Any) -> LiveLoop[Any]:
    return LiveLoop("s3://games/gamestream.txt", False, LoopRules(**rules), 0.0, "mongodb://db")


def multi(**rules: Any) -> LiveLoop[Any]:
    return LiveLoop("s3://games/saturday/", True, LoopRules(**rules), 0.0, "mongodb://db")


def at(*changes: tuple[float, dict[str, bytes]]) -> Script:
    """The bucket: from each time on, these streams (the last change before ``now``)."""
    return lambda now: next((streams for t, streams in reversed(changes) if now >= t), {})


GAME = at((2.0, {SINGLE: LIVE}), (5.0, {SINGLE: FINAL}))  # no stream, then 1-0 live, then final at 5 s


def test_a_game_from_the_first_poll_to_finalized_in_the_order_of_a_tick() -> None:
    world = World(GAME)
    final = run(world, single(settle_seconds=3.0, poll_interval=1.0))
    assert (final["game_id"], final["event_id"], final["final"]) == (GAME_A, 2, True)
    assert (final["home"]["score"], final["away"]["score"]) == (1, 0)  # one goal of 101's jersey 6
    assert world.finalized == [[GAME_A]]
    assert {d["event_id"] for d in world.stored.values()} == {1, 2}  # the live box score, then the final
    quiet = ["Poll", "Measure", "Sleep"]  # a tick with nothing new
    assert [e for e in world.effects if e not in ("Log", "Announce")] == [
        "ReadGameRecords",
        *quiet,  # 0 s: no stream yet
        *quiet,  # 1 s
        # 2 s: the stream appears: the tables, the read, a new game (the others archived first), written
        # (a first read is a full read: later box scores are stale), its record saved, shown in the UI
        *["Poll", "ReadReference", "ReadStreams", "ArchiveOtherGames", "Upsert", "WriteSchedule", "ArchiveStale"],
        *["SaveGameRecords", "Show", "Measure", "Sleep"],
        *quiet,  # 3 s
        *quiet,  # 4 s
        *["Poll", "ReadStreams", "Upsert", "WriteSchedule", "SaveGameRecords", "Show", "Finalize"],  # 5 s: the final
        *["Measure", "Sleep"],
        *quiet,  # 6 s
        *quiet,  # 7 s
        "Poll",
        "Measure",
        "Stop",  # 8 s: settle_seconds after the final
    ]
    assert world.records[0].final and world.records[0].game_id == GAME_A
    assert ("info", "waiting for the stream s3://games/gamestream.txt to appear") in world.logs


@pytest.mark.parametrize(
    ("service", "since"),
    [("s3", 2.0), ("dask", 2.0), ("mongo", 2.0), ("mongo", 4.0), ("finalize", 2.0)],
    ids=["s3", "dask", "mongo-before-the-first-write", "mongo-at-the-final", "finalize"],
)
def test_an_outage_of_each_service_is_waited_out_and_nothing_is_lost(service: str, since: float) -> None:
    """Down from ``since`` to 9 s: the loop backs off, says so, and ends with the exact final stored."""
    world = World(GAME, down=lambda now: {service} if since <= now < 9.0 else set())
    final = run(world, single(settle_seconds=3.0))
    assert (final["home"]["score"], final["away"]["score"], final["event_id"]) == (1, 0, 2)
    assert world.stored[final["_id"]]["final"] and world.stored[final["_id"]]["event_id"] == 2
    assert world.finalized == [[GAME_A]]
    warnings = [message for level, message in world.logs if level == "warning"]
    assert warnings and all("is down" in message and "next attempt in" in message for message in warnings)
    assert any("answers again after" in message for _, message in world.logs)


def test_each_box_score_says_when_the_poll_first_saw_its_change_however_late_it_is_stored() -> None:
    """The stream appears at 2 s and turns final at 5 s; Dask is down from 2 s to 2.5 s, MongoDB
    from 5 s to 5.5 s: each box score's seen_at is its change's first poll, not its read or write."""
    down = {"dask": (2.0, 2.5), "mongo": (5.0, 5.5)}
    world = World(GAME, down=lambda now: {name for name, (a, b) in down.items() if a <= now < b})
    run(world, single(settle_seconds=3.0))
    live, final = world.stored[1], world.stored[2]
    assert (live["seen_at"], final["seen_at"]) == (wall(2.0), wall(5.0))
    assert world.effects.count("Upsert") >= 3  # the final's first write failed and was made again


def test_a_stream_that_never_appears_fails_the_run_within_wait_for_stream() -> None:
    with pytest.raises(StreamTimeout, match="did not appear"):
        run(World(at()), single(wait_for_stream=10.0))


def test_a_big_first_read_is_a_whole_read_submitted_then_collected() -> None:
    world = World(at((0.0, {"a": FINAL})))
    finals = run(world, multi(dask_block_bytes=len(LIVE), settle_seconds=2.0))
    assert finals["a"]["event_id"] == 2 and finals["a"]["home"]["score"] == 1
    plain = [e for e in world.effects if e != "Log"]
    assert plain[:5] == ["Poll", "ReadReference", "SubmitWholeReads", "CollectWholeReads", "Upsert"]
    assert "ReadStreams" not in plain  # the only read was the whole one


def test_the_schedule_gets_a_live_game_at_most_every_schedule_every_with_its_latest_score_and_a_final_at_once() -> None:
    first = b"0 59:00 101 6 1\n"  # 101 scores: 1-0
    tied = LIVE + b"2 57:00 205 1 1\n"  # a 205 shot (no goal), then a 205 goal: 1-1
    world = World(
        at(
            (2.0, {SINGLE: first}),
            (3.0, {SINGLE: LIVE}),
            (4.0, {SINGLE: tied}),
            (20.0, {SINGLE: tied + b"3 00:00 0 0 0\n"}),
        )
    )
    run(world, single(settle_seconds=3.0, poll_interval=1.0, schedule_every=5.0))
    assert world.upserted == [2.0, 3.0, 4.0, 20.0]  # a box score at every change
    assert world.schedule_writes == [
        (2.0, [("live", 1, 0)]),  # the first at once
        (7.0, [("live", 1, 1)]),  # the 3 s and 4 s box scores waited: the latest, 5 s after the last write
        (20.0, [("final", 1, 1)]),  # a final at once
    ]


def test_a_schedule_write_that_takes_long_is_made_less_often_so_it_holds_the_loop_schedule_share_of_its_time() -> None:
    # a box score every second from 2 s to 39 s, then the final at 60 s; each schedule write takes 2 s
    lines = [f"{n} {59 - n}:00 101 6 0\n".encode() for n in range(1, 39)]
    changes = [(1.0 + n, {SINGLE: b"".join(lines[:n])}) for n in range(1, 39)]
    world = World(at(*changes, (60.0, {SINGLE: b"".join(lines) + b"39 00:00 0 0 0\n"})), costs={"WriteSchedule": 2.0})
    run(world, single(settle_seconds=3.0, poll_interval=1.0, schedule_every=5.0, schedule_share=0.1))
    # the first at once (over at 4 s), then 2 s / 0.1 = 20 s after each write is over, at the first
    # tick from then (a tick after a write starts 0.5 s on here); the final at the tick that reads it
    assert [when for when, _ in world.schedule_writes] == [2.0, 24.5, 47.0, 60.5]
    assert [games for _, games in world.schedule_writes][1:] == [[("live", 0, 0)], [("live", 0, 0)], [("final", 0, 0)]]


def test_a_schedule_write_that_fails_slowly_does_not_put_the_next_one_off() -> None:
    # the first write fails after 2 s (a client's timeout): tried again schedule_every after, not 20 s
    lines = [f"{n} {59 - n}:00 101 6 0\n".encode() for n in range(1, 20)]
    changes = [(1.0 + n, {SINGLE: b"".join(lines[:n])}) for n in range(1, 20)]
    world = World(
        at(*changes, (30.0, {SINGLE: b"".join(lines) + b"20 00:00 0 0 0\n"})),
        costs={"WriteSchedule": 2.0},
        broken=lambda effect, now: effect == "WriteSchedule" and now < 3.0,
    )
    run(world, single(settle_seconds=3.0, poll_interval=1.0, schedule_every=5.0, schedule_share=0.1))
    assert [when for when, _ in world.schedule_writes][:1] == [9.5]  # 4 s + 5 s, at the next tick


def test_the_workers_are_let_go_after_release_workers_after_without_a_read_and_again_after_the_next() -> None:
    # read at 2 s (1-0), nothing new until the final at 80 s, read then; the run stops at 83 s
    world = World(at((2.0, {SINGLE: LIVE}), (80.0, {SINGLE: FINAL})))
    run(world, single(settle_seconds=3.0, poll_interval=1.0, release_workers_after=30.0))
    assert world.released == [32.0]  # the first tick ending 30 s after the read; none after the final's read
    reads = [i for i, e in enumerate(world.effects) if e == "ReadStreams"]
    release = world.effects.index("ReleaseWorkers")
    assert len(reads) == 2 and reads[0] < release < reads[1]
    assert world.effects[release + 1] == "Sleep"  # let go at the end of a tick, before its wait

    world = World(at((2.0, {SINGLE: LIVE}), (40.0, {SINGLE: LIVE + b"2 30:00 205 1 0\n"}), (120.0, {SINGLE: FINAL})))
    run(world, single(settle_seconds=3.0, poll_interval=1.0, release_workers_after=30.0))
    assert world.released == [32.0, 70.0]  # reads at 2, 40 and 120 s: each starts the clock again; stopped at 123 s


def test_the_workers_are_kept_while_a_whole_read_is_out() -> None:
    world = World(at((0.0, {"a": FINAL})), whole_done_at=5.0)
    run(world, multi(dask_block_bytes=len(LIVE), settle_seconds=10.0, release_workers_after=2.0))
    assert world.released == [7.0]  # submitted at 0 s, collected at 5 s: let go 2 s after the collect's tick


def test_two_games_in_a_prefix_are_each_counted_once_and_finalized() -> None:
    other = b"0 59:30 205 1 1\n1 40:00 205 1 1\n2 00:00 0 0 0\n"  # 205's jersey 1 scores twice
    world = World(at((0.0, {"a": LIVE}), (1.0, {"a": LIVE, "b": other}), (3.0, {"a": FINAL, "b": other})))
    finals = run(world, multi(settle_seconds=2.0, finalize_every=0.0))
    assert sorted(finals) == ["a", "b"]
    assert (finals["a"]["home"]["score"], finals["a"]["away"]["score"]) == (1, 0)
    assert (finals["b"]["home"]["score"], finals["b"]["away"]["score"]) == (0, 2)
    assert sorted(game for games in world.finalized for game in games) == ["a", "b"]
    # the season's schedule: each game as written, live then final; each planned game put on it once
    written = [game for games, _ in world.scheduled for game in games]
    assert [status for game, status in written if game == "a"] == ["live", "final"]
    assert [status for game, status in written if game == "b"] == ["final"]
    assert sorted(game for _, planned in world.scheduled for game in planned) == ["a", "b"]


def test_a_single_stream_plans_no_game_on_the_schedule() -> None:
    world = World(GAME)
    run(world, single(settle_seconds=3.0))
    assert world.scheduled == [([(GAME_A, "live")], []), ([(GAME_A, "final")], [])]


def test_a_restart_from_stored_records_continues_the_game_and_archives_nothing() -> None:
    started = GameRecord(GAME_A, "0 59:00 101 6 1", LIVE)
    world = World(at((0.0, {SINGLE: FINAL})), records=[started])
    world.stored[1] = {"_id": 1, "game_id": GAME_A, "event_id": 1}
    final = run(world, single(settle_seconds=1.0))
    assert final["game_id"] == GAME_A and world.archived == []
    assert "ArchiveOtherGames" not in world.effects
    assert ("info", f"following game {GAME_A} on s3://games/gamestream.txt") in world.logs


def test_a_restart_on_a_finalized_game_does_not_finalize_it_again() -> None:
    finished = GameRecord(GAME_A, "0 59:00 101 6 1", FINAL, final=True, finalized=True)
    world = World(at((0.0, {SINGLE: FINAL})), records=[finished])
    run(world, single(settle_seconds=1.0))
    assert world.finalized == [] and "Finalize" not in world.effects
    assert world.schedule_writes == []  # its entry is finalize's, counted as it was: not rewritten uncounted


def test_a_game_this_run_finalized_is_left_to_finalize_on_the_schedule_even_when_corrected() -> None:
    corrected = FINAL.replace(b"1 58:00 205 1 0", b"1 58:00 205 1 1")  # the scorer: that was a goal (1-1)
    world = World(at((0.0, {SINGLE: FINAL}), (2.0, {SINGLE: corrected})))
    run(world, single(settle_seconds=4.0, finalize_every=0.0))
    assert world.finalized == [[GAME_A], [GAME_A]]  # the final, then the correction
    assert world.schedule_writes == [(0.0, [("final", 1, 0)])]  # the live flow's one write: before finalize


def test_an_observation_that_does_not_answer_the_effect_is_refused() -> None:
    state, effects = s.step(s.LoopState.start(single()), 0.0)
    assert isinstance(effects[-1], s.ReadGameRecords)
    with pytest.raises(ValueError, match="Polled does not answer"):
        s.step(state, 0.0, [s.Polled({})])


MONGO_DOWN = (
    "MongoDB (mongodb://db) failed (ConnectionError: {} failed); "
    "{} box score(s) kept for the next attempt, next attempt in 1 s"
)


@pytest.mark.parametrize(
    ("effect", "kept"),
    [("ArchiveOtherGames", 1), ("Upsert", 1), ("WriteSchedule", 0), ("ArchiveStale", 0), ("SaveGameRecords", 0)],
)
def test_each_write_failing_once_says_what_it_keeps_and_is_done_at_the_next_attempt(effect: str, kept: int) -> None:
    """At 2 s, the first read's tick: one of its writes fails; the next tick does it again."""
    world = World(GAME, broken=lambda name, now: name == effect and now == 2.0)
    final = run(world, single(settle_seconds=3.0))
    assert (final["event_id"], final["home"]["score"], world.finalized) == (2, 1, [[GAME_A]])
    assert ("warning", MONGO_DOWN.format(effect, kept)) in world.logs
    assert any(message.startswith("MongoDB (mongodb://db) answers again after") for _, message in world.logs)
    # a failed archive of stale box scores is done with the next write, past the box score it added
    assert world.stale == [[(GAME_A, 2 if effect == "ArchiveStale" else 1)]]
    assert world.records[0].final and world.records[0].game_id == GAME_A  # the game record saved all the same
    assert {d["event_id"] for d in world.stored.values()} >= {2}


def test_the_writes_carry_their_games_the_ui_is_shown_each_box_score_and_nothing_is_kept_after() -> None:
    world = World(GAME)
    state, observations, stages = s.LoopState.start(single(settle_seconds=3.0)), [], []
    while not world.effects or world.effects[-1] not in ("Stop", "Fail"):
        state, effects = s.step(state, world.now, observations)
        observations = [seen for effect in effects if (seen := world.answer(effect)) is not None]
        stages.append((state.stage, state.written, state.saving))
        if isinstance(effects[-1], s.Sleep):
            world.now += 1.0
    assert world.shown == [1, 2]  # the live box score, then the final
    assert world.stale == [[(GAME_A, 1)]]  # the first read was a full read: later events are stale
    assert all(len(written) == 0 for stage, written, _ in stages if stage is not s.Stage.UPSERTING)
    assert all(len(saving) == 0 for stage, _, saving in stages if stage is not s.Stage.SAVING_RECORDS)


def test_a_new_game_archives_only_the_other_games() -> None:
    world = World(GAME)
    world.stored = {"old": {"_id": "old", "game_id": "g-old", "event_id": 9}, 7: {"_id": 7, "game_id": GAME_A}}
    run(world, single(settle_seconds=1.0))
    assert world.archived == ["old"] and 7 in world.stored


def test_a_read_failing_twice_is_said_with_its_count_and_recovers_only_with_a_read() -> None:
    """Reads fail at 2 and 3 s (next attempts 3 and 5 s): the 4 s tick reads nothing."""
    world = World(GAME, down=lambda now: {"dask"} if now < 3.5 else set())
    run(world, single(settle_seconds=3.0))
    reading = "reading S3 (s3://games/gamestream.txt)"
    failed = f"{reading} failed (ConnectionError: dask is down); 1 changed stream(s) will be read again"
    assert world.logs[1:3] == [
        ("warning", f"{failed}, next attempt in 1 s"),
        ("warning", f"{failed}, next attempt in 2 s"),
    ]
    assert ("info", f"{reading} answers again after 3 s") in world.logs


def test_a_whole_read_that_hangs_is_given_up_after_read_timeout_and_read_again() -> None:
    world = World(at((0.0, {"a": FINAL})), whole_done_at=3.5)
    finals = run(world, multi(dask_block_bytes=len(LIVE), settle_seconds=2.0, read_timeout=2.0))
    assert finals["a"]["event_id"] == 2
    assert world.overdue[:4] == [[], [], [], ["a"]]  # submitted at 0 s, overdue at 3 s (> 2 s)
    assert (
        "warning",
        "game a: reading s3://games/saturday/a.txt failed (the whole read did not finish within 2 s); "
        "its box score stays as it was, next attempt in 1 s",
    ) in world.logs


def test_a_stage_that_waits_for_an_observation_needs_one() -> None:
    state, _ = s.step(s.LoopState.start(single()), 0.0)
    with pytest.raises(ValueError, match=r"^stage GAME_RECORDS waits for an observation$"):
        s.step(state, 0.0)


@pytest.mark.parametrize(
    "observation",
    [s.ReferenceRead({}, LEAGUE), s.WholeReadsSubmitted({}), s.WholeReadsCollected({}), s.GameRecordsRead([])],
    ids=lambda o: type(o).__name__,
)
def test_each_observation_is_refused_where_no_effect_of_its_kind_waits(observation: s.Observation) -> None:
    state = s.LoopState(single(), stage=s.Stage.POLL)
    with pytest.raises(ValueError, match=f"^{type(observation).__name__} does not answer the effect of stage POLL$"):
        s.step(state, 0.0, [observation])
