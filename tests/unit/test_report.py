"""What people look at: terminal tables and the Prefect UI artifacts."""

from boxscore.report import boxscore_rows, boxscore_table, final_summary, game_progress, line_score, rows_table
from boxscore.roster import Team
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
