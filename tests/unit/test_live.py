"""The live loop's rules with fake time: no server, no clock, no Prefect.

Each test plays the flow's part (poll, read, write, finalize) against :class:`LiveLoop`, with the
time as plain numbers, and checks what the loop decides and says.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pytest

from boxscore.games import Matchup
from boxscore.identity import IDENTITY_BYTES, GameRecord
from boxscore.live import SINGLE, WAITING, Backoff, GameRead, LiveLoop, LoopRules, Notice, StreamTimeout, UnknownTeam
from boxscore.roster import League, Player, Team
from boxscore.running import Progress, advance, full_read
from tests.helpers import reader

HOME, AWAY = 101, 205
LEAGUE = League.of(
    [Team(HOME, "syracuse", "acc", 11, 2), Team(AWAY, "johns hopkins", "big10", 9, 4)],
    [Player(1, "sam", "6", 0, 0, HOME), Player(11, "jimmy", "1", 0, 0, AWAY)],
)
LIVE = b"0 59:00 101 6 1\n1 58:00 205 1 0\n"  # syracuse 1 - 0, game on
FINAL = LIVE + b"2 00:00 0 0 0\n"  # the clock at 00:00: final


@dataclass(frozen=True)
class Version:
    etag: str
    size: int


def version(data: bytes) -> Version:
    return Version(str(hash(data)), len(data))


def progress(data: bytes) -> Progress:
    return full_read(reader(data), len(data), frozenset({HOME, AWAY}), IDENTITY_BYTES)


GAME_A = "g" + hashlib.sha256(b"0 59:00 101 6 1").hexdigest()[:12]  # README's rule, worked out here


def single(**rules: float) -> LiveLoop[Version]:
    return LiveLoop("s3://games/gamestream.txt", False, LoopRules(**rules), 0.0, "mongodb://db")  # type: ignore[arg-type]


def multi(**rules: float) -> LiveLoop[Version]:
    return LiveLoop("s3://games/saturday/", True, LoopRules(**rules), 0.0, "mongodb://db")  # type: ignore[arg-type]


def tick(loop: LiveLoop[Version], now: float, streams: dict[str, bytes]) -> list[str]:
    """One tick as the flow runs it when S3 and MongoDB answer: poll, read, write."""
    games = loop.polled(now, {game: version(data) for game, data in streams.items()})
    matchups = {game: Matchup(game, HOME, AWAY) for game in games}
    reads = loop.reads(now, games, matchups, LEAGUE)
    loop.read_done(now, {game: progress(streams[game]) for game in reads}, matchups, LEAGUE)
    if loop.archive_due() is not None:
        loop.archived()
    documents = loop.to_write(now)
    if documents:
        loop.written(now, documents)
    return games


LEVELS = {"debug", "info", "warning"}  # the levels the flow maps to logging's (flows/live_boxscore.py)


def messages(loop: LiveLoop[Version], level: str | None = None) -> list[str]:
    """What the loop said since the last call (of one level); each notice must carry a level the flow logs."""
    said = loop.notices()
    assert {n.level for n in said} <= LEVELS, [n for n in said if n.level not in LEVELS]
    return [n.message for n in said if level is None or n.level == level]


def test_backoff_doubles_from_1_to_15_s_and_reports_the_recovery() -> None:
    backoff, now, delays = Backoff("S3 (s3://games/x.txt)"), 100.0, []
    for _ in range(7):
        assert backoff.ready(now)
        notice = backoff.failed(now, ConnectionError("no route"), "keeping the box scores")
        delays.append(backoff.next_try - now)
        assert not backoff.ready(now + delays[-1] - 0.01)
        now += delays[-1]
    assert delays == [1, 2, 4, 8, 15, 15, 15]
    assert notice == Notice(
        "warning",
        "S3 (s3://games/x.txt) failed (ConnectionError: no route); keeping the box scores, next attempt in 15 s",
    )
    assert backoff.succeeded(now) == Notice("info", "S3 (s3://games/x.txt) answers again after 60 s")
    assert backoff.succeeded(now + 1) is None  # nothing to report once it answers
    assert backoff.ready(now)


def test_an_s3_outage_pauses_polling_by_backoff_and_a_poll_ends_it() -> None:
    loop = single()
    tick(loop, 0.0, {SINGLE: LIVE})
    loop.notices()
    attempts = []
    now = 1.0
    while now < 30:
        if loop.poll_due(now):
            attempts.append(now)
            loop.poll_failed(now, TimeoutError("read timed out"))
        now += 0.25
    assert attempts == [1.0, 2.0, 4.0, 8.0, 16.0]  # every 0.25 s tick wanted to poll; backoff let five through
    assert messages(loop)[-1].endswith("keeping the box scores as they are, next attempt in 15 s")
    assert not tick(loop, 31.0, {SINGLE: LIVE})  # nothing changed meanwhile: nothing to read
    assert messages(loop) == ["S3 (s3://games/gamestream.txt) answers again after 30 s"]


def test_mongodb_down_keeps_the_newest_box_score_until_a_write_succeeds() -> None:
    loop = single()
    loop.polled(0.0, {SINGLE: version(LIVE)})
    loop.read_done(0.0, {SINGLE: progress(LIVE)}, {SINGLE: Matchup(SINGLE, HOME, AWAY)}, LEAGUE)
    assert loop.to_write(0.0) == [] and loop.archive_due() == GAME_A  # a new game: archive the others first
    loop.archived()
    (document,) = loop.to_write(0.0)
    loop.write_failed(0.0, ConnectionError("refused"), 1)
    assert loop.to_write(0.5) == []  # backing off
    loop.polled(0.6, {SINGLE: version(FINAL)})
    loop.read_done(0.6, {SINGLE: progress(FINAL)}, {SINGLE: Matchup(SINGLE, HOME, AWAY)}, LEAGUE)
    (newest,) = loop.to_write(1.0)  # only the newest box score of the game is kept
    assert (document["_id"], newest["_id"], newest["final"]) == (1, 2, True)
    loop.written(1.0, [newest])
    assert loop.unwritten == {} and loop.finals == {SINGLE: newest}
    assert messages(loop)[-2:] == [
        "MongoDB (mongodb://db) answers again after 1 s",
        "Johns Hopkins 0 - 1 Syracuse, Final (event 2)",
    ]


def test_waiting_for_the_stream_is_said_once_then_times_out() -> None:
    loop = single(wait_for_stream=10.0)
    for now in (0.0, 5.0, 10.0):
        assert loop.polled(now, {}) == []
        assert not loop.finished(now)
    assert messages(loop) == [f"{WAITING} s3://games/gamestream.txt to appear"]
    with pytest.raises(StreamTimeout, match=r"within 10 s: s3://games/gamestream\.txt did not appear"):
        loop.finished(10.5)


def test_a_stalled_game_times_out_but_a_final_one_does_not() -> None:
    loop = single(stall_timeout=60.0)
    tick(loop, 0.0, {SINGLE: LIVE})
    for now in (30.0, 60.0):
        tick(loop, now, {SINGLE: LIVE})
        assert not loop.finished(now)
    with pytest.raises(StreamTimeout, match="has not changed for 60 s"):
        loop.finished(60.5)

    final = single(stall_timeout=60.0, finalize=False)
    tick(final, 0.0, {SINGLE: FINAL})
    assert final.finished(1000.0)


def test_single_game_finalizes_at_once_then_stops_after_settling() -> None:
    loop = single(settle_seconds=5.0)
    tick(loop, 0.0, {SINGLE: LIVE})
    assert not loop.finalize_due(0.0) and not loop.finished(0.0)
    tick(loop, 1.0, {SINGLE: FINAL})
    assert loop.finalize_due(1.0) and loop.to_finalize == {GAME_A}
    assert not loop.finished(6.0)  # not before finalize has run
    loop.finalized(1.0, {GAME_A})
    assert not loop.finalize_due(1.0)
    assert [loop.finished(t) for t in (5.9, 6.0)] == [False, True]  # settled 5 s after the last change


def test_one_game_shows_its_box_score_in_the_ui_at_most_every_second_and_a_final_at_once() -> None:
    loop = single(show_every=1.0)
    second = LIVE + b"2 57:00 101 6 0\n"
    shown = []
    for now, data in [(0.0, LIVE), (0.2, second), (0.4, second), (1.1, second), (1.2, FINAL)]:
        tick(loop, now, {SINGLE: data})
        document = loop.to_show(now)
        shown.append(None if document is None else (now, document["event_id"], document["final"]))
    # event 1 at once; event 2 waits for its second (nothing new meanwhile); the final at once
    assert shown == [(0.0, 1, False), None, None, (1.1, 2, False), (1.2, 2, True)]
    assert loop.to_show(5.0) is None  # nothing written since


def test_many_games_never_show_a_box_score_in_the_ui() -> None:
    loop = multi()
    tick(loop, 0.0, {"g1": FINAL, "g2": LIVE})
    assert loop.to_show(10.0) is None


def test_many_games_share_a_finalize_at_most_every_30_s_and_all_final_finalizes_at_once() -> None:
    loop = multi()
    tick(loop, 0.0, {"a": LIVE, "b": LIVE, "c": LIVE})
    tick(loop, 1.0, {"a": FINAL, "b": LIVE, "c": LIVE})
    assert loop.finalize_due(1.0)
    loop.finalized(1.0, {"a"})
    tick(loop, 2.0, {"a": FINAL, "b": FINAL, "c": LIVE})
    assert [loop.finalize_due(t) for t in (2.0, 30.9, 31.0)] == [False, False, True]
    tick(loop, 3.0, {"a": FINAL, "b": FINAL, "c": FINAL})
    assert loop.finalize_due(3.0)  # every game final: no reason to wait


def test_a_tick_archives_the_stale_box_scores_of_at_most_archive_per_tick_games_oldest_first() -> None:
    loop = multi(archive_per_tick=2)
    tick(loop, 0.0, {"a": LIVE, "b": LIVE, "c": LIVE, "d": LIVE, "e": LIVE})  # five first reads, each full
    first = loop.stale()
    assert len(first) == 2 and loop.busy()  # three more wait: the loop does not wait for the feed
    loop.keep_stale(first[1:])  # the second's archive failed: it goes first next time
    second, third = loop.stale(), loop.stale()
    assert second[0] == first[1] and len(second) == len(third) == 2
    assert loop.stale() == [] and not loop.busy()
    assert sorted(game for game, _ in [first[0], *second, *third]) == ["a", "b", "c", "d", "e"]


def test_a_game_waiting_for_its_stale_archive_is_archived_past_its_newest_box_score() -> None:
    loop = multi(archive_per_tick=1)
    tick(loop, 0.0, {"a": LIVE, "b": LIVE})  # first reads: both wait for an archive past event 1
    (first,) = loop.stale()
    waiting = "b" if first[0] == "a" else "a"
    later = LIVE + b"2 57:00 101 6 0\n"  # then its next event, read onward (not in full)
    games = loop.polled(1.0, {waiting: version(later)})
    (read,) = loop.reads(1.0, games, {waiting: Matchup(waiting, HOME, AWAY)}, LEAGUE).values()
    onward = advance(read.state, reader(later), len(later), frozenset({HOME, AWAY}), IDENTITY_BYTES)
    assert isinstance(onward, Progress) and not onward.full_read
    loop.read_done(1.0, {waiting: onward.onto(read.state)}, {waiting: Matchup(waiting, HOME, AWAY)}, LEAGUE)
    loop.written(1.0, loop.to_write(1.0))
    assert loop.stale() == [(waiting, 2)]  # not past event 1: box score 2 is the game's newest


def test_many_games_settle_before_the_run_ends() -> None:
    loop = multi(settle_seconds=30.0, finalize=False)
    tick(loop, 0.0, {"a": FINAL, "b": LIVE})
    tick(loop, 10.0, {"a": FINAL, "b": FINAL})
    assert loop.all_final()
    assert [loop.finished(t) for t in (10.0, 39.9, 40.0)] == [False, False, True]


def test_many_games_log_a_summary_every_30_s_and_scorelines_only_for_finals() -> None:
    loop = multi()
    tick(loop, 0.0, {"a": LIVE, "b": LIVE})
    loop.finished(0.0)
    tick(loop, 10.0, {"a": FINAL, "b": LIVE})
    loop.finished(10.0)
    assert messages(loop, "info") == ["a: Johns Hopkins 0 - 1 Syracuse, Final (event a/2)"]
    loop.finished(29.9)
    assert messages(loop) == []
    loop.finished(30.0)
    assert messages(loop) == ["following 2 games (1 final): 3 box scores written in 30 s"]
    loop.finished(59.0)
    loop.finished(60.0)
    assert messages(loop) == ["following 2 games (1 final): 0 box scores written in 30 s"]


def test_a_game_without_a_matchup_is_skipped_with_one_warning() -> None:
    loop = multi()
    for now in (0.0, 1.0):
        games = loop.polled(now, {"a": version(LIVE), "zz": version(LIVE)})
        reads = loop.reads(now, games, {"a": Matchup("a", HOME, AWAY)}, LEAGUE)
        assert list(reads) == ["a"]
    assert reads["a"] == GameRead("s3://games/saturday/a.txt", frozenset({HOME, AWAY}), None, len(LIVE))
    assert messages(loop, "warning") == ["game zz is not in the games table yet; skipping it"]


def test_a_read_continues_from_the_folded_state_and_finals_are_read_only_while_they_settle() -> None:
    loop = multi(settle_seconds=5.0)
    tick(loop, 0.0, {"a": LIVE})
    games = loop.polled(1.0, {"a": version(FINAL)})
    (read,) = loop.reads(1.0, games, {"a": Matchup("a", HOME, AWAY)}, LEAGUE).values()
    assert read.state is not None and read.state.offset == len(LIVE) and read.size == len(FINAL)
    loop.read_done(1.0, {"a": progress(FINAL)}, {"a": Matchup("a", HOME, AWAY)}, LEAGUE)
    loop.written(1.0, loop.to_write(1.0))
    corrected = {"a": version(FINAL + b"3 00:00 101 6 1\n")}
    assert loop.polled(5.9, corrected) == ["a"]  # within settle_seconds of the final: a correction
    assert loop.polled(6.0, corrected) == []  # settled: never read again
    settled = loop.games["a"]
    assert settled.tally is None and settled.lines == b""  # what reading it needed is let go
    assert loop.finals["a"]["final"] and loop.seen == {"a": version(FINAL)}  # the result and its version stay


def test_a_missing_stream_and_an_empty_one_are_reported_once_and_change_nothing() -> None:
    loop = single()
    tick(loop, 0.0, {SINGLE: LIVE})
    loop.notices()
    for now in (1.0, 2.0):
        loop.polled(now, {})
    assert messages(loop) == ["the stream s3://games/gamestream.txt is missing; waiting for it to come back"]
    tick(loop, 3.0, {SINGLE: b""})
    assert loop.to_write(3.0) == []
    assert messages(loop) == ["the stream of s3://games/gamestream.txt has no event; its box score stays as it was"]


def test_a_new_game_on_the_stream_archives_the_previous_one_first() -> None:
    loop = single(settle_seconds=0.0)
    tick(loop, 0.0, {SINGLE: FINAL})
    loop.finalized(0.0, set(loop.to_finalize))
    other = b"0 59:30 205 1 1\n1 00:00 0 0 0\n"  # a different game: its first line differs
    game_b = "g" + hashlib.sha256(b"0 59:30 205 1 1").hexdigest()[:12]
    loop.polled(1.0, {SINGLE: version(other)})
    loop.read_done(1.0, {SINGLE: progress(other)}, {SINGLE: Matchup(SINGLE, HOME, AWAY)}, LEAGUE)
    assert loop.to_write(1.0) == []
    assert loop.archive_due() == game_b
    loop.archived()
    (document,) = loop.to_write(1.0)
    assert (document["game_id"], document["_id"], document["final"]) == (game_b, 1, True)
    assert [record.game_id for record in loop.records] == [game_b, GAME_A]
    said = messages(loop)
    assert f"a new game on s3://games/gamestream.txt: {game_b}" in said
    archive = [m for m in said if m.startswith("the box scores of every other game in the collection move to")]
    assert len(archive) == 1 and "a prefix run needs a MONGO_COLLECTION of its own" in archive[0]


def test_a_restart_on_a_finalized_stream_says_so_and_does_not_finalize_again() -> None:
    finished = GameRecord(GAME_A, "0 59:00 101 6 1", FINAL, final=True, finalized=True)
    loop = LiveLoop("s3://games/gamestream.txt", False, LoopRules(settle_seconds=0.0), 0.0, "mongodb://db", [finished])
    tick(loop, 0.0, {SINGLE: FINAL})
    assert loop.archive_due() is None and loop.finals[SINGLE]["game_id"] == GAME_A
    assert not loop.to_finalize and loop.finished(0.0)
    assert f"game {GAME_A} is already final and finalized: nothing to finalize again" in messages(loop)


def test_a_restart_mid_game_keeps_the_game_and_archives_nothing() -> None:
    started = GameRecord(GAME_A, "0 59:00 101 6 1", LIVE)
    loop = LiveLoop("s3://games/gamestream.txt", False, LoopRules(), 0.0, "mongodb://db", [started])
    tick(loop, 0.0, {SINGLE: LIVE + b"2 30:00 101 6 0\n"})
    assert loop.archive_due() is None and not loop.archive_other_games
    assert loop.finals == {} and [r.game_id for r in loop.records] == [GAME_A]


def test_a_correction_within_settle_seconds_is_written_and_finalized_again() -> None:
    loop = single(settle_seconds=10.0)
    tick(loop, 0.0, {SINGLE: FINAL})
    assert loop.stale() == [(GAME_A, 2)]  # a first read is a full read
    loop.finalized(0.0, set(loop.to_finalize))
    corrected = FINAL.replace(b"1 58:00 205 1 0", b"1 58:00 205 1 1")  # the scorer: that was a goal
    tick(loop, 4.0, {SINGLE: corrected})
    assert loop.finals[SINGLE]["away"]["score"] == 1
    assert loop.to_finalize == {GAME_A}
    assert loop.stale() == [(GAME_A, 2)]  # read in full: box scores after event 2 are stale


def test_a_first_line_that_is_not_an_event_writes_nothing_under_a_guessed_identity() -> None:
    loop = single()
    junk = b"hello feed\n0 59:00 101 6 1\n"
    tick(loop, 0.0, {SINGLE: junk})
    assert loop.unwritten == {} and loop.game_id is None
    assert messages(loop, "warning") == [
        "the first line of s3://games/gamestream.txt is not an event ('hello feed'); "
        "no box score is written until it is"
    ]


def test_a_given_game_id_names_the_game() -> None:
    loop = LiveLoop("s3://games/gamestream.txt", False, LoopRules(), 0.0, "mongodb://db", [], "opener-2026")
    tick(loop, 0.0, {SINGLE: LIVE})
    assert loop.finals == {} and loop.records[0].game_id == "opener-2026"


def test_s3_failing_from_the_start_ends_the_run_within_wait_for_stream_naming_it() -> None:
    loop = single(wait_for_stream=10.0)
    now = 0.0
    while now <= 10.0:
        if loop.poll_due(now):
            loop.poll_failed(now, PermissionError("AccessDenied: wrong key"))
        assert not loop.finished(now)
        now += 0.5
    with pytest.raises(StreamTimeout, match=r"S3 \(s3://games/gamestream\.txt\) keeps failing \(PermissionError"):
        loop.finished(10.5)


def test_reads_that_keep_failing_end_the_run_within_wait_for_stream() -> None:
    loop = single(wait_for_stream=10.0)
    games = loop.polled(0.0, {SINGLE: version(LIVE)})
    loop.read_failed(0.0, TimeoutError("Dask at tcp://x did not finish the read within 60 s (0 worker(s))"), 1)
    assert loop.reads(0.5, games, {SINGLE: Matchup(SINGLE, HOME, AWAY)}, LEAGUE) == {}  # backing off
    with pytest.raises(
        StreamTimeout, match=r"reading S3 .* keeps failing .TimeoutError: Dask at tcp://x did not finish"
    ):
        loop.finished(10.5)
    assert games == [SINGLE]


def test_games_that_never_get_a_matchup_end_the_run_and_the_tables_are_read_every_5_s_at_most() -> None:
    loop = multi(wait_for_stream=20.0)
    reads_at = []
    for tick in range(0, 41):
        now = tick * 0.5
        games = loop.polled(now, {"zz": version(LIVE)})
        if loop.reference_due(now, games, {}, read=bool(reads_at)):
            reads_at.append(now)
            loop.reference_read(now)
        assert loop.reads(now, games, {}, LEAGUE) == {}
        assert not loop.finished(now)
    assert reads_at == [0.0, 5.0, 10.0, 15.0, 20.0]
    with pytest.raises(
        StreamTimeout,
        match=r"no game could be read \(zz\): no matchup of known teams in the games table \(SQL database\)",
    ):
        loop.finished(20.5)
    assert messages(loop, "warning") == ["game zz is not in the games table yet; skipping it"]


@pytest.mark.parametrize(
    ("home", "away", "named"),
    [(999, AWAY, "--home-team 999"), (HOME, 998, "--away-team 998"), (999, 998, "--home-team 999 and --away-team 998")],
)
def test_a_single_stream_s_unknown_team_ends_the_run_at_once_naming_the_option(
    home: int, away: int, named: str
) -> None:
    """No wait can add a team to the table: the first read refuses, long before wait_for_stream."""
    loop = single(wait_for_stream=300.0)
    games = loop.polled(0.0, {SINGLE: version(LIVE)})
    with pytest.raises(UnknownTeam) as refused:
        loop.reads(0.0, games, {SINGLE: Matchup(SINGLE, home, away)}, LEAGUE)
    assert str(refused.value) == f"{named}: not in the teams table (SQL database); give a team id it holds"


def test_a_game_naming_a_missing_team_is_skipped_and_the_others_are_read() -> None:
    loop = multi()
    games = loop.polled(0.0, {"a": version(LIVE), "b": version(LIVE)})
    reads = loop.reads(0.0, games, {"a": Matchup("a", HOME, AWAY), "b": Matchup("b", HOME, 999)}, LEAGUE)
    assert list(reads) == ["a"]
    assert messages(loop, "warning") == ["game b: team 999 is not in the teams table; skipping the game"]


def test_a_failing_finalize_backs_off_keeps_the_games_and_ends_the_run_only_after_stall_timeout() -> None:
    loop = multi(stall_timeout=60.0, settle_seconds=0.0)
    tick(loop, 0.0, {"a": FINAL, "b": LIVE})
    attempts, now = [], 0.0
    while now < 40.0:
        if loop.finalize_due(now):
            attempts.append(now)
            loop.finalize_failed(now, ConnectionError("SQL database at sqlite:///x is unreachable"))
        tick(loop, now, {"a": FINAL, "b": LIVE + f"{int(now) + 2} 30:00 101 6 0\n".encode()})  # b goes on
        assert not loop.finished(now)
        now += 0.5
    assert attempts == [0.0, 1.0, 3.0, 7.0, 15.0, 30.0]
    assert loop.to_finalize == {"a"} and loop.finals["a"]["final"] and not loop.finals.get("b")
    assert loop.unwritten == {} and loop.seen["b"].size > len(LIVE)  # b kept being read and written
    warning = messages(loop, "warning")[0]
    assert warning.startswith("finalize (SQL database) failed (ConnectionError: SQL database at sqlite:///x")
    assert warning.endswith("1 final game(s) are finalized at the next attempt, next attempt in 1 s")
    with pytest.raises(
        StreamTimeout, match=r"finalize \(SQL database\) kept failing for 60 s .*games not finalized: a"
    ):
        loop.finished(60.5)
    loop.finalized(41.0, {"a"})
    assert "finalize (SQL database) answers again after 41 s" in messages(loop)


def test_a_game_whose_object_cannot_be_read_backs_off_alone_and_the_others_go_on() -> None:
    from boxscore.live import ReadFailed

    loop = multi()
    failed = ReadFailed("OSError: [Errno 22] Requests specifying Server Side Encryption ... customer key.")
    attempts = []
    for tick_at in [t * 0.5 for t in range(0, 17)]:
        games = loop.polled(tick_at, {"a": version(LIVE if tick_at < 8 else FINAL), "b": version(LIVE)})
        reads = loop.reads(tick_at, games, {g: Matchup(g, HOME, AWAY) for g in games}, LEAGUE)
        attempts += [tick_at] if "b" in reads else []
        done = {game: progress(LIVE if tick_at < 8 else FINAL) for game in reads if game == "a"}
        done |= {"b": failed} if "b" in reads else {}
        loop.read_done(tick_at, done, {g: Matchup(g, HOME, AWAY) for g in games}, LEAGUE)
        loop.written(tick_at, loop.to_write(tick_at))
    assert attempts == [0.0, 1.0, 3.0, 7.0]  # b alone backs off: 1, 2, 4 s
    assert loop.finals["a"]["final"] and "b" not in loop.seen
    warnings = messages(loop, "warning")
    assert warnings[0] == (
        "game b: reading s3://games/saturday/b.txt failed (OSError: [Errno 22] Requests specifying "
        "Server Side Encryption ... customer key.); its box score stays as it was, next attempt in 1 s"
    )


def test_a_big_first_read_is_one_whole_read_in_flight_and_folds_the_version_it_read() -> None:
    loop = multi(dask_block_bytes=len(LIVE))
    matchups = {"a": Matchup("a", HOME, AWAY)}
    games = loop.polled(0.0, {"a": version(LIVE)})
    (read,) = loop.reads(0.0, games, matchups, LEAGUE).values()
    assert read.whole and read.state is None and read.size == len(LIVE)
    grown = LIVE + b"2 57:00 101 6 0\n"
    for now in (0.1, 0.2):  # the stream changes while the whole read runs: not read twice at once
        assert loop.polled(now, {"a": version(grown)}) == ["a"]
        assert loop.reads(now, ["a"], matchups, LEAGUE) == {}
    assert not loop.finished(0.2)
    loop.read_done(0.3, {"a": progress(LIVE)}, matchups, LEAGUE)
    assert loop.seen["a"] == version(LIVE)  # the version it read; the newer one is read next
    assert loop.to_write(0.3)[0]["event_id"] == 1
    assert loop.polled(0.4, {"a": version(grown)}) == ["a"]
    (next_read,) = loop.reads(0.4, ["a"], matchups, LEAGUE).values()
    assert not next_read.whole and next_read.state is not None and next_read.state.offset == len(LIVE)


def test_a_rewrite_found_by_a_tick_is_read_whole_at_the_next_tick() -> None:
    from boxscore.running import Rewritten

    loop = multi(dask_block_bytes=len(LIVE))
    matchups = {"a": Matchup("a", HOME, AWAY)}
    loop.polled(0.0, {"a": version(LIVE)})
    loop.reads(0.0, ["a"], matchups, LEAGUE)
    loop.read_done(0.0, {"a": progress(LIVE)}, matchups, LEAGUE)
    corrected = LIVE.replace(b"205 1 0", b"205 1 1") + b"2 57:00 101 6 0\n"  # bigger: a tick reads on
    loop.polled(1.0, {"a": version(corrected)})
    (read,) = loop.reads(1.0, ["a"], matchups, LEAGUE).values()
    assert not read.whole  # a tick's read: it finds the rewrite
    loop.read_done(1.0, {"a": Rewritten(len(corrected))}, matchups, LEAGUE)
    assert loop.seen["a"] == version(LIVE)
    assert loop.polled(1.1, {"a": version(corrected)}) == ["a"]
    (again,) = loop.reads(1.1, ["a"], matchups, LEAGUE).values()
    assert again.whole and again.state is None


def test_a_whole_read_that_takes_longer_than_read_timeout_is_given_up_and_backs_off() -> None:
    from boxscore.live import ReadFailed

    loop = multi(dask_block_bytes=1, read_timeout=10.0)
    matchups = {"a": Matchup("a", HOME, AWAY)}
    loop.reads(0.0, loop.polled(0.0, {"a": version(LIVE)}), matchups, LEAGUE)
    assert loop.overdue(10.0) == [] and loop.overdue(10.5) == ["a"]
    loop.read_done(10.5, {"a": ReadFailed("the whole read did not finish within 10 s")}, matchups, LEAGUE)
    assert loop.overdue(20.0) == [] and "a" not in loop.seen
    assert loop.reads(11.0, loop.polled(11.0, {"a": version(LIVE)}), matchups, LEAGUE) == {}  # backing off
    (read,) = loop.reads(11.5, loop.polled(11.5, {"a": version(LIVE)}), matchups, LEAGUE).values()
    assert read.whole


def test_the_pause_keeps_the_poll_cadence() -> None:
    """A tick that took 0.3 s of a 1 s interval sleeps 0.7 s; one that took longer does not sleep."""
    loop = single(poll_interval=1.0)
    assert loop.pause(10.0, 10.3) == pytest.approx(0.7)
    assert loop.pause(10.0, 11.5) == 0.0


def test_every_timeout_counts_from_the_run_start_or_the_last_change_not_from_zero() -> None:
    """Started at t=100 (a clock is never 0): waits end 10 s after the start, stalls 60 s after the
    last change, each at the bound exactly (``>``, not ``>=``)."""
    waiting = LiveLoop("s3://games/gamestream.txt", False, LoopRules(wait_for_stream=10.0), 100.0, "mongodb://db")
    waiting.polled(100.0, {})
    assert not waiting.finished(110.0)
    with pytest.raises(StreamTimeout, match="within 10 s"):
        waiting.finished(110.5)
    stalled = LiveLoop("s3://games/gamestream.txt", False, LoopRules(stall_timeout=60.0), 100.0, "mongodb://db")
    tick(stalled, 100.0, {SINGLE: LIVE})
    assert not stalled.finished(160.0)
    with pytest.raises(StreamTimeout, match="has not changed for 60 s"):
        stalled.finished(160.5)


def test_the_game_record_says_final_with_every_line_once_the_final_is_written() -> None:
    """What a restart resumes from: the record of a live game, then of its final (not yet finalized)."""
    loop = single(settle_seconds=5.0)
    tick(loop, 0.0, {SINGLE: LIVE})
    assert loop.records_to_save() == [(1, GameRecord(GAME_A, "0 59:00 101 6 1", LIVE))]
    tick(loop, 1.0, {SINGLE: FINAL})
    assert loop.records_to_save() == [(1, GameRecord(GAME_A, "0 59:00 101 6 1", FINAL, final=True))]
    loop.finalized(1.0, {GAME_A})
    assert loop.records == [GameRecord(GAME_A, "0 59:00 101 6 1", FINAL, final=True, finalized=True)]
    corrected = FINAL.replace(b"1 58:00 205 1 0", b"1 58:00 205 1 1")
    tick(loop, 3.0, {SINGLE: corrected})  # a correction after finalize: finalize again
    assert loop.records_to_save() == [(1, GameRecord(GAME_A, "0 59:00 101 6 1", corrected, final=True))]
    assert loop.to_finalize == {GAME_A}


def test_a_failed_read_of_the_first_game_does_not_stop_the_next_games_read_being_folded() -> None:
    """Reads done in any order: game a's failure is a's alone, b's box score is written the same tick."""
    from boxscore.live import ReadFailed

    loop = multi()
    games = loop.polled(0.0, {"a": version(LIVE), "b": version(FINAL)})
    matchups = {g: Matchup(g, HOME, AWAY) for g in games}
    assert sorted(loop.reads(0.0, games, matchups, LEAGUE)) == ["a", "b"]
    loop.read_done(0.0, {"a": ReadFailed("OSError: gone"), "b": progress(FINAL)}, matchups, LEAGUE)
    assert [doc["game_id"] for doc in loop.to_write(0.0)] == ["b"]
    assert messages(loop, "warning")[0].startswith("game a: reading s3://games/saturday/a.txt failed (OSError: gone)")


def test_a_shooter_not_on_the_roster_is_counted_and_warned_about_once() -> None:
    loop = single()
    stranger = LIVE + b"2 57:00 205 77 1\n"
    tick(loop, 0.0, {SINGLE: stranger})
    said = messages(loop, "warning")
    # the single stream's game is keyed "" until the loop has one key space (it says "game -")
    assert said == ["game - team 205: jersey 77 is not on the roster (shots counted)"], said
    tick(loop, 1.0, {SINGLE: stranger + b"3 56:00 205 77 0\n"})
    assert messages(loop, "warning") == []
    assert loop.finals == {} and loop.unwritten == {}


def test_records_that_could_not_be_saved_are_saved_with_the_next_ones() -> None:
    loop = single()
    tick(loop, 0.0, {SINGLE: LIVE})
    unsaved = loop.records_to_save()
    assert loop.records_to_save() == []  # handed out once
    loop.keep_unsaved(unsaved)  # MongoDB refused them
    assert loop.records_to_save() == unsaved == [(1, GameRecord(GAME_A, "0 59:00 101 6 1", LIVE))]


def test_the_game_record_gathers_the_lines_of_each_tick_read_after_the_first() -> None:
    """A tick folds only new lines: the record's lines are the first read's plus each tick's."""
    from boxscore.running import advance

    loop = single()
    matchups = {SINGLE: Matchup(SINGLE, HOME, AWAY)}
    games = loop.polled(0.0, {SINGLE: version(LIVE)})
    loop.reads(0.0, games, matchups, LEAGUE)
    first = progress(LIVE)
    loop.read_done(0.0, {SINGLE: first}, matchups, LEAGUE)
    loop.written(0.0, loop.to_write(0.0))
    grown = LIVE + b"2 57:00 101 6 0\n"
    games = loop.polled(1.0, {SINGLE: version(grown)})
    (read,) = loop.reads(1.0, games, matchups, LEAGUE).values()
    step = advance(read.state, reader(grown), len(grown), frozenset({HOME, AWAY}), read.keep)
    assert not step.full_read
    loop.read_done(1.0, {SINGLE: step}, matchups, LEAGUE)
    loop.written(1.0, loop.to_write(1.0))
    assert loop.records == [GameRecord(GAME_A, "0 59:00 101 6 1", grown)]


def test_a_game_goes_from_waiting_to_live_to_final_and_a_new_game_on_the_stream_is_live_again() -> None:
    from boxscore.live import Phase

    loop = multi()
    loop.polled(0.0, {"a": version(LIVE)})
    assert loop.games["a"].phase is Phase.WAITING  # shown by a poll, not read yet
    tick(loop, 1.0, {"a": LIVE})
    assert loop.games["a"].phase is Phase.LIVE and loop.games["a"].final is None
    tick(loop, 2.0, {"a": FINAL})
    assert loop.games["a"].phase is Phase.FINAL and loop.games["a"].final_at == 2.0
    assert loop.finals["a"]["final"] and loop.all_final()
    stream = single(settle_seconds=10.0)
    tick(stream, 0.0, {SINGLE: FINAL})
    assert stream.games[SINGLE].phase is Phase.FINAL
    tick(stream, 1.0, {SINGLE: b"0 59:59 205 1 1\n"})  # within settle_seconds, another game's first line
    assert stream.games[SINGLE].phase is Phase.LIVE and stream.finals == {}


def test_rejected_lines_are_logged_once_as_a_warning_each_time_more_arrive() -> None:
    """A malformed line and a valid line by a team not in the game: said when they first arrive, not every tick."""
    loop = single()
    bad = LIVE + b"2 57:00 101 6 x\n3 56:00 999 4 1\n"
    tick(loop, 0.0, {SINGLE: bad})
    warnings = [m for m in messages(loop, "warning") if "rejected" in m]
    assert warnings == [
        f"game {GAME_A}: 2 line(s) rejected, skipped and not counted (2 in all: not a valid event of its two "
        "teams); the first: '2 57:00 101 6 x'"
    ]
    tick(loop, 1.0, {SINGLE: bad + b"4 55:00 205 1 1\n"})
    assert [m for m in messages(loop, "warning") if "rejected" in m] == []
    tick(loop, 2.0, {SINGLE: bad + b"4 55:00 205 1 1\nnonsense\n"})
    assert [m for m in messages(loop, "warning") if "rejected" in m] == [
        f"game {GAME_A}: 1 line(s) rejected, skipped and not counted (3 in all: not a valid event of its two "
        "teams); the first: '2 57:00 101 6 x'"
    ]


def test_one_game_skipped_never_stops_the_later_games_of_the_tick_being_read() -> None:
    """Game a waits (a whole read in flight, no matchup, or an unknown team); b, after it, is read."""
    both = {"a": Matchup("a", HOME, AWAY), "b": Matchup("b", HOME, AWAY)}
    in_flight = multi(dask_block_bytes=len(LIVE))
    in_flight.reads(0.0, in_flight.polled(0.0, {"a": version(LIVE)}), both, LEAGUE)  # a: a whole read
    games = in_flight.polled(1.0, {"a": version(FINAL), "b": version(b"0 59:00 101 6 1\n")})
    assert list(in_flight.reads(1.0, games, both, LEAGUE)) == ["b"]
    for matchups in ({"b": both["b"]}, {**both, "a": Matchup("a", 301, 302)}):
        loop = multi()
        games = loop.polled(0.0, {"a": version(LIVE), "b": version(LIVE)})
        assert list(loop.reads(0.0, games, matchups, LEAGUE)) == ["b"]
        assert messages(loop, "warning") == [
            "game a is not in the games table yet; skipping it"
            if "a" not in matchups
            else "game a: team 301, 302 is not in the teams table; skipping the game"
        ]


def test_a_game_found_rewritten_or_empty_never_stops_the_next_game_being_folded() -> None:
    from boxscore.running import Rewritten

    for first in (Rewritten(len(LIVE)), progress(b"")):
        loop = multi()
        games = loop.polled(0.0, {"a": version(LIVE), "b": version(FINAL)})
        matchups = {g: Matchup(g, HOME, AWAY) for g in games}
        loop.reads(0.0, games, matchups, LEAGUE)
        loop.read_done(0.0, {"a": first, "b": progress(FINAL)}, matchups, LEAGUE)
        assert [doc["game_id"] for doc in loop.to_write(0.0)] == ["b"]


def test_a_game_whose_read_fails_again_after_a_recovery_backs_off_from_1_s_again() -> None:
    from boxscore.live import ReadFailed

    loop = single()
    matchups = {SINGLE: Matchup(SINGLE, HOME, AWAY)}
    outcomes = [(0.0, ReadFailed("OSError: gone")), (1.0, progress(LIVE)), (2.0, ReadFailed("OSError: gone"))]
    for now, outcome in outcomes:
        games = loop.polled(now, {SINGLE: version(LIVE + str(now).encode())})
        assert loop.reads(now, games, matchups, LEAGUE)  # each attempt falls when its backoff allows
        loop.read_done(now, {SINGLE: outcome}, matchups, LEAGUE)
    said = [m for m in messages(loop) if m.startswith("game -")]
    failed = "game -: reading s3://games/gamestream.txt failed (OSError: gone); its box score stays as it was"
    assert said == [
        f"{failed}, next attempt in 1 s",
        "game -: reading s3://games/gamestream.txt answers again after 1 s",
        f"{failed}, next attempt in 1 s",
    ]


def test_a_whole_read_is_overdue_counted_from_when_it_began() -> None:
    loop = multi(dask_block_bytes=1, read_timeout=60.0)
    loop.reads(500.0, loop.polled(500.0, {"a": version(LIVE)}), {"a": Matchup("a", HOME, AWAY)}, LEAGUE)
    assert loop.overdue(501.0) == [] and loop.overdue(560.0) == [] and loop.overdue(560.5) == ["a"]


def test_a_replay_of_the_final_game_keeps_its_final_lines_in_the_record() -> None:
    loop = single(settle_seconds=30.0)
    tick(loop, 0.0, {SINGLE: FINAL})
    loop.finalized(0.0, {GAME_A})
    assert tick(loop, 5.0, {SINGLE: LIVE}) == [SINGLE]  # the recording replayed from its start, read
    assert loop.records == [GameRecord(GAME_A, "0 59:00 101 6 1", FINAL, final=True, finalized=True)]


def test_a_restart_on_a_final_game_not_yet_finalized_finalizes_it() -> None:
    loop = LiveLoop(
        "s3://games/gamestream.txt",
        False,
        LoopRules(),
        0.0,
        "mongodb://db",
        records=[GameRecord(GAME_A, "0 59:00 101 6 1", FINAL, final=True)],
    )
    tick(loop, 0.0, {SINGLE: FINAL})
    assert loop.to_finalize == {GAME_A}
    assert not any("already final and finalized" in m for m in messages(loop))


def test_a_correction_after_a_restart_on_a_finalized_game_is_finalized_again() -> None:
    finished = GameRecord(GAME_A, "0 59:00 101 6 1", FINAL, final=True, finalized=True)
    loop = LiveLoop("s3://games/gamestream.txt", False, LoopRules(), 0.0, "mongodb://db", records=[finished])
    tick(loop, 0.0, {SINGLE: FINAL})
    assert loop.to_finalize == set()
    tick(loop, 1.0, {SINGLE: FINAL.replace(b"1 58:00 205 1 0", b"1 58:00 205 1 1")})
    assert loop.to_finalize == {GAME_A}


def test_one_game_shows_a_live_box_score_again_exactly_show_every_later() -> None:
    loop = single()  # show_every 1 s
    tick(loop, 10.0, {SINGLE: LIVE})
    assert loop.to_show(10.0) is not None
    tick(loop, 10.5, {SINGLE: LIVE + b"2 57:00 101 6 0\n"})
    assert loop.to_show(10.5) is None and loop.to_show(11.0)["event_id"] == 2


def test_a_final_box_score_not_yet_written_keeps_the_run_going() -> None:
    loop = single(settle_seconds=0.0)
    tick(loop, 0.0, {SINGLE: FINAL})
    loop.finalized(0.0, {GAME_A})
    games = loop.polled(0.5, {SINGLE: version(FINAL + b"3 00:00 101 6 1\n")})  # a correction ...
    matchups = {SINGLE: Matchup(SINGLE, HOME, AWAY)}
    loop.reads(0.5, games, matchups, LEAGUE)
    loop.read_done(0.5, {SINGLE: progress(FINAL + b"3 00:00 101 6 1\n")}, matchups, LEAGUE)
    loop.write_failed(0.5, ConnectionError("down"), 1)  # ... that MongoDB has not taken yet
    assert not loop.all_final() and not loop.finished(10.0)


def test_finalized_marks_only_the_games_it_finalized() -> None:
    loop = single()
    loop.records = [GameRecord("g2", "x", b"", final=True), GameRecord("g1", "y", b"", final=True)]
    loop.finalized(0.0, {"g2"})
    assert [(r.game_id, r.finalized) for r in loop.records] == [("g2", True), ("g1", False)]


def test_records_kept_unsaved_are_each_saved_with_their_rank_newest_highest() -> None:
    loop = single()
    newer, older = GameRecord("g2", "x", b""), GameRecord("g1", "y", b"")
    loop.records = [newer, older]
    loop.keep_unsaved([(1, older), (2, newer)])
    assert loop.records_to_save() == [(1, older), (2, newer)]


def test_a_finalize_failing_ends_the_run_stall_timeout_after_its_first_failure_naming_the_games() -> None:
    loop = multi(stall_timeout=900.0, settle_seconds=0.0)
    tick(loop, 500.0, {"a": FINAL, "b": FINAL})
    loop.finalize_failed(500.0, ConnectionError("refused"))
    assert not loop.finished(1400.0)
    with pytest.raises(StreamTimeout, match=r"\(ConnectionError: refused\); games not finalized: a, b$"):
        loop.finished(1400.5)


def test_no_game_followed_names_the_first_five_unmatched_games_or_the_stream() -> None:
    loop = multi(wait_for_stream=10.0)
    loop.polled(0.0, {game: version(LIVE) for game in "gfedcba"})
    with pytest.raises(StreamTimeout, match=r"no game could be read \(a, b, c, d, e\): no matchup"):
        loop.finished(11.0)
    one = single(wait_for_stream=10.0)
    one.polled(0.0, {SINGLE: version(LIVE)})
    with pytest.raises(StreamTimeout, match=r"no game could be read \(s3://games/gamestream.txt\)"):
        one.finished(11.0)


def test_a_stall_names_every_service_that_keeps_failing() -> None:
    loop = single(stall_timeout=10.0)
    tick(loop, 0.0, {SINGLE: LIVE})
    loop.poll_failed(5.0, ConnectionError("s3 down"))
    loop.read_failed(5.0, ConnectionError("dask down"), 1)
    with pytest.raises(StreamTimeout) as stalled:
        loop.finished(10.5)
    assert str(stalled.value) == (
        "s3://games/gamestream.txt has not changed for 10 s"
        "; S3 (s3://games/gamestream.txt) keeps failing (ConnectionError: s3 down)"
        "; reading S3 (s3://games/gamestream.txt) keeps failing (ConnectionError: dask down)"
        "; --stall-timeout waits longer"
    )


def test_a_stall_of_a_stream_whose_first_line_is_not_an_event_says_so_and_what_to_correct() -> None:
    loop = single(stall_timeout=10.0)
    tick(loop, 0.0, {SINGLE: b"hello feed\n0 59:00 101 6 1\n"})
    with pytest.raises(StreamTimeout) as stalled:
        loop.finished(10.5)
    assert str(stalled.value) == (
        "s3://games/gamestream.txt has not changed for 10 s; no box score was written: the first line of "
        "s3://games/gamestream.txt is not an event ('hello feed'): correct the feed; --stall-timeout waits longer"
    )


def test_a_stream_that_never_appears_names_the_setting_and_the_parameter() -> None:
    with pytest.raises(StreamTimeout) as waited:
        single(wait_for_stream=10.0).finished(10.5)
    assert str(waited.value) == (
        "nothing could be followed within 10 s: s3://games/gamestream.txt did not appear: check GAMESTREAM_URL, "
        "or start the feed; --wait-for-stream waits longer"
    )


def test_each_missing_stream_of_a_prefix_is_named() -> None:
    loop = multi()
    tick(loop, 0.0, {"a": LIVE, "b": LIVE})
    loop.notices()
    loop.polled(1.0, {})
    assert messages(loop, "warning") == [
        "the stream s3://games/saturday/a.txt is missing; waiting for it to come back",
        "the stream s3://games/saturday/b.txt is missing; waiting for it to come back",
    ]


def test_an_empty_stream_is_said_once_per_version_that_is_still_empty() -> None:
    loop = multi()
    matchups = {"a": Matchup("a", HOME, AWAY)}
    for now, data in ((0.0, b"\n"), (1.0, b"\n"), (2.0, b"\n\n")):
        games = loop.polled(now, {"a": version(data)})
        loop.read_done(now, {g: progress(data) for g in loop.reads(now, games, matchups, LEAGUE)}, matchups, LEAGUE)
    empty = "the stream of a has no event; its box score stays as it was"
    assert messages(loop, "warning") == [empty, empty]  # at 0 s and at 2 s: the 1 s poll saw no change


def test_a_polls_read_ahead_is_the_reads_first_bytes_only_for_the_version_and_range_the_read_wants() -> None:
    """The poll of a heard game read ``LIVE``'s stream grown to ``FINAL`` from the tally's last line:
    the read takes those bytes in place of a request, unless they are of another version than the
    one it reads, or end before that version does."""
    teams = {SINGLE: Matchup(SINGLE, HOME, AWAY)}
    loop = single()
    loop.polled(0.0, {SINGLE: version(LIVE)})
    assert loop.read_ahead([SINGLE, "unknown"]) == {}  # nothing read yet: the read starts at 0, a HEAD says the size
    loop.read_done(0.0, {SINGLE: progress(LIVE)}, teams, LEAGUE)
    start = len(b"0 59:00 101 6 1\n")  # the last complete line folded, which the read checks again
    assert loop.read_ahead([SINGLE]) == {SINGLE: start}
    tail = FINAL[start:]

    games = loop.polled(1.0, {SINGLE: version(FINAL)}, "", [SINGLE], {SINGLE: (start, tail)})
    (read,) = loop.reads(1.0, games, teams, LEAGUE).values()
    assert read.fetched == tail and read.size == len(FINAL)

    loop.polled(2.0, {SINGLE: version(FINAL)}, "", [SINGLE], {SINGLE: (start, tail)})
    newer = FINAL + b"3 00:00 0 0 0\n"
    games = loop.polled(2.5, {SINGLE: version(newer)})  # a full poll between: another version is read
    (read,) = loop.reads(2.5, games, teams, LEAGUE).values()
    assert read.fetched is None and read.size == len(newer)

    short = tail[:-1]  # ends a byte before the version it came with
    games = loop.polled(3.0, {SINGLE: version(FINAL)}, "", [SINGLE], {SINGLE: (start, short)})
    (read,) = loop.reads(3.0, games, teams, LEAGUE).values()
    assert read.fetched is None
    games = loop.polled(4.0, {SINGLE: version(FINAL)}, "", [SINGLE], {SINGLE: (start + 1, tail[1:])})
    (read,) = loop.reads(4.0, games, teams, LEAGUE).values()
    assert read.fetched is None  # it starts after the last folded line: the read could not check it
