"""docs/document.md's box-score example is the recorded game's final document as the code builds it."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

from boxscore.document import build_boxscore
from boxscore.events import parse_block
from boxscore.roster import players_from_rows, team_by_id, teams_from_rows
from tests.helpers import GAME, stamped, tally_blocks, valid
from tests.recorded_game import EVENTS_FILE, FINAL_BOXSCORE, RECORDED_GAME_ID, SEED

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"<!-- boxscore-example -->\n```json\n(.*?)\n```", re.DOTALL)


def shown(document: dict[str, Any]) -> str:
    """The document as README prints it: one line per key, per team side key, per list item."""

    def line(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False)

    def listed(key: str, items: list[Any], indent: str) -> list[str]:
        rows = [f"{indent}  {line(item)}," for item in items]
        rows[-1] = rows[-1].rstrip(",")
        return [f'{indent}"{key}": [', *rows, f"{indent}],"]

    out = ["{"]
    for key, value in document.items():
        if key in ("home", "away"):
            out.append(f'  "{key}": {{')
            for side_key, side_value in value.items():
                if isinstance(side_value, list):
                    out += listed(side_key, side_value, "    ")
                else:
                    out.append(f'    "{side_key}": {line(side_value)},')
            out[-1] = out[-1].rstrip(",")
            out.append("  },")
        elif key == "scoring":
            out += listed(key, value, "  ")
        else:
            out.append(f'  "{key}": {line(value)},')
    out[-1] = out[-1].rstrip(",")
    out.append("}")
    return "\n".join(out)


def test_the_document_page_shows_the_recorded_games_final_document_as_built() -> None:
    teams = teams_from_rows(csv.DictReader((SEED / "teams.csv").open()))
    players = players_from_rows(csv.DictReader((SEED / "players.csv").open()))
    tally = tally_blocks([parse_block(EVENTS_FILE.read_bytes(), GAME)])
    built = build_boxscore(tally, team_by_id(101, teams), team_by_id(205, teams), players, RECORDED_GAME_ID)
    assert built == FINAL_BOXSCORE
    match = BLOCK.search((ROOT / "docs" / "document.md").read_text())
    assert match is not None, "docs/document.md has no <!-- boxscore-example --> block"
    expected = shown(stamped(built))
    assert match.group(1) == expected, "docs/document.md's example is stale; it should read:\n" + expected
    assert valid(json.loads(match.group(1))) == stamped(built)


def test_readme_and_the_document_page_give_the_store_s_query_of_the_current_box_score() -> None:
    """The query a web developer copies is the one the store, the page and ``devstack score`` run."""
    from tasks.boxscores import CURRENT

    query = "db.boxscores.find().sort({" + ", ".join(f"{key}: {order}" for key, order in CURRENT) + "}).limit(1)"
    assert query == "db.boxscores.find().sort({stored_at: -1, game_id: -1}).limit(1)"
    for page in ("README.md", "docs/document.md"):
        assert query in (ROOT / page).read_text(), page
