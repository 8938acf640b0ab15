"""README's commands for the host and the deployments, run as written, in a clean copy of the checkout.

The shell blocks of README's "Running and deploying" that name no Docker command are taken
from README itself, in order, and run by one ``sh -e``, as typed into one terminal, in a copy of the tracked
files (with this checkout's virtualenv as its ``.venv``), after ``make compose-env``: so the
compose ``.env`` and the local stack's ``sidearm.env`` are shown to live side by side. The
results are then read from the stack's own MongoDB and SQLite file.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pymongo
import pytest

from devstack.servers import LOCAL_MONGO_PORT, BoxScorePage
from tests.helpers import ROOT, clean_checkout, make, table_rows, with_migrated_prefect_database
from tests.recorded_game import RECORDED_GAME_ID, TEAMS2

SECTION = "## Running and deploying"


def readme_blocks() -> list[str]:
    """The ``sh`` blocks of README's section on running and deploying, before the Docker one."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index(SECTION) : text.index("\n## ", text.index(SECTION) + 1)]
    blocks = re.findall(r"^```sh\n(.*?)^```$", section, flags=re.DOTALL | re.MULTILINE)
    return [block for block in blocks if "docker" not in block]


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = clean_checkout(tmp_path_factory.mktemp("readme-clone"))
    with_migrated_prefect_database(directory, home=directory / "home")  # the HOME its commands run with
    (directory / ".venv").symlink_to(ROOT / ".venv")
    yield directory
    make(directory, "down")  # when a block failed before its own `make down`


def test_readme_has_the_host_and_the_deployment_blocks() -> None:
    blocks = readme_blocks()
    assert len(blocks) == 2
    assert blocks[0].startswith("make up") and "prefect deployment run live-boxscore/live" in blocks[1]


def test_readme_s_commands_run_as_written_beside_a_compose_env(checkout: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "SIDEARM_", "VIRTUAL_ENV"))}
    environ.update(
        PATH=os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if not p.endswith(".venv/bin")),
        HOME=str(checkout / "home"),  # the prefect CLI's own home, as a new user's
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
    )
    compose = make(checkout, "compose-env", env={"SIDEARM_PASSWORD": "Compose-Pa55${X}"})
    assert compose.returncode == 0, compose.stderr
    marker = "=== the next README block ==="
    script = f"\necho '{marker}'\n".join(readme_blocks())  # one shell, as a user types them in one terminal
    done = subprocess.run(["sh", "-ec", script], cwd=checkout, env=environ, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, (
        f"README's blocks exited {done.returncode}:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    )
    outputs = done.stdout.split(marker)
    host, deployed = outputs
    assert "Johns Hopkins 9 - 14 Syracuse, Final (event 70)" in host, host[-2000:]
    assert "Johns Hopkins 9 - 14 Syracuse, Final (event 70)" in deployed, deployed[-2000:]
    # the season document, from the same query as the pages: Syracuse (acc) 11-2 and a win,
    # Johns Hopkins (big10) 9-4 and a loss, each first in its conference
    assert "| 1      | Syracuse | 12  | 2   | .857  |" in host, host[-3000:]
    assert "| 1      | Johns Hopkins | 9   | 5   | .643  |" in host, host[-3000:]
    assert not (checkout / "sidearm.env").exists(), "make down removes the local stack's settings"
    # the stack's data outlives `make down`: read it back from its own files
    assert table_rows(f"sqlite:///{checkout / 'var/local/sidearmdb.sqlite'}", "teams2") == TEAMS2
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/secantusd-py"),
            "--host",
            "127.0.0.1",
            "--port",
            str(LOCAL_MONGO_PORT),
            "--storage-path",
            str(checkout / "var/local/secantusdb/data"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with pymongo.MongoClient(f"mongodb://127.0.0.1:{LOCAL_MONGO_PORT}", serverSelectionTimeoutMS=30000) as client:
            final = client.sidearm.boxscores.find_one({"game_id": RECORDED_GAME_ID}, sort=[("event_id", -1)])
        # the page of the stack's data: the season's standings from the document the flows wrote
        page = BoxScorePage(checkout / "page", mongo_url=f"mongodb://127.0.0.1:{LOCAL_MONGO_PORT}").start(timeout=60)
        try:
            standings = httpx.get(f"{page.url}/standings", timeout=30)
        finally:
            page.stop()
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:  # it read what it had to; a slow stop is not what this test checks
            server.kill()
            server.wait(30)
    assert standings.status_code == 200 and "Syracuse" in standings.text and 'id="waiting"' not in standings.text
    assert final is not None and final["final"] is True
    assert (final["home"]["score"], final["away"]["score"]) == (14, 9)
