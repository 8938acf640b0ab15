"""What an operator watches (:mod:`boxscore.watch`), through the live loop's step with fake time.

Each test runs a game through :func:`tests.unit.test_step.run` and reads back the figures and
moments the step handed out; the expectations are counted by hand from the few lines each stream
holds and from the times the fake world says things happened.
"""

from __future__ import annotations

from boxscore.live import SINGLE, Backoff
from boxscore.watch import STARTED_ONE_BY_ONE, Moment, Watch
from tests.unit.test_live import FINAL, GAME_A, LIVE
from tests.unit.test_step import GAME, World, at, multi, run, single

RESOURCE = f"sidearm.game.{GAME_A}"


def names(moments: list[Moment]) -> list[tuple[str, str]]:
    return [(moment.event, moment.resource) for moment in moments]


def test_a_game_is_started_final_and_finalized_once_each_with_its_figures() -> None:
    world = World(GAME)
    run(world, single(settle_seconds=3.0))
    assert names(world.moments) == [
        ("sidearm.game.started", RESOURCE),
        ("sidearm.game.final", RESOURCE),
        ("sidearm.game.finalized", RESOURCE),
    ]
    assert world.moments[1].payload == {"away": 0, "home": 1}
    last = world.figures[-1].games[GAME_A]
    # two box scores (the live one at 2 s, the final at 5 s); three events: ids 0 and 1, then the final whistle 2
    assert (last.written, last.events, last.rejected, last.state) == (2, 3, 0, "finalized")
    assert (last.score, last.clock) == ("Johns Hopkins 0 - 1 Syracuse", "00:00")
    assert last.since_change == world.now - 5.0  # the stream last changed at 5 s
    # one lag per box score stored, each from its change's poll to its upsert: the same tick here
    assert [lag for figures in world.figures for lag in figures.lags] == [0.0, 0.0]
    assert all(not service.failures and not service.backed_off for service in world.figures[-1].services.values())


def test_mongodb_down_makes_the_game_behind_then_caught_up_and_the_service_down_then_back() -> None:
    """MongoDB is down from 2 s to 9 s; the stream appears at 2 s and is final at 5 s."""
    world = World(GAME, down=lambda now: {"mongo"} if 2.0 <= now < 9.0 else set())
    run(world, single(settle_seconds=3.0, behind_seconds=5.0))
    (stored_at,) = world.upserted  # the one write that got through: the final, seen at 5 s
    assert stored_at >= 9.0
    mongodb = "sidearm.service.mongodb"
    assert names(world.moments)[:2] == [("sidearm.service.down", mongodb), ("sidearm.game.behind", RESOURCE)]
    down, behind, back = world.moments[0], world.moments[1], world.moments[2]
    assert down.payload == {"reason": "ConnectionError: mongo is down"} and down.name == "MongoDB (mongodb://db)"
    assert behind.payload == {"behind_seconds": 5.0}  # said at the first tick 5 s after the change at 2 s
    trailing = [(f.games[GAME_A].behind, f.games[GAME_A].written) for f in world.figures if GAME_A in f.games]
    assert trailing[-1] == (0.0, 1) and max(behind for behind, _ in trailing) == stored_at - 2.0 - 1.0
    assert (back.event, back.payload) == ("sidearm.service.back", {"down_seconds": stored_at - 2.0})
    caught_up = [m for m in world.moments if m.event == "sidearm.game.caught-up"]
    assert [m.payload for m in caught_up] == [{"behind_seconds": stored_at - 2.0}]
    assert [lag for figures in world.figures for lag in figures.lags] == [stored_at - 5.0]
    backed_off = [figures.services["mongodb"].backed_off for figures in world.figures]
    assert backed_off[:2] == [False, False] and True in backed_off and backed_off[-1] is False
    failures = [message for _, message in world.logs if message.startswith("MongoDB (mongodb://db) failed (")]
    assert world.figures[-1].services["mongodb"].failures == len(failures) > 0


def test_a_game_not_behind_long_enough_is_never_said_behind() -> None:
    world = World(GAME, down=lambda now: {"mongo"} if 2.0 <= now < 3.0 else set())
    run(world, single(settle_seconds=3.0, behind_seconds=5.0))
    assert "sidearm.game.behind" not in [m.event for m in world.moments]
    assert "sidearm.game.caught-up" not in [m.event for m in world.moments]


def test_a_prefix_run_counts_each_game_and_shows_its_games_when_their_states_change() -> None:
    bad = LIVE + b"this is not an event\n" + b"2 00:00 0 0 0\n"  # one line rejected
    world = World(at((0.0, {"a": LIVE}), (1.0, {"a": LIVE, "b": bad}), (3.0, {"a": FINAL, "b": bad})))
    run(world, multi(settle_seconds=2.0, finalize_every=0.0, summary_every=1000.0, reference_every=0.0))
    last = world.figures[-1].games
    assert sorted(last) == ["a", "b"]
    assert (last["a"].written, last["a"].events, last["a"].rejected) == (2, 3, 0)
    assert (last["b"].written, last["b"].events, last["b"].rejected) == (1, 3, 1)
    assert {game: figures.state for game, figures in last.items()} == {"a": "finalized", "b": "finalized"}
    shown = [{game: figures.state for game, figures in games.items()} for games in world.games_shown]
    assert shown == [  # each final game is finalized in the tick it ends (finalize_every 0)
        {"a": "live"},  # 0 s: the first game
        {"a": "live", "b": "finalized"},  # 1 s: b appears, already over
        {"a": "finalized", "b": "finalized"},  # 3 s: a is over
    ]
    moments = [(m.event, m.resource) for m in world.moments if m.resource == "sidearm.game.b"]
    assert [event for event, _ in moments] == ["sidearm.game.started", "sidearm.game.final", "sidearm.game.finalized"]


def test_a_new_game_on_the_single_stream_keeps_the_last_one_s_figures() -> None:
    watch = Watch(30.0, services())
    watch.identified(SINGLE, "first")
    watch.folded(SINGLE, 5, 1)
    watch.identified(SINGLE, "second")
    watch.folded(SINGLE, 2, 0)
    games = watch.figures(10.0, 0.0).games
    assert (games["first"].events, games["first"].rejected, games["second"].events) == (5, 1, 2)
    assert games["first"].since_change == -1.0


def services() -> dict[str, Backoff]:
    """The loop's backoffs, by the watch's service names."""
    return {
        key: Backoff(name) for key, name in (("s3", "S3"), ("dask", "Dask"), ("mongodb", "MongoDB"), ("sql", "SQL"))
    }


def fail(watch: Watch, service: str, now: float) -> None:
    """A failure as the loop has it: its backoff counts it, then the watch."""
    backoff = watch.services[service]
    assert isinstance(backoff, Backoff)
    backoff.failed(now, "refused", "waiting")
    watch.failed(service, backoff.reason)


def box_score(event: int, away: int, home: int, final: bool, clock: str | None = "31:10") -> dict:
    """The parts of a box score the watch reads."""
    return {
        "_id": event,
        "event_id": event,
        "final": final,
        "timestamp": clock,
        "home": {"name": "syracuse", "score": home},
        "away": {"name": "johns hopkins", "score": away},
    }


def test_times_are_said_to_a_tenth_of_a_second() -> None:
    watch = Watch(30.0, services())
    fail(watch, "mongodb", 1.04)
    watch.answered("mongodb", 3.37)
    watch.polled(0.0, {"g1": "v1"}, set())
    watch.figures(30.26, 0.0)
    watch.stored(31.77, "g1", box_score(1, 0, 0, False), seen=0.0, caught_up=True)
    said = {moment.event: moment.payload for moment in watch.moments()}
    assert said["sidearm.service.back"] == {"down_seconds": 2.3}
    assert said["sidearm.game.behind"] == {"behind_seconds": 30.3}
    assert said["sidearm.game.caught-up"] == {"behind_seconds": 31.8}


def test_one_failure_is_a_service_backed_off_and_an_unreadable_stream_an_s3_failure_only() -> None:
    watch = Watch(30.0, services())
    fail(watch, "sql", 1.0)
    watch.read_failed()
    watch.read_failed()
    figures = watch.figures(2.0, 0.25)
    assert (figures.services["sql"].failures, figures.services["sql"].backed_off) == (1, True)
    assert (figures.services["s3"].failures, figures.services["s3"].backed_off) == (2, False)
    assert figures.tick_seconds == 0.25
    assert [moment.event for moment in watch.moments()] == ["sidearm.service.down"]


def test_a_game_s_counts_add_up_and_a_game_never_polled_has_no_change_time() -> None:
    watch = Watch(30.0, services())
    watch.folded("g1", 10, 1)
    watch.folded("g1", 5, 2)
    watch.finalized(["g9"])  # finalized before this run saw it (a restart): a game of its own
    games = watch.figures(3.0, 0.0).games
    assert (games["g1"].events, games["g1"].rejected, games["g1"].since_change) == (15, 3, -1.0)
    assert games["g9"].state == "finalized"


def test_a_box_score_makes_a_game_live_a_final_one_final_and_nothing_unmakes_final() -> None:
    watch = Watch(30.0, services())
    watch.stored(1.0, "g1", box_score(1, 0, 1, False, clock=None), seen=None, caught_up=True)
    assert (watch.figures(1.0, 0.0).games["g1"].state, watch.figures(1.0, 0.0).games["g1"].clock) == ("live", "")
    watch.stored(2.0, "g1", box_score(2, 0, 1, True, clock="00:00"), seen=None, caught_up=True)
    watch.stored(3.0, "g1", box_score(3, 0, 1, False), seen=None, caught_up=True)
    assert watch.figures(3.0, 0.0).games["g1"].state == "final"
    assert [m.event for m in watch.moments()] == ["sidearm.game.started", "sidearm.game.final"]


def test_a_new_game_on_the_single_stream_starts_from_nothing_and_the_last_one_is_kept_whole() -> None:
    watch = Watch(30.0, services())
    watch.identified(SINGLE, "first")
    watch.stored(1.0, SINGLE, box_score(7, 2, 3, True, clock="00:00"), seen=None, caught_up=True)
    watch.folded(SINGLE, 8, 1)
    watch.identified(SINGLE, "second")
    games = watch.figures(2.0, 0.0).games
    first, second = games["first"], games["second"]
    assert (first.written, first.events, first.rejected, first.state) == (1, 8, 1, "final")
    assert first.score == "Johns Hopkins 2 - 3 Syracuse"
    assert (second.written, second.events, second.rejected, second.state) == (0, 0, 0, "waiting")
    assert (second.score, second.clock) == ("", "")
    watch.finalized(["first"])  # its finalize came after the next game began
    assert watch.figures(3.0, 0.0).games["first"].state == "finalized"
    assert watch.figures(3.0, 0.0).games["second"].state == "waiting"


def test_more_games_starting_together_than_one_by_one_allows_are_one_moment_naming_them_all() -> None:
    watch = Watch(30.0, services())
    for n in range(STARTED_ONE_BY_ONE):
        watch.stored(1.0, f"g{n:03d}", box_score(1, 0, 1, False), seen=None, caught_up=True)
    assert [m.event for m in watch.moments()] == ["sidearm.game.started"] * 50  # as many as allowed: one each
    for n in range(50, 111):
        final = n == 110  # one of them ends as it starts: its final is its own moment still
        watch.stored(2.0, f"g{n:03d}", box_score(1, 0, 1, final), seen=None, caught_up=True)
    together, final = watch.moments()
    assert (together.event, together.resource, together.payload["count"]) == (
        "sidearm.games.started",
        "sidearm.games",
        61,
    )
    assert together.payload["games"] == [f"g{n:03d}" for n in range(50, 111)]
    assert (final.event, final.resource) == ("sidearm.game.final", "sidearm.game.g110")


def test_a_game_told_of_has_fresh_figures_every_tick_and_every_game_at_least_every_second() -> None:
    watch = Watch(30.0, services())
    watch.polled(0.0, {"g1": "v1", "g2": "v1"}, set())
    assert {g: f.since_change for g, f in watch.figures(1.0, 0.0).games.items()} == {"g1": 1.0, "g2": 1.0}
    watch.folded("g2", 3, 0)  # g2 is told of; g1 is not
    later = watch.figures(1.5, 0.0).games
    assert (later["g1"].since_change, later["g2"].since_change, later["g2"].events) == (1.0, 1.5, 3)
    assert watch.figures(2.0, 0.0).games["g1"].since_change == 2.0  # a second after every game's last
    # g1's box score never follows its change: said behind within a second of its 30 s, untold of
    assert [m.event for m in watch.moments()] == []
    watch.figures(29.5, 0.0)
    watch.figures(30.2, 0.0)
    assert watch.moments() == []
    watch.figures(30.6, 0.0)
    assert [(m.event, m.payload) for m in watch.moments()] == [
        ("sidearm.game.behind", {"behind_seconds": 30.6}),
        ("sidearm.game.behind", {"behind_seconds": 30.6}),
    ]
