"""The restart rule: a crashed live run is started again at most N times per game in a window."""

from __future__ import annotations

from boxscore.restarts import (
    NOT_RESTARTED,
    Crash,
    LeaveCrashed,
    NothingToDo,
    Restart,
    RestartPolicy,
    decide,
    restart_of,
)

POLICY = RestartPolicy(max_restarts=3, window_seconds=600)


def crash(run: str, restarted_at: tuple[float, ...] = (), still_crashed: bool = True) -> Crash:
    return Crash(run, "g1", "brave-otter", still_crashed, restarted_at)


def test_a_first_crash_is_restarted_and_the_new_run_names_the_crashed_one() -> None:
    decided = decide(crash("run-a"), now=1000, policy=POLICY)
    assert decided == Restart(
        ("restarted", "restart-of:run-a"),
        "brave-otter, restart 1",
        "game g1: run run-a crashed; restart 1 of at most 3 in 10 min",
    )
    assert restart_of(decided.tags) == "run-a" and restart_of(("restarted", "other")) is None


def test_the_third_restart_is_made_and_a_fourth_crash_is_left_with_the_game_named() -> None:
    third = decide(crash("run-c", (900, 950)), now=1000, policy=POLICY)
    assert isinstance(third, Restart) and third.name == "brave-otter, restart 3"
    left = decide(crash("run-d", (900, 950, 990)), now=1000, policy=POLICY)
    assert left == LeaveCrashed(
        "not restarted: game g1 crashed again after 3 restarts in 10 min "
        "(at most 3: the restart deployment's max_restarts); start it again by hand"
    )
    assert left.message.startswith(NOT_RESTARTED)


def test_restarts_older_than_the_window_do_not_count() -> None:
    # counted by hand: at now=2000 with a 600 s window, 1400 is in (exactly on the edge), 1399 out
    fourth = decide(crash("r", (1000, 1399, 1400)), now=2000, policy=POLICY)
    assert isinstance(fourth, Restart) and fourth.name == "brave-otter, restart 4"  # the name counts them all
    assert isinstance(decide(crash("r", (1400, 1500, 1600)), now=2000, policy=POLICY), LeaveCrashed)
    assert isinstance(decide(crash("r"), now=0, policy=RestartPolicy(max_restarts=0)), LeaveCrashed)


def test_a_run_that_is_not_crashed_any_more_is_left_alone_whatever_its_restarts() -> None:
    # a person started it again by hand, or cancelled it, between the event and the restart run
    assert decide(crash("run-a", still_crashed=False), now=1000, policy=POLICY) == NothingToDo(
        "flow run run-a is not Crashed any more"
    )
    assert isinstance(decide(crash("run-a", (990, 995, 999), False), now=1000, policy=POLICY), NothingToDo)


def test_a_run_started_by_hand_has_nothing_to_start_again_whatever_its_state() -> None:
    """``python -m flows.live_boxscore`` stopped with Ctrl-C, or a flow called in a script: no
    deployment started it, so there is none to run again; the restart run says so and completes."""
    by_hand = Crash("run-h", "g1", "brave-otter", True, (), deployed=False)
    assert decide(by_hand, now=1000, policy=POLICY) == NothingToDo(
        "flow run run-h was started by hand, not by a deployment: there is no deployment to start again; "
        "start it again as it was started"
    )
