"""The restart rule: a crashed live run is started again at most N times per game in a window."""

from __future__ import annotations

from boxscore.restarts import NOT_RESTARTED, LeaveCrashed, NothingToDo, Restart, RestartPolicy, decide, restart_of

POLICY = RestartPolicy(max_restarts=3, window_seconds=600)


def test_a_first_crash_is_restarted_and_the_new_run_names_the_crashed_one() -> None:
    decided = decide("g1", "run-a", True, [], now=1000, policy=POLICY)
    assert decided == Restart(
        ("restarted", "restart-of:run-a"), "game g1: run run-a crashed; restart 1 of at most 3 in 10 min"
    )
    assert restart_of(decided.tags) == "run-a" and restart_of(("restarted", "other")) is None


def test_the_third_restart_is_made_and_a_fourth_crash_is_left_with_the_game_named() -> None:
    assert isinstance(decide("g1", "run-c", True, [900, 950], now=1000, policy=POLICY), Restart)
    left = decide("g1", "run-d", True, [900, 950, 990], now=1000, policy=POLICY)
    assert left == LeaveCrashed(
        "not restarted: game g1 crashed again after 3 restarts in 10 min "
        "(at most 3: the restart deployment's max_restarts); start it again by hand"
    )
    assert left.message.startswith(NOT_RESTARTED)


def test_restarts_older_than_the_window_do_not_count() -> None:
    # counted by hand: at now=2000 with a 600 s window, 1400 is in (exactly on the edge), 1399 out
    assert isinstance(decide("g1", "r", True, [1000, 1399, 1400], now=2000, policy=POLICY), Restart)
    assert isinstance(decide("g1", "r", True, [1400, 1500, 1600], now=2000, policy=POLICY), LeaveCrashed)
    assert isinstance(decide("g1", "r", True, [], now=0, policy=RestartPolicy(max_restarts=0)), LeaveCrashed)


def test_a_run_that_is_not_crashed_any_more_is_left_alone_whatever_its_restarts() -> None:
    # a person started it again by hand, or cancelled it, between the event and the restart run
    assert decide("g1", "run-a", False, [], now=1000, policy=POLICY) == NothingToDo(
        "flow run run-a is not Crashed any more"
    )
    assert isinstance(decide("g1", "run-a", False, [990, 995, 999], now=1000, policy=POLICY), NothingToDo)
