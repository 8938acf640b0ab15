"""Tally, box-score document and season tables of the recorded game against hand-counted values."""

import csv

import jsonschema_rs
import pytest

from boxscore.document import build_boxscore, final_score, shooting_pct, status
from boxscore.events import parse_block
from boxscore.roster import Player, players_from_rows, team_by_id, teams_from_rows
from boxscore.season import (
    GameNotOver,
    GameResult,
    PlayerResult,
    players_after,
    require_final,
    result_of,
    season_after,
    teams_after,
)
from tests.helpers import GAME, assert_matches_events, stamped, tally_blocks, valid
from tests.recorded_game import (
    EVENTS_FILE,
    FINAL_BOXSCORE,
    GAME_FLOW,
    LINE_SCORE,
    PLAYERS2,
    RECORDED_GAME_ID,
    SEED,
    SHOTS_BY_QUARTER,
    TEAMS2,
    event_lines,
    reference_counts,
)


@pytest.fixture(scope="module")
def reference() -> tuple:
    teams = teams_from_rows(csv.DictReader((SEED / "teams.csv").open()))
    players = players_from_rows(csv.DictReader((SEED / "players.csv").open()))
    return teams, players


def boxscore_for(text: str, reference: tuple) -> dict:
    teams, players = reference
    tally = tally_blocks([parse_block(text, GAME)])
    return build_boxscore(tally, team_by_id(101, teams), team_by_id(205, teams), players, RECORDED_GAME_ID)


def test_final_boxscore_of_recorded_game(reference: tuple) -> None:
    assert boxscore_for(EVENTS_FILE.read_text(), reference) == FINAL_BOXSCORE


@pytest.mark.parametrize("upto", [0, 2, 17, 40, 69, 70])
def test_partial_boxscores_match_a_naive_recount(reference: tuple, upto: int) -> None:
    lines = event_lines()[: upto + 1]
    doc = boxscore_for("\n".join(lines), reference)
    expected = reference_counts(upto)
    assert (doc["_id"], doc["timestamp"], doc["final"]) == (upto, expected["clock"], expected["final"])
    assert final_score(doc) == expected["score"]
    for side in ("home", "away"):
        for line in doc[side]["players"]:
            assert (line["shots"], line["goals"]) == expected["shots"].get(
                (doc[side]["teamid"], line["number"]), (0, 0)
            )


def test_sentinel_alone_makes_the_game_final(reference: tuple) -> None:
    lines = [*event_lines()[:70], "-1 00:17 0 0 0"]
    doc = boxscore_for("\n".join(lines), reference)
    assert (doc["_id"], doc["timestamp"], doc["final"]) == (69, "00:17", True)


def test_duplicate_event_ids_count_once(reference: tuple) -> None:
    text = "0 59:51 101 2 1\n1 57:06 101 6 0\n0 59:51 101 2 1\n1 50:00 205 8 1\n"
    doc = boxscore_for(text, reference)
    assert doc["quality"] == {"rejected": 0, "duplicates": 2, "examples": []}
    assert final_score(doc) == {101: 1, 205: 0}
    assert doc["timestamp"] == "57:06"


def test_unknown_jersey_counts_for_the_team_and_is_listed_last(reference: tuple) -> None:
    doc = boxscore_for("0 59:51 205 99 1\n1 59:00 205 1 0\n", reference)
    assert doc["away"]["score"] == 1
    assert doc["away"]["players"][-1] == {"id": None, "name": None, "number": "99", "shots": 1, "goals": 1, "pct": 1.0}
    assert [p["id"] for p in doc["away"]["players"][:-1]] == list(range(11, 21))
    assert doc["home"]["status"] == "losing" and doc["away"]["status"] == "winning"


def test_no_event_no_boxscore(reference: tuple) -> None:
    with pytest.raises(ValueError, match="no event"):
        boxscore_for("garbage\n", reference)


def test_status_and_pct() -> None:
    assert [status(1, 0), status(0, 1), status(2, 2)] == ["winning", "losing", "tied"]
    assert [status(1, 0, final=True), status(0, 1, final=True), status(2, 2, final=True)] == ["won", "lost", "tied"]
    assert [shooting_pct(0, 0), shooting_pct(7, 2), shooting_pct(3, 3)] == [0.0, 0.286, 1.0]


def test_season_tables_after_recorded_game(reference: tuple) -> None:
    teams, players = reference
    teams2 = teams_after(teams, [result_of("a", FINAL_BOXSCORE)])
    players2 = players_after(players, [result_of("a", FINAL_BOXSCORE)])
    assert [(t.id, t.name, t.conference, t.wins, t.losses) for t in teams2] == TEAMS2
    assert [(p.id, p.name, p.number, p.shots, p.goals, p.teamid) for p in players2] == PLAYERS2
    # recomputed from the base tables, which are left as the seed has them (not the season so far)
    with (SEED / "teams.csv").open(newline="") as seed:
        assert [(t.id, t.wins, t.losses) for t in teams] == [
            (int(row["id"]), int(row["wins"]), int(row["losses"])) for row in csv.DictReader(seed)
        ]


def test_tie_changes_no_record(reference: tuple) -> None:
    teams, _ = reference
    tied = {**FINAL_BOXSCORE, "home": {**FINAL_BOXSCORE["home"], "score": 9}}
    assert teams_after(teams, [result_of("a", tied)]) == teams


def test_unknown_shooter_has_no_season_row() -> None:
    players = [Player(1, "sam", "6", 10, 5, 101)]
    final = {
        **FINAL_BOXSCORE,
        "home": {
            **FINAL_BOXSCORE["home"],
            "players": [
                {"id": 1, "name": "sam", "number": "6", "shots": 2, "goals": 1, "pct": 0.5},
                {"id": None, "name": None, "number": "99", "shots": 3, "goals": 1, "pct": 0.33},
            ],
        },
        "away": {**FINAL_BOXSCORE["away"], "players": []},
    }
    assert result_of("a", final).players == (PlayerResult(1, 2, 1),)
    assert players_after(players, [result_of("a", final)]) == [Player(1, "sam", "6", 12, 6, 101)]


def test_a_result_naming_a_missing_team_or_player_is_skipped_by_name(reference: tuple) -> None:
    teams, players = reference
    good = result_of("a", FINAL_BOXSCORE)
    stranger = GameResult("b", 101, 999, 3, 1, 9, "00:00", (PlayerResult(1, 4, 3), PlayerResult(777, 1, 0)))
    season = season_after(teams, players, [good, stranger])
    assert season.skipped == {"b": "team 999, player 777 not in the base tables"}
    assert [(t.id, t.name, t.conference, t.wins, t.losses) for t in season.teams] == TEAMS2
    assert [(p.id, p.name, p.number, p.shots, p.goals, p.teamid) for p in season.players] == PLAYERS2


def test_finalize_refuses_a_game_in_progress() -> None:
    with pytest.raises(GameNotOver, match=r"not over.*event 40, clock 30:07"):
        require_final({"_id": 40, "timestamp": "30:07", "final": False})
    with pytest.raises(GameNotOver, match="no box score"):
        require_final(None)


def test_a_tie_early_in_the_season_does_not_stop_the_later_games_counting(reference: tuple) -> None:
    """Games are counted in order: a tie counts for no record, and the games after it still count."""
    teams, _ = reference
    tie = GameResult("a", 101, 205, 3, 3, 70, "00:00", ())
    home_win = GameResult("b", 101, 205, 5, 2, 70, "00:00", ())
    away_win = GameResult("c", 101, 205, 1, 4, 70, "00:00", ())
    before = {t.id: (t.wins, t.losses) for t in teams}
    after = {t.id: (t.wins, t.losses) for t in teams_after(teams, [tie, home_win, away_win])}
    assert after[101] == (before[101][0] + 1, before[101][1] + 1)
    assert after[205] == (before[205][0] + 1, before[205][1] + 1)


def test_the_result_of_a_final_is_its_score_event_clock_and_rostered_lines() -> None:
    """Counted by hand from the recorded final: 14-9, event 70 at 00:00, 20 rostered player lines."""
    result = result_of("g1", FINAL_BOXSCORE)
    assert (result.game_id, result.home, result.away, result.home_score, result.away_score) == ("g1", 101, 205, 14, 9)
    assert (result.event_id, result.clock) == (70, "00:00")
    assert len(result.players) == 20 and sum(line.goals for line in result.players) == 23
    assert result_of("g1", {**FINAL_BOXSCORE, "event_id": 71}).event_id == 71  # the event id, not the _id


def test_finalize_takes_a_final_box_score_as_it_is() -> None:
    assert require_final(FINAL_BOXSCORE) is FINAL_BOXSCORE
    stored_before_event_ids = {k: v for k, v in FINAL_BOXSCORE.items() if k != "event_id"}  # keyed by _id alone
    assert result_of("g1", stored_before_event_ids).event_id == 70


def test_finalize_refuses_with_the_reason_in_words() -> None:
    with pytest.raises(GameNotOver) as refused:
        require_final(None)
    assert str(refused.value) == "no box score found: the game has not started, so there is nothing to finalize"
    with pytest.raises(GameNotOver) as refused:
        require_final({"_id": 40, "timestamp": "30:07", "final": False})
    assert str(refused.value) == (
        "the game is not over: the latest box score (event 40, clock 30:07) is not final; "
        "teams2/players2 were not written"
    )


def test_the_recorded_final_and_every_box_score_of_the_replay_validate_against_the_published_schema(
    reference: tuple,
) -> None:
    valid(stamped(FINAL_BOXSCORE))
    for upto in range(71):
        valid(stamped(boxscore_for("\n".join(event_lines()[: upto + 1]), reference)))
    with pytest.raises(jsonschema_rs.ValidationError):
        valid(stamped({**FINAL_BOXSCORE, "period": 5}))  # no overtime: the stream cannot carry one


def test_the_line_score_scoring_summary_and_flow_of_the_recorded_game_as_counted_by_hand(reference: tuple) -> None:
    doc = boxscore_for(EVENTS_FILE.read_text(), reference)
    for side, team in (("home", 101), ("away", 205)):
        assert [q["goals"] for q in doc[side]["periods"]] == list(LINE_SCORE[team])
        assert [q["shots"] for q in doc[side]["periods"]] == list(SHOTS_BY_QUARTER[team])
    first, last = doc["scoring"][0], doc["scoring"][-1]
    assert (first["event_id"], first["period"], first["period_clock"], first["teamid"], first["number"]) == (
        2,
        1,
        "11:13",
        205,
        "8",
    )
    assert (first["home_score"], first["away_score"]) == (0, 1)
    assert (last["event_id"], last["period"], last["period_clock"], last["teamid"], last["number"]) == (
        62,
        4,
        "09:05",
        101,
        "2",
    )
    assert (last["home_score"], last["away_score"]) == (14, 9) and len(doc["scoring"]) == 23
    assert doc["game_flow"] == GAME_FLOW
    assert (doc["home"]["status"], doc["away"]["status"]) == ("won", "lost")


def test_quarter_boundaries_a_repeated_id_a_correction_and_a_stranger_in_the_summary(reference: tuple) -> None:
    """Goals exactly on the quarter boundaries (45:00 is Q1 00:00, 44:59 Q2 14:59, 15:00 Q3 00:00,
    00:00 Q4 00:00), event 1 repeated (the first line wins), jersey 77 not on the roster."""
    text = "\n".join(
        [
            "0 60:00 101 6 1",
            "1 45:00 205 1 1",
            "1 45:00 101 6 1",  # a repeated id: not counted
            "2 44:59 205 77 1",
            "3 15:00 101 6 0",
            "4 00:00 101 1 1",
        ]
    )
    doc = boxscore_for(text, reference)
    assert [
        (s["event_id"], s["period"], s["period_clock"], s["name"], s["home_score"], s["away_score"])
        for s in doc["scoring"]
    ] == [
        (0, 1, "15:00", "sam", 1, 0),
        (1, 1, "00:00", "jimmy", 1, 1),
        (2, 2, "14:59", None, 1, 2),
        (4, 4, "00:00", "sarah", 2, 2),
    ]
    assert [q["shots"] for q in doc["home"]["periods"]] == [1, 0, 1, 1]
    assert [q["goals"] for q in doc["away"]["periods"]] == [1, 1, 0, 0]
    assert doc["game_flow"] == {"lead_changes": 1, "ties": 2, "home_largest_lead": 1, "away_largest_lead": 1}
    assert (doc["period"], doc["period_clock"], doc["final"]) == (4, "00:00", True)
    assert doc["home"]["status"] == doc["away"]["status"] == "tied"
    valid(stamped(doc))
    corrected = boxscore_for(text.replace("3 15:00 101 6 0", "3 15:00 101 6 1"), reference)  # a miss made a goal
    assert [s["event_id"] for s in corrected["scoring"]] == [0, 1, 2, 3, 4]
    assert corrected["home"]["periods"][2]["goals"] == 1 and corrected["home"]["score"] == 3


def test_every_box_score_of_the_replay_matches_a_naive_recount_quarters_and_goals_included(reference: tuple) -> None:
    for upto in range(71):
        assert_matches_events(boxscore_for("\n".join(event_lines()[: upto + 1]), reference))


def test_unrostered_shooters_are_listed_by_number_and_an_empty_stream_has_no_box_score() -> None:
    from boxscore.document import unknown_shooters
    from boxscore.tally import Tally
    from tests.helpers import tally_blocks

    tally = tally_blocks([parse_block(b"0 59:00 101 10 0\n1 58:00 101 9 1\n2 57:00 101 77 0\n3 56:00 205 5 0\n", None)])
    assert unknown_shooters(tally, 101, [Player(1, "sam", "6", 0, 0, 101)]) == ["9", "10", "77"]
    with pytest.raises(ValueError, match=r"^no event in the stream yet: there is no box score to build$"):
        build_boxscore(Tally(None, None, False, {}), *[None] * 3, "g")
