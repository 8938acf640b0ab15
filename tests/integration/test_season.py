"""A season, not one game: games one after another on one stream, replays, restarts, finalizers.

Expected tables are recounted naively from the game texts (tests.helpers.expected_season); game
ids follow README's rule, worked out here from the first line (tests.recorded_game).
"""

from __future__ import annotations

import random
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from boxscore.games import Matchup
from boxscore.identity import BadGameId
from boxscore.live import StreamTimeout
from boxscore.replay import replay_frames
from boxscore.roster import Player, Team
from boxscore.season import GameResult, result_of
from boxscore.synthetic import game_recording
from devstack.follow import Background
from devstack.servers import LiveFlowProcess, offline_prefect_env, wait_until
from flows.finalize import finalize_game
from flows.gamestream import SEED_DIR, gamestream
from flows.live_boxscore import live_boxscore
from tasks.boxscores import CURRENT
from tasks.reference import read_seed, reset_reference
from tasks.stream import write_stream
from tests.helpers import as_stored, boxscores, expected_season, latest_of_game, mongo_client, table_rows
from tests.recorded_game import EVENTS_FILE, FINAL_BOXSCORE, RECORDED_GAME_ID, derived_game_id

ROOT = Path(__file__).resolve().parents[2]
GAME_A = EVENTS_FILE.read_text()
SEED_NUMBERS = {
    101: ["6", "1", "2", "13", "17", "8", "9", "4", "15", "10"],
    205: ["1", "9", "2", "15", "16", "8", "17", "3", "5", "22"],
}
#: A different, shorter game between the same teams: 38 shots, the 00:00 mark and the sentinel.
GAME_B = game_recording(random.Random(2026), 101, 205, SEED_NUMBERS, 38) + "\n"
GAME_B_ID = derived_game_id(GAME_B.split("\n")[0])
FAST = {"poll_interval": 0.05, "wait_for_stream": 60, "stall_timeout": 120, "settle_seconds": 0.5}


def page(env: dict[str, str]) -> dict | None:
    """The page's query: the current box score (the latest stored), as built."""
    return as_stored(mongo_client(env["MONGO_URL"])[env["MONGO_DB"]][env["MONGO_COLLECTION"]].find_one(sort=CURRENT))


def archive(env: dict[str, str]) -> dict[str, dict]:
    archived = mongo_client(env["MONGO_URL"])[env["MONGO_DB"]][env["MONGO_COLLECTION"] + "_archive"]
    return {d["_id"]: as_stored(d) for d in archived.find()}


def tables(env: dict[str, str]) -> tuple[list[tuple], list[tuple]]:
    return table_rows(env["SQL_URL"], "teams2"), table_rows(env["SQL_URL"], "players2")


def play_step_by_step(
    env: dict[str, str], storage: dict, text: str, game_id: str, start: int = 0, upto: int | None = None
) -> None:
    """Write frames ``start`` to ``upto`` of the game; after each, the page shows this game at that event."""
    frames = list(replay_frames(text))[start:upto]
    for frame in frames:
        write_stream(env["GAMESTREAM_URL"], frame.text, storage)
        event = max(int(line.split()[0]) for line in frame.text.split("\n") if line.strip())
        wait_until(lambda e=event: (page(env) or {}).get("_id") == e, 60, f"the page at event {event}")
        shown = page(env)
        assert shown is not None and shown["game_id"] == game_id, shown


# the season tables on PostgreSQL: the concurrent finalizers below
@pytest.mark.parametrize("sql_url", ["sqlite"], indirect=True)
def test_game_b_after_game_a_takes_the_page_both_count_and_a_replay_of_a_counts_once(
    pipeline_env: dict[str, str], storage: dict, flow_log: list[str]
) -> None:
    gamestream(delay=0)
    assert live_boxscore(**FAST) == FINAL_BOXSCORE

    # B on the same object and collection: from its first box score on, the page shows B
    write_stream(pipeline_env["GAMESTREAM_URL"], GAME_B.split("\n")[0] + "\n", storage)
    live = Background(lambda: live_boxscore(**FAST)).start()
    play_step_by_step(pipeline_env, storage, GAME_B, GAME_B_ID)
    final_b = live.result(timeout=120)
    assert (final_b["game_id"], final_b["final"]) == (GAME_B_ID, True)
    after_b = expected_season([(101, 205, GAME_A), (101, 205, GAME_B)])
    assert tables(pipeline_env) == after_b
    assert archive(pipeline_env)[f"{RECORDED_GAME_ID}/70"] == {**FINAL_BOXSCORE, "_id": f"{RECORDED_GAME_ID}/70"}

    # A replayed: it keeps its id, takes the page again, and the season does not change
    gamestream(delay=0)
    assert live_boxscore(**FAST) == FINAL_BOXSCORE
    assert page(pipeline_env) == FINAL_BOXSCORE
    assert tables(pipeline_env) == after_b
    assert any(f"{GAME_B_ID}/" in key for key in archive(pipeline_env))

    # a run that finds only a finalized game says so and does not finalize it again
    flow_log.clear()
    assert live_boxscore(**FAST) == FINAL_BOXSCORE
    assert any(f"game {RECORDED_GAME_ID} is already final and finalized" in line for line in flow_log)
    assert not any("finalized 1 game" in line for line in flow_log)


@pytest.mark.parametrize("sql_url", ["sqlite"], indirect=True)
def test_game_b_killed_mid_game_and_restarted_archives_nothing_and_counts_once(
    pipeline_env: dict[str, str], storage: dict, tmp_path: Path
) -> None:
    from prefect.settings import PREFECT_API_URL

    gamestream(delay=0)
    assert live_boxscore(**FAST) == FINAL_BOXSCORE
    api = {"PREFECT_API_URL": str(PREFECT_API_URL.value())}
    args = ["--poll-interval", "0.05", "--wait-for-stream", "60", "--stall-timeout", "120", "--settle-seconds", "0.5"]
    write_stream(pipeline_env["GAMESTREAM_URL"], GAME_B.split("\n")[0] + "\n", storage)
    first = LiveFlowProcess(tmp_path / "first", project_dir=ROOT, extra_env=api, args=args).start(timeout=180)
    play_step_by_step(pipeline_env, storage, GAME_B, GAME_B_ID, upto=15)
    first.kill()
    archived = archive(pipeline_env)
    second = LiveFlowProcess(tmp_path / "second", project_dir=ROOT, extra_env=api, args=args).start(timeout=180)
    play_step_by_step(pipeline_env, storage, GAME_B, GAME_B_ID, start=15)
    code, _ = second.finish(timeout=180)
    assert code == 0, second.log_path.read_text()[-3000:]
    assert archive(pipeline_env) == archived, "a restart of the same game archives nothing"
    assert tables(pipeline_env) == expected_season([(101, 205, GAME_A), (101, 205, GAME_B)])


def test_two_finalize_runs_started_together_both_exit_0_with_the_right_tables(
    pipeline_env: dict[str, str], tmp_path: Path
) -> None:
    from prefect.settings import PREFECT_API_URL

    gamestream(delay=0)
    assert live_boxscore(**FAST, finalize=False) == FINAL_BOXSCORE
    env = {
        **offline_prefect_env(tmp_path / "home", str(PREFECT_API_URL.value())),
        "PYTHONPATH": str(ROOT),
        **pipeline_env,
    }
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "flows.finalize"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs[0][-2000:] + outputs[1][-2000:]
    assert tables(pipeline_env) == expected_season([(101, 205, GAME_A)])


@pytest.mark.parametrize("sql_url", ["sqlite"], indirect=True)
def test_prefix_game_id_reused_counts_once_and_a_final_naming_an_unknown_team_is_skipped(
    pipeline_env: dict[str, str], storage: dict, monkeypatch: pytest.MonkeyPatch, flow_log: list[str]
) -> None:
    prefix = pipeline_env["GAMESTREAM_URL"].rsplit("/", 1)[0] + "/games/"
    monkeypatch.setenv("GAMESTREAM_URL", prefix)
    env = {**pipeline_env, "GAMESTREAM_URL": prefix}
    teams, players = read_seed(SEED_DIR)
    visitors, vic = Team(999, "visitors", "none", 0, 0), Player(900, "vic", "7", 0, 0, 999)
    game_c = "0 59:00 999 7 1\n1 30:00 101 6 1\n2 20:00 999 7 1\n3 00:00 0 0 0\n"  # visitors win 2-1
    sql = pipeline_env["SQL_URL"]
    reset_reference(sql, [*teams, visitors], [*players, vic], [Matchup("g1", 101, 205), Matchup("g3", 101, 999)])
    write_stream(prefix + "g1.txt", GAME_A, storage)
    write_stream(prefix + "g3.txt", game_c, storage)
    finals = live_boxscore(**FAST)
    assert sorted(finals) == ["g1", "g3"]
    assert tables(env) == expected_season(
        [(101, 205, GAME_A), (101, 999, game_c)], [(999, "visitors", "none", 0, 0)], [(900, "vic", "7", 0, 0, 999)]
    )

    # the next run: the visitors are gone from the base tables, and g1 is used again by game B
    reset_reference(sql, teams, players, [Matchup("g1", 101, 205)])
    write_stream(prefix + "g1.txt", GAME_B, storage)
    flow_log.clear()
    finals = live_boxscore(**FAST)
    assert finals["g1"]["event_id"] == 38 and latest_of_game(env, "g1") == finals["g1"]
    assert "g1/70" in archive(env), "game A's final under g1 moved to the archive"
    assert tables(env) == expected_season([(101, 205, GAME_B)])
    assert "game g3 does not count in the season tables: team 999, player 900 not in the base tables" in flow_log


@pytest.mark.parametrize("sql_url", ["sqlite"], indirect=True)
def test_bad_identities_are_refused_by_name_and_nothing_is_written(
    pipeline_env: dict[str, str], storage: dict, monkeypatch: pytest.MonkeyPatch, flow_log: list[str]
) -> None:
    monkeypatch.setenv("GAME_ID", "")
    with pytest.raises(BadGameId, match="GAME_ID is set but empty"):
        live_boxscore(**FAST)
    monkeypatch.delenv("GAME_ID")
    with pytest.raises(BadGameId, match=r"game id 'a/b' is not valid: use 1 to 64 letters"):
        live_boxscore(**FAST, game_id="a/b")
    reset_reference(pipeline_env["SQL_URL"], *read_seed(SEED_DIR))
    write_stream(pipeline_env["GAMESTREAM_URL"], "hello feed\n" + GAME_A, storage)
    with pytest.raises(StreamTimeout, match="has not changed for 1 s"):
        live_boxscore(**{**FAST, "stall_timeout": 1})
    assert any("is not an event ('hello feed'); no box score is written until it is" in line for line in flow_log)
    assert boxscores(pipeline_env) == []


@pytest.mark.parametrize("sql_url", ["sqlite"], indirect=True)
def test_finalize_reads_the_final_in_full_and_counts_a_correction_the_live_reads_missed(
    pipeline_env: dict[str, str], storage: dict, flow_log: list[str]
) -> None:
    gamestream(delay=0)
    assert live_boxscore(**FAST, finalize=False) == FINAL_BOXSCORE
    # the scorer turns an early miss into a goal, in place: same size, the sequence intact
    lines = GAME_A.split("\n")
    index = next(i for i, line in enumerate(lines[1:], 1) if line.split()[2] == "205" and line.endswith(" 0"))
    lines[index] = lines[index][:-1] + "1"
    corrected = "\n".join(lines)
    write_stream(pipeline_env["GAMESTREAM_URL"], corrected, storage)
    finalize_game()
    assert tables(pipeline_env) == expected_season([(101, 205, corrected)])
    shown = page(pipeline_env)
    assert (shown["_id"], shown["home"]["score"], shown["away"]["score"], shown["final"]) == (70, 14, 10, True)
    assert any(f"game {RECORDED_GAME_ID} was corrected after its final" in line for line in flow_log)


@dataclass(frozen=True)
class Overlap:
    """How two finalizers' transactions went: whether both wrote before either read, and what each raised."""

    both_wrote_first: bool
    errors: list[BaseException]


def two_games_finalized_at_once(sql: str, monkeypatch: pytest.MonkeyPatch, wait_for_the_other: float) -> Overlap:
    """Two finalizers of *different* games, their transactions made to overlap, without task retries.

    Each waits (up to ``wait_for_the_other`` seconds) after writing its result for the other to have
    written its own, then reads every result. With the lock the second waits at the lock row
    instead, and the wait runs out; without it nothing stops either before the wait, so a generous
    bound makes the overlap certain however loaded the machine is.
    """
    from tasks import reference

    teams, players = read_seed(SEED_DIR)
    reset_reference.fn(sql, teams, players)
    both_written = threading.Barrier(2, timeout=wait_for_the_other)
    read_results = reference._read_results

    def after_the_other_wrote(connection: object) -> list:
        try:
            both_written.wait()
        except threading.BrokenBarrierError:
            pass  # the other finalizer is waiting for this one's lock
        return read_results(connection)

    monkeypatch.setattr(reference, "_read_results", after_the_other_wrote)
    results = [result_of("g1", FINAL_BOXSCORE), result_of("g2", FINAL_BOXSCORE)]
    errors: list[BaseException] = []

    def finalize(result: GameResult) -> None:
        try:
            reference.write_season.fn(sql, [result])  # .fn: no task retries to hide a race
        except BaseException as error:  # noqa: BLE001 - the test reports it
            errors.append(error)

    threads = [threading.Thread(target=finalize, args=(result,)) for result in results]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return Overlap(not both_written.broken, errors)


@pytest.mark.parametrize("sql_url", ["postgresql"], indirect=True)
def test_two_different_games_finalized_at_once_both_count(
    pipeline_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lost update season_lock prevents: without it (planted below) one game's result is lost
    or the second writer fails on teams2's keys; with it, the second waits and writes both."""
    from tasks import reference

    sql = pipeline_env["SQL_URL"]
    locked = two_games_finalized_at_once(sql, monkeypatch, wait_for_the_other=3)
    assert locked == Overlap(both_wrote_first=False, errors=[])
    assert tables(pipeline_env) == expected_season([(101, 205, GAME_A), (101, 205, GAME_A)])

    monkeypatch.setattr(reference, "take_turn", lambda connection: None)  # the planted defect: no lock
    reference.metadata.drop_all(reference.sql_engine(sql))
    unlocked = two_games_finalized_at_once(sql, monkeypatch, wait_for_the_other=60)
    assert unlocked.both_wrote_first
    assert unlocked.errors or tables(pipeline_env) != expected_season([(101, 205, GAME_A), (101, 205, GAME_A)])


BOUNDARY_GAME = (
    "\n".join(
        [
            "0 60:00 101 6 1",  # Q1 15:00, sam: 1-0
            "1 45:00 205 1 1",  # Q1 00:00, jimmy: 1-1
            "1 45:00 101 6 1",  # event 1 again: the first line wins
            "2 44:59 205 77 1",  # Q2 14:59, a jersey not on the roster: 1-2
            "3 15:00 101 6 0",  # Q3 00:00, a miss (corrected to a goal after the final, below)
            "4 00:00 101 1 1",  # Q4 00:00, sarah: 2-2, final
        ]
    )
    + "\n"
)


def scoring_of(document: dict) -> list[tuple]:
    return [
        (s["event_id"], s["period"], s["period_clock"], s["player_id"], s["home_score"], s["away_score"])
        for s in document["scoring"]
    ]


@pytest.mark.parametrize("sql_url", ["sqlite"], indirect=True)
def test_goals_on_the_quarter_boundaries_a_repeat_a_stranger_and_a_correction_live_and_after_finalize(
    pipeline_env: dict[str, str], storage: dict
) -> None:
    """Counted by hand from the lines above; the correction in place (event 3 a goal) comes after
    the final and is counted by finalize's full read."""
    reset_reference(pipeline_env["SQL_URL"], *read_seed(SEED_DIR))
    write_stream(pipeline_env["GAMESTREAM_URL"], BOUNDARY_GAME, storage)
    final = live_boxscore(**FAST, finalize=False)
    assert scoring_of(final) == [
        (0, 1, "15:00", 1, 1, 0),
        (1, 1, "00:00", 11, 1, 1),
        (2, 2, "14:59", None, 1, 2),
        (4, 4, "00:00", 2, 2, 2),
    ]
    assert [q["goals"] for q in final["home"]["periods"]] == [1, 0, 0, 1]
    assert [q["shots"] for q in final["home"]["periods"]] == [1, 0, 1, 1]
    assert final["game_flow"] == {"lead_changes": 1, "ties": 2, "home_largest_lead": 1, "away_largest_lead": 1}
    assert (final["home"]["status"], final["away"]["status"], final["quality"]["duplicates"]) == ("tied", "tied", 1)
    assert page(pipeline_env) == final

    write_stream(pipeline_env["GAMESTREAM_URL"], BOUNDARY_GAME.replace("3 15:00 101 6 0", "3 15:00 101 6 1"), storage)
    finalize_game()
    corrected = page(pipeline_env)
    assert scoring_of(corrected) == [
        (0, 1, "15:00", 1, 1, 0),
        (1, 1, "00:00", 11, 1, 1),
        (2, 2, "14:59", None, 1, 2),
        (3, 3, "00:00", 1, 2, 2),
        (4, 4, "00:00", 2, 3, 2),
    ]
    assert corrected["game_flow"] == {"lead_changes": 2, "ties": 2, "home_largest_lead": 1, "away_largest_lead": 1}
    assert (corrected["home"]["status"], corrected["away"]["status"]) == ("won", "lost")
    assert [q["goals"] for q in corrected["home"]["periods"]] == [1, 0, 1, 1]
