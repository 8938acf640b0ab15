"""What people look at: terminal tables and the Prefect UI artifacts."""

import pytest

from boxscore.report import (
    boxscore_rows,
    boxscore_table,
    final_summary,
    game_progress,
    games_rows,
    games_shown,
    line_score,
    rows_table,
    scoreline,
)
from boxscore.roster import Team
from boxscore.watch import GameFigures
from tests.recorded_game import FINAL_BOXSCORE

BEFORE = [Team(101, "syracuse", "acc", 11, 2), Team(205, "johns hopkins", "big10", 9, 4)]
AFTER = [Team(101, "syracuse", "acc", 12, 2), Team(205, "johns hopkins", "big10", 9, 5)]


def test_game_progress_follows_the_clock() -> None:
    live = {"final": False, "timestamp": "45:00"}
    assert game_progress(live) == 25.0
    assert game_progress({"final": False, "timestamp": "59:51"}) == 0.2
    assert game_progress(FINAL_BOXSCORE) == 100.0


def test_boxscore_rows_list_every_player_of_both_teams() -> None:
    rows = boxscore_rows(FINAL_BOXSCORE)
    assert len(rows) == 20
    assert rows[1] == {"team": "Syracuse", "id": 2, "name": "sarah", "number": "1", "shots": 8, "goals": 6, "pct": 0.75}
    assert rows[-1]["team"] == "Johns Hopkins" and rows[-1]["id"] == 20


def test_final_summary_shows_result_and_record_changes() -> None:
    text = final_summary(FINAL_BOXSCORE, BEFORE, AFTER)
    assert text.splitlines()[0] == "# Final: Johns Hopkins 9 - 14 Syracuse, Final (event 70)"
    assert "| Syracuse | 11-2 | 12-2 |" in text
    assert "| Johns Hopkins | 9-4 | 9-5 |" in text


def test_terminal_tables() -> None:
    table = boxscore_table(FINAL_BOXSCORE)
    assert "home: Syracuse (acc, 11-2) 14 won" in table
    assert "| 2    | sarah  | 1   | 8       | 6       | 0.750 |" in table
    assert rows_table(AFTER).splitlines()[2].split("|")[1:-1] == [
        " 101  ",
        " syracuse      ",
        " acc          ",
        " 12     ",
        " 2        ",
    ]


def test_the_line_score_lists_the_visitor_first_by_quarter_with_totals_and_shots() -> None:
    assert line_score(FINAL_BOXSCORE).splitlines()[2:] == [
        "| Johns Hopkins | 1 | 5 | 1 | 2 | 9 | 22 |",
        "| Syracuse | 6 | 4 | 3 | 1 | 14 | 48 |",
    ]


def test_the_final_summary_is_this_text_exactly() -> None:
    assert final_summary(FINAL_BOXSCORE, BEFORE, AFTER) == (
        "# Final: Johns Hopkins 9 - 14 Syracuse, Final (event 70)\n"
        "\n"
        "## teams2: records after the game\n"
        "\n"
        "| team | before | after |\n"
        "|---|---|---|\n"
        "| Syracuse | 11-2 | 12-2 |\n"
        "| Johns Hopkins | 9-4 | 9-5 |\n"
    )


def test_a_tie_changes_no_record_and_says_so_and_other_teams_are_not_listed() -> None:
    """Neither team's record moved; a team that did not play changed (another game's result)."""
    before = [*BEFORE, Team(300, "navy", "patriot", 1, 1)]
    after = [*BEFORE, Team(300, "navy", "patriot", 2, 1)]
    assert final_summary(FINAL_BOXSCORE, before, after).splitlines()[-2:] == [
        "|---|---|---|",
        "| (a tie: no record changed) | | |",
    ]


def test_the_records_before_and_after_must_pair_up() -> None:
    with pytest.raises(ValueError, match="zip"):
        final_summary(FINAL_BOXSCORE, BEFORE, AFTER[:1])


def test_a_live_box_score_shows_its_quarter_and_clock() -> None:
    live = {**FINAL_BOXSCORE, "final": False, "period": 2, "period_clock": "11:13"}
    assert scoreline(live) == "Johns Hopkins 9 - 14 Syracuse, Q2 11:13 (event 70)"


def test_the_terminal_box_score_opens_with_the_scoreline_and_each_team_s_table() -> None:
    lines = boxscore_table(FINAL_BOXSCORE).split("\n")
    assert lines[:5] == [
        "Johns Hopkins 9 - 14 Syracuse, Final (event 70)",
        "",
        "home: Syracuse (acc, 11-2) 14 won",
        "| id   | name   | #   | shots   | goals   | pct   |",
        "|------|--------|-----|---------|---------|-------|",
    ]
    assert lines[15:18] == ["", "away: Johns Hopkins (big10, 9-4) 9 lost", lines[3]]
    assert len(lines) == 3 + 12 + 2 + 12  # the scoreline, a blank, each side: its line and a table of 10 players


def test_a_table_of_no_rows_says_so_and_one_row_has_its_fields_as_headers() -> None:
    assert rows_table([]) == "(no rows)"
    assert rows_table(AFTER[:1]).splitlines()[0].split("|")[1:-1] == [
        " id   ",
        " name     ",
        " conference   ",
        " wins   ",
        " losses   ",
    ]


def test_the_line_score_s_headers() -> None:
    assert line_score(FINAL_BOXSCORE).split("\n")[:2] == [
        "| team | 1 | 2 | 3 | 4 | T | shots |",
        "|---|---|---|---|---|---|---|",
    ]


def test_the_games_table_shows_every_game_in_id_order_up_to_its_limit_then_those_most_needing_a_look() -> None:
    games = {
        "g5": GameFigures(3, 9, 0, "final", 10.0),
        "g1": GameFigures(2, 4, 1, "live", 1.0, 0.0, "A 1 - 2 B", "50:00"),
        "g4": GameFigures(2, 6, 0, "live", 0.5, 40.0),  # 40 s behind its stream
        "g2": GameFigures(0, 0, 0, "waiting", -1.0),
        "g3": GameFigures(9, 9, 0, "finalized", 90.0),
    }
    every = games_rows(games, limit=5)
    assert [row["game"] for row in every] == ["g1", "g2", "g3", "g4", "g5"]
    assert every[0] == {
        "game": "g1",
        "state": "live",
        "score": "A 1 - 2 B",
        "clock": "50:00",
        "box scores": 2,
        "events": 4,
        "rejected lines": 1,
    }
    assert games_shown(games, limit=5) == "5 games followed, 2 over"
    # three of five: the one behind, the other live one, the waiting one; in id order
    assert [row["game"] for row in games_rows(games, limit=3)] == ["g1", "g2", "g4"]
    assert [row["game"] for row in games_rows(games, limit=1)] == ["g4"]
    assert games_shown(games, limit=3) == (
        "5 games followed, 2 over; the 3 that most need a look are shown (behind, live, waiting, over), "
        "all in the metrics"
    )
