"""The page at a phone's width (390 px), read by Chromium: nothing cut off, every header over its column.

The recorded game's final box score is stored in the session's MongoDB and served by
``python -m web``; the geometry is what Chromium lays out, read from the DOM.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pymongo
import pytest

from devstack.servers import BoxScorePage, SecantusMongo
from tests.integration.browser import CHROMIUM, Browser
from tests.recorded_game import FINAL_BOXSCORE, RECORDED_GAME_ID

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (make test installs it)")

PHONE = 390
#: for each table, the columns whose header text is not over its cells' text (left, right edges)
MISPLACED_HEADERS = """(() => {
  const textBox = (cell) => {
    const range = document.createRange();
    range.selectNodeContents(cell);
    return range.getBoundingClientRect();
  };
  const wrong = [];
  for (const table of document.querySelectorAll("table")) {
    const heads = Array.from(table.querySelectorAll("thead th"));
    const row = table.querySelector("tbody tr");
    if (!row) continue;
    heads.forEach((head, i) => {
      const cell = row.children[i];
      const h = textBox(head), c = textBox(cell), column = cell.getBoundingClientRect();
      const align = getComputedStyle(cell).textAlign;
      const apart = align === "right" ? Math.abs(h.right - c.right) : Math.abs(h.left - c.left);
      const outside = h.left < column.left - 1 || h.right > column.right + 1;
      if (apart > 2 || outside) wrong.push(`${table.id || table.className}: ${head.textContent}`);
    });
  }
  return wrong;
})()"""
#: tables wider than the box they are shown in (a column cut off, or scrolled out of sight)
CUT_TABLES = """Array.from(document.querySelectorAll("table"))
  .filter((t) => t.scrollWidth > t.parentElement.clientWidth || t.getBoundingClientRect().right > innerWidth)
  .map((t) => t.id || t.className)"""
#: the scoreboard's parts, each on one line, all on the same line (every two overlap vertically)
SCOREBOARD_LINES = """(() => {
  const parts = Array.from(document.querySelectorAll("#score > span"));
  const boxes = parts.map((p) => p.getBoundingClientRect());
  return {broken: parts.filter((p) => p.getClientRects().length > 1).map((p) => p.textContent),
          one_line: Math.max(...boxes.map((b) => b.top)) < Math.min(...boxes.map((b) => b.bottom))};
})()"""


@pytest.fixture
def final_page(mongo: SecantusMongo, tmp_path: Path) -> Iterator[BoxScorePage]:
    database = f"sidearm_layout_{tmp_path.name[-8:]}"
    pymongo.MongoClient(mongo.url)[database].boxscores.insert_one(dict(FINAL_BOXSCORE))
    page = BoxScorePage(tmp_path / "page", mongo_url=mongo.url, mongo_db=database).start(timeout=60)
    yield page
    page.stop()


@pytest.mark.parametrize("width", [PHONE, 1280])
def test_the_page_fits_its_screen_with_every_header_over_its_column(
    final_page: BoxScorePage, browser: Browser, width: int
) -> None:
    browser.resize(width, 1500, mobile=width == PHONE)
    browser.open(f"{final_page.url}/games/{RECORDED_GAME_ID}")
    assert browser.evaluate("document.documentElement.scrollWidth <= innerWidth") is True
    assert browser.evaluate(CUT_TABLES) == []
    assert browser.evaluate(MISPLACED_HEADERS) == []
    assert browser.evaluate(SCOREBOARD_LINES) == {"broken": [], "one_line": True}
