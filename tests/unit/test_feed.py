"""The change feed through :func:`boxscore.step.step`, with fake time: when the loop polls and reads.

``FeedWorld`` is ``test_step``'s world plus a feed that hears each change of the bucket as it
happens (unless it is down, or told to lose it), so these tests follow what the step asks for
(full polls, HEADs of heard games, waits) against the times the streams changed. The expected
box scores are the same hand counts as ``test_step``'s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from boxscore import step as s
from boxscore.feed import FULL_POLL_SHARE, HEAD_AT_MOST, Feed, Heard, game_of
from boxscore.live import SINGLE, LiveLoop, LoopRules
from tests.unit.test_live import AWAY, FINAL, GAME_A, HOME, LIVE, version
from tests.unit.test_step import World, at, run

ONE = "s3://games/gamestream.txt"
DAY = "s3://games/saturday/"
CORRECTED = FINAL.replace(b"1 58:00 205 1 0", b"1 58:00 205 1 1")  # the scorer: that was a goal (1-1)


def key(url: str, game: str) -> str:
    """The object key the feed reports for a game's stream."""
    path = url.removeprefix("s3://")
    return path if game == SINGLE else f"{path}{game}.txt"


@dataclass
class FeedWorld(World):
    """The world, and a feed that hears each change at its time (``changes``: when the bucket changed)."""

    url: str = ONE
    changes: list[float] = field(default_factory=list)
    feed_down: Callable[[float], bool] = lambda now: False
    lost: set[float] = field(default_factory=set)  # changes the feed never reports
    extra: Callable[[float], list[str]] = lambda now: []  # keys also heard at a change (other objects, floods)
    listening: bool = False
    refused: bool = False  # the last Listen failed, and no wait has said so yet
    polls: list[tuple[float, frozenset[str] | None]] = field(default_factory=list)  # (when, what it asked)
    aheads: list[tuple[float, dict[str, int]]] = field(default_factory=list)  # (when, each poll's read-ahead starts)
    waits: list[float] = field(default_factory=list)  # each AwaitChanges' seconds
    listens: list[float] = field(default_factory=list)
    full_poll_takes: float = 0.0  # seconds a poll of every stream takes (a LIST of a big prefix)

    def answer(self, effect: s.Effect) -> s.Observation | None:
        match effect:
            case s.Listen():
                self.effects.append("Listen")
                self.listens.append(self.now)
                self.listening, self.refused = not self.feed_down(self.now), self.feed_down(self.now)
                return None
            case s.Poll(games, ahead):
                self.polls.append((self.now, games))
                self.aheads.append((self.now, dict(ahead)))
                streams = self.script(self.now)
                seen = super().answer(effect)
                if games is None:
                    self.now = round(self.now + self.full_poll_takes, 3)
                if isinstance(seen, s.Polled) and games is not None:
                    # a GET from each start (one that ends before it is asked with a HEAD: no bytes)
                    fetched = {
                        g: (start, streams[g][start:]) for g, start in ahead.items() if start < len(streams.get(g, b""))
                    }
                    return s.Polled({g: v for g, v in seen.versions.items() if g in games}, seen.at, fetched)
                return seen
        return super().answer(effect)

    def heard(self, seconds: float) -> s.Heard:
        """Wait up to ``seconds`` for the next change the feed reports; the time moves to it."""
        self.waits.append(seconds)
        end = round(self.now + seconds, 3)
        if self.refused:  # a feed that fails to listen says so at once, once
            self.refused = False
            return Heard(listening=False, reason="connection refused")
        if not self.listening:
            self.now = end
            return Heard(listening=False)
        for change in sorted(c for c in self.changes if self.now < c <= end):
            if self.feed_down(change):
                self.now, self.listening = change, False
                return Heard(listening=False, reason="the filer closed the stream")
            if change not in self.lost:
                self.now = change
                games = self.script(change)
                keys = {key(self.url, game) for game in games if self.script(self.now - 0.001).get(game) != games[game]}
                return Heard(frozenset(keys | set(self.extra(change))))
        self.now = end
        return Heard()


def follow(
    world: FeedWorld, loop: LiveLoop[Any], fallback: float = 5.0, until: float = 600.0, read_ahead: bool = True
) -> Any:
    """The flow's interpreter with a feed: the time moves by each wait (to the next change heard)."""
    feed = Feed("the change feed (a test's)", loop.url, loop.rules.poll_interval, fallback, read_ahead)
    return run(world, loop, until, feed, world.heard)


def one_game(**rules: Any) -> LiveLoop[Any]:
    return LiveLoop(
        ONE, False, LoopRules(**{"settle_seconds": 3.0, "poll_interval": 1.0, **rules}), 0.0, "mongodb://db"
    )


def day(**rules: Any) -> LiveLoop[Any]:
    return LiveLoop(DAY, True, LoopRules(**{"settle_seconds": 3.0, "poll_interval": 1.0, **rules}), 0.0, "mongodb://db")


GAME = at((2.3, {SINGLE: LIVE}), (7.7, {SINGLE: FINAL}))  # the stream appears 1-0 at 2.3 s, final at 7.7 s


def test_each_change_is_read_when_it_is_heard_and_the_streams_are_polled_every_fallback_interval() -> None:
    world = FeedWorld(GAME, changes=[2.3, 7.7])
    final = follow(world, one_game(), fallback=5.0)
    assert (final["game_id"], final["event_id"], final["home"]["score"], final["away"]["score"]) == (GAME_A, 2, 1, 0)
    assert world.upserted == [2.3, 7.7]  # each box score stored at the change's own time, not a poll's
    full = [when for when, games in world.polls if games is None]
    heads = [(when, games) for when, games in world.polls if games is not None]
    assert full == [0.0, 5.0, 10.0]  # the first, then every 5 s: 3 polls in 10.7 s, not 11
    assert heads == [(2.3, frozenset({SINGLE})), (7.7, frozenset({SINGLE}))]
    assert world.listens == [0.0]
    assert world.finalized == [[GAME_A]]


def test_a_heard_change_of_a_game_read_before_comes_with_its_poll_and_its_read_asks_s3_nothing() -> None:
    """The first read of the game (at 2.3 s) asks S3 for its bytes; the change heard at 7.7 s is
    polled with a GET from the last folded line, whose bytes the tick's read then folds."""
    world = FeedWorld(GAME, changes=[2.3, 7.7])
    final = follow(world, one_game(), fallback=5.0)
    assert (final["event_id"], final["home"]["score"], final["away"]["score"], final["final"]) == (2, 1, 0, True)
    resumed = len(b"0 59:00 101 6 1\n")  # LIVE's last line starts here: the read checks it is still there
    assert [(when, ahead) for when, ahead in world.aheads if ahead] == [(7.7, {SINGLE: resumed})]
    assert world.ranges_read == [(2.3, SINGLE)]


def test_without_read_ahead_a_heard_change_is_a_head_and_its_read_a_range_get() -> None:
    """The same game where the flow does not read ahead (s3fs on a cluster of its own): the change
    heard at 7.7 s is polled with a HEAD only, and its bytes are the read's own range GET."""
    world = FeedWorld(GAME, changes=[2.3, 7.7])
    final = follow(world, one_game(), fallback=5.0, read_ahead=False)
    assert (final["event_id"], final["home"]["score"], final["away"]["score"], final["final"]) == (2, 1, 0, True)
    assert [ahead for _, ahead in world.aheads] == [{}] * len(world.aheads)
    assert (7.7, frozenset({SINGLE})) in world.polls
    assert world.ranges_read == [(2.3, SINGLE), (7.7, SINGLE)]


def test_an_idle_game_costs_one_poll_per_fallback_interval() -> None:
    """The game stays 1-0 for a minute: the loop waits for the feed, and polls every 5 s only."""
    world = FeedWorld(at((0.0, {SINGLE: LIVE}), (60.0, {SINGLE: FINAL})), changes=[60.0])
    follow(world, one_game(), fallback=5.0)
    idle = [when for when, _ in world.polls if 1.0 <= when < 60.0]
    assert idle == [5.0 * n for n in range(1, 12)]  # 11 polls in the idle minute; polling each second: 59
    assert max(world.waits) == 5.0


def test_full_polls_that_take_long_are_made_less_often_so_they_hold_the_loop_a_twentieth_of_its_time() -> None:
    """Each LIST takes 0.5 s (a big prefix): 0.5 / 0.05 = 10 s from one to the next, not 5."""
    world = FeedWorld(at((0.0, {SINGLE: LIVE}), (60.0, {SINGLE: FINAL})), changes=[60.0], full_poll_takes=0.5)
    follow(world, one_game(), fallback=5.0)
    assert [when for when, games in world.polls if games is None and when < 60.0] == [0.0, 10.0, 20.0, 30.0, 40.0, 50.0]
    assert (FULL_POLL_SHARE, max(world.waits)) == (0.05, 9.5)  # each wait starts once the LIST has answered


def test_an_idle_game_lets_go_of_its_workers_on_time_and_polls_no_more_for_it() -> None:
    """Read at 0 s, nothing new until 60 s: the wait ends at 12 s to let go of the workers, a
    moment between two fallback polls, and the polls stay one per fallback interval."""
    world = FeedWorld(at((0.0, {SINGLE: LIVE}), (60.0, {SINGLE: FINAL})), changes=[60.0])
    follow(world, one_game(release_workers_after=12.0), fallback=5.0)
    assert world.released == [12.0]
    assert [when for when, _ in world.polls if 1.0 <= when < 60.0] == [5.0 * n for n in range(1, 12)]


def test_a_feed_that_stops_mid_game_falls_back_to_polling_says_so_once_and_is_listened_to_again() -> None:
    """Down from 3 s to 20 s: polled every second meanwhile; listened to again with backoff; nothing lost."""
    game = at((2.3, {SINGLE: LIVE}), (7.7, {SINGLE: FINAL}), (8.5, {SINGLE: CORRECTED}))
    world = FeedWorld(game, changes=[2.3, 3.0, 7.7, 8.5], feed_down=lambda now: 3.0 <= now < 20.0)
    final = follow(world, one_game(settle_seconds=30.0), fallback=5.0)
    assert (final["event_id"], final["home"]["score"], final["away"]["score"]) == (2, 1, 1)  # the correction
    full = [when for when, games in world.polls if games is None]
    down = [when for when in full if 3.0 <= when < 20.0]  # the ticks go on a second apart from 2.3 s
    assert down == [round(3.3 + n, 3) for n in range(17)]  # every second
    assert world.listens[:3] == [0.0, 4.3, 6.3]  # at the start; then from 3 s on: after 1 s, 2 s, ...
    assert world.listens[-1] >= 20.0 and min(w for w in full if w >= world.listens[-1]) == world.listens[-1]
    said = [m for level, m in world.logs if "the change feed" in m and level == "warning"]
    assert len(said) == 1 and "polling every 1 s" in said[0] and "the filer closed the stream" in said[0]
    assert world.finalized == [[GAME_A], [GAME_A]]  # the final, then its correction: once each


def test_a_change_the_feed_loses_is_caught_by_the_next_full_poll() -> None:
    world = FeedWorld(GAME, changes=[2.3, 7.7], lost={7.7})
    final = follow(world, one_game(), fallback=5.0)
    assert final["event_id"] == 2
    assert world.upserted == [2.3, 10.0]  # the final, lost by the feed, read at the 10 s full poll


def test_notifications_of_other_objects_are_ignored_and_said_once() -> None:
    others = ["games/gamestream.txt.tmp", "games/other.txt", "games/saturday/g1.txt", "archive/gamestream.txt"]
    world = FeedWorld(GAME, changes=[2.3, 5.5, 7.7], extra=lambda now: others)
    follow(world, one_game(), fallback=50.0)
    assert [games for _, games in world.polls if games is not None] == [frozenset({SINGLE})] * 2
    assert world.upserted == [2.3, 7.7]  # 5.5 s: only other objects changed: no HEAD, nothing read
    ignored = [m for _, m in world.logs if "no game of" in m]
    assert len(ignored) == 1


def test_a_flood_of_notifications_for_one_game_is_one_head_and_one_read_per_tick() -> None:
    flood = ["games/saturday/a.txt"] * 500 + [f"games/saturday/x{n}.txt" for n in range(3)]
    games = at((1.0, {"a": LIVE}), (2.0, {"a": FINAL}))
    world = FeedWorld(games, url=DAY, changes=[1.0, 2.0], extra=lambda now: flood)
    follow(world, day(), fallback=50.0)
    asked = [games for _, games in world.polls if games is not None]
    assert asked == [frozenset({"a", "x0", "x1", "x2"})] * 2  # one HEAD each; x0-x2 have no stream
    assert world.effects.count("ReadStreams") == 2


def test_more_heard_games_than_a_tick_heads_are_one_list() -> None:
    many = {f"g{n}": LIVE for n in range(HEAD_AT_MOST + 1)}
    world = FeedWorld(at((1.0, many)), url=DAY, changes=[1.0])
    loop = day(stall_timeout=3.0)
    try:
        follow(world, loop, fallback=50.0, until=2.0)
    except AssertionError:
        pass
    assert [(when, games) for when, games in world.polls] == [(0.0, None), (1.0, None)]


def test_more_heard_games_than_a_tick_heads_each_read_before_are_a_get_each_not_a_list() -> None:
    """65 games appear at 1 s (a LIST: each needs a HEAD) and all go final at 2 s: each is read
    from its last folded line with its poll, which a LIST would not spare."""
    many = [f"g{n}" for n in range(HEAD_AT_MOST + 1)]
    world = FeedWorld(
        at((1.0, dict.fromkeys(many, LIVE)), (2.0, dict.fromkeys(many, FINAL))), url=DAY, changes=[1.0, 2.0]
    )
    finals = follow(world, day(), fallback=50.0, until=10.0)
    assert {game: (final["event_id"], final["final"]) for game, final in finals.items()} == dict.fromkeys(
        many, (2, True)
    )
    assert world.polls[:3] == [(0.0, None), (1.0, None), (2.0, frozenset(many))]
    resumed = len(b"0 59:00 101 6 1\n")
    assert [(when, ahead) for when, ahead in world.aheads if ahead] == [(2.0, dict.fromkeys(many, resumed))]
    assert sorted(world.ranges_read) == sorted((1.0, game) for game in many)  # the first reads only


def test_game_of_names_only_the_runs_own_streams() -> None:
    assert game_of("games/gamestream.txt", ONE) == SINGLE
    assert game_of("games/gamestream.txt.1", ONE) is None
    assert game_of("games/saturday/g0042.txt", DAY) == "g0042"
    assert game_of("games/saturday/old/g0042.txt", DAY) is None  # a folder below the prefix
    assert game_of("games/saturday/notes.csv", DAY) is None
    assert game_of("other/saturday/g0042.txt", DAY) is None
    assert game_of("games/saturdays/g0042.txt", DAY) is None


def test_without_a_feed_nothing_listens_and_every_tick_polls() -> None:
    world = World(GAME)
    run(world, one_game())
    assert "Listen" not in world.effects and "AwaitChanges" not in world.effects
    assert world.effects.count("Poll") == world.effects.count("Sleep") + 1


assert (HOME, AWAY) == (101, 205)  # the matchup the hand counts above are of


def test_a_poll_of_heard_games_returns_those_changed_and_those_left_unread_in_id_order() -> None:
    loop = day()
    versions = {game: version(LIVE) for game in ("a", "b", "c")}
    assert loop.polled(0.0, versions) == ["a", "b", "c"]  # new: every one changed
    assert loop.polled(1.0, {"b": version(FINAL)}, games={"b", "z"}) == ["a", "b", "c"]  # none read yet
    assert loop.unread() == ["a", "b", "c"] and loop.busy()


def test_the_end_of_game_line_heard_on_its_own_after_the_final_writes_nothing_again() -> None:
    """The feed hears each write, so the line after the final clock comes in a tick of its own: the
    box score it gives is the final as stored, so nothing is written, announced or finalized again."""
    ended = FINAL + b"-1 00:00 0 0 0\n"
    world = FeedWorld(
        at((2.3, {SINGLE: LIVE}), (7.7, {SINGLE: FINAL}), (8.0, {SINGLE: ended})), changes=[2.3, 7.7, 8.0]
    )
    final = follow(world, one_game(), fallback=5.0)
    assert final["event_id"] == 2 and final["final"]
    assert world.upserted == [2.3, 7.7]
    assert world.finalized == [[GAME_A]]
    assert [m.event for m in world.moments if m.event == "sidearm.game.final"] == ["sidearm.game.final"]
    assert world.effects.count("ReadStreams") == 3  # the end-of-game line was read, and changed nothing


def test_with_many_games_known_a_tenth_of_them_heard_are_still_heads() -> None:
    feed = Feed("a test's", DAY, 1.0, 5.0, listening=True, full_poll_at=0.0)
    feed.heard = {f"g{n}" for n in range(900)}
    assert feed.to_poll(1.0, known=10_000) == frozenset(feed.heard)  # 900 HEADs, not a LIST of 10,000
    feed.heard.add("g900")
    feed.heard |= {f"h{n}" for n in range(100)}
    assert feed.to_poll(1.0, known=10_000) is None  # 1,001: one LIST
    assert feed.to_poll(1.0, known=100) is None
