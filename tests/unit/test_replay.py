"""The simulator's timeline: when each frame is written, and which writes go out together."""

from __future__ import annotations

from boxscore.replay import Write, replay_frames, replay_rounds, replay_schedule
from tests.recorded_game import EVENTS_FILE


def test_frames_wait_for_the_game_clock() -> None:
    frames = list(replay_frames(EVENTS_FILE.read_text()))
    assert len(frames) == 72
    # 60:00 -> 59:51 -> 57:06 -> 56:13: 9, 165 and 53 game seconds (read off the events file)
    assert [f.wait_game_seconds for f in frames[:3]] == [9, 165, 53]
    assert frames[0].text == "0 59:51 101 2 0\n"
    # 00:17 -> 00:00 for event 70, then the sentinel at the same clock
    assert [f.wait_game_seconds for f in frames[-2:]] == [17, 0]
    assert sum(f.wait_game_seconds for f in frames) == 3600


def test_schedule_staggers_games_and_keeps_game_order_on_ties() -> None:
    schedule = replay_schedule({"b": "0 59:00 1 1 0\n", "a": "0 59:30 1 1 0\n1 59:00 1 2 1\n"}, stagger=30)
    assert [(w.at, w.game_id) for w in schedule] == [(30, "a"), (60, "a"), (90, "b")]


def test_rounds_send_different_games_together_and_one_game_in_order() -> None:
    writes = [Write(5, "a", "a1"), Write(5, "b", "b1"), Write(5, "a", "a2"), Write(7, "a", "a3")]
    assert [[w.text for w in r] for r in replay_rounds(writes)] == [["a1", "b1"], ["a2"], ["a3"]]


def test_a_frame_is_the_object_so_far_and_a_line_without_a_clock_is_written_at_once() -> None:
    frames = list(replay_frames("0 59:00 1 1 0\nnot an event\n1 58:30 1 2 1\n"))
    assert [(f.wait_game_seconds, f.text) for f in frames] == [
        (60, "0 59:00 1 1 0\n"),
        (0, "0 59:00 1 1 0\nnot an event\n"),
        (30, "0 59:00 1 1 0\nnot an event\n1 58:30 1 2 1\n"),
    ]


def test_games_start_together_unless_staggered_and_each_write_carries_its_frame() -> None:
    schedule = replay_schedule({"b": "0 59:00 1 1 0\n", "a": "0 59:30 1 1 0\n"})
    assert [(w.at, w.game_id, w.text) for w in schedule] == [(30, "a", "0 59:30 1 1 0\n"), (60, "b", "0 59:00 1 1 0\n")]


def test_a_later_moment_starts_its_own_rounds() -> None:
    writes = [Write(5, "a", "a1"), Write(7, "b", "b1"), Write(7, "a", "a2")]
    assert [[w.text for w in r] for r in replay_rounds(writes)] == [["a1"], ["b1", "a2"]]
