"""Which game a stream holds: README's identity rules, case by case."""

from __future__ import annotations

import hashlib

import pytest

from boxscore.identity import BadGameId, GameRecord, Identity, checked_game_id, identify

A = b"0 59:51 101 2 0\n1 57:06 101 6 1\n2 00:00 0 0 0\n"  # a finished game
A_START = b"0 59:51 101 2 0\n"
B = b"0 59:51 101 2 0\n1 55:00 205 8 1\n2 00:00 0 0 0\n"  # opens like A, then differs


def gid(first_line: str, suffix: str = "") -> str:
    return "g" + hashlib.sha256(first_line.encode()).hexdigest()[:12] + suffix


A_ID = gid("0 59:51 101 2 0")


def test_a_first_game_gets_the_digest_of_its_first_line() -> None:
    assert identify(A_START, []) == Identity(A_ID, True)


def test_a_restart_or_a_correction_mid_game_is_the_same_game() -> None:
    live = GameRecord(A_ID, "0 59:51 101 2 0", A_START)
    assert identify(A, [live]) == Identity(A_ID, False)
    assert identify(b"0 59:51 101 2 0\n1 57:06 101 6 0\n", [live]) == Identity(A_ID, False)


def test_a_stream_that_agrees_with_the_final_is_that_game() -> None:
    final = GameRecord(A_ID, "0 59:51 101 2 0", A, final=True)
    assert identify(A, [final]) == Identity(A_ID, False)  # restart after the final
    assert identify(A_START, [final]) == Identity(A_ID, False)  # a replay of it, under way
    assert identify(A + b"3 00:00 101 6 1\n", [final]) == Identity(A_ID, False)  # appended correction


def test_a_different_game_with_the_same_opening_line_is_a_new_game() -> None:
    final = GameRecord(A_ID, "0 59:51 101 2 0", A, final=True)
    assert identify(B, [final]) == Identity(A_ID + "-2", True)
    assert identify(B, [final], settling=True) == Identity(A_ID, False)  # within settle: a correction


def test_a_replay_of_an_earlier_game_keeps_its_id() -> None:
    a = GameRecord(A_ID, "0 59:51 101 2 0", A, final=True)
    b = GameRecord(A_ID + "-2", "0 59:51 101 2 0", B, final=True)
    other = GameRecord(gid("0 59:00 205 1 1"), "0 59:00 205 1 1", b"0 59:00 205 1 1\n", final=True)
    assert identify(A, [other, b, a]) == Identity(A_ID, True)
    assert identify(b"0 59:51 101 2 0\n1 57:06 101 6 1\n", [other, b, a]) == Identity(A_ID, True)


def test_no_identity_without_a_first_event_line() -> None:
    assert identify(b"", []) is None
    assert identify(b"\n  \nnot a shot\n0 59:51 101 2 0\n", []) is None


def test_a_given_id_wins_and_a_different_one_is_a_new_game() -> None:
    current = GameRecord("opener", "0 59:51 101 2 0", A, final=True)
    assert identify(A, [current], "opener") == Identity("opener", False)
    assert identify(A, [current], "second") == Identity("second", True)


@pytest.mark.parametrize("bad", ["", " ", "a/b", "a$b", "-lead", "x" * 65, "naïve", "a b"])
def test_ids_that_keys_cannot_take_are_refused_with_the_rule(bad: str) -> None:
    with pytest.raises(BadGameId, match="use 1 to 64 letters, digits"):
        checked_game_id(bad)


def test_good_ids_pass() -> None:
    assert [checked_game_id(g) for g in ("g1", "2026-03-14.syr-jhu", "A_b")] == ["g1", "2026-03-14.syr-jhu", "A_b"]


def test_a_replay_of_an_older_final_game_keeps_its_id_behind_a_newer_game() -> None:
    older = GameRecord(A_ID, "0 59:51 101 2 0", A, final=True, finalized=True)
    newer = GameRecord("g-newer", "0 58:00 205 8 0", b"0 58:00 205 8 0\n", final=True)
    assert identify(A_START, [newer, older]) == Identity(A_ID, True)


def test_the_opening_is_the_first_line_with_more_than_ascii_blanks_cut_to_120() -> None:
    from boxscore.identity import first_line, opening

    assert opening(b" \t\r\n\n\f\v\n") is None and first_line(b"\n\n") is None
    assert opening(b"\n  X  \n0 59:51 101 2 0\n") == "X"  # what a person sees: not an event
    assert opening(b"\xc2\xa0\n0 59:51 101 2 0\n") == "\xa0"  # a no-break space is not a blank
    assert opening(b"\xff0 59:51\n") == "\ufffd0 59:51"  # invalid UTF-8 is shown, never raised
    assert opening(b"7" * 500) == "7" * 120
    assert first_line(b"\r\n 0 59:51 101 2 0\r\n") == "0 59:51 101 2 0"


def test_a_bad_game_id_is_refused_with_the_rule() -> None:
    with pytest.raises(BadGameId) as refused:
        checked_game_id("-g 1")
    assert str(refused.value) == (
        "game id '-g 1' is not valid: use 1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit"
    )
