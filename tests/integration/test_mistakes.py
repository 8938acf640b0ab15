"""A user's mistakes, typed as a user types them, answered in one line that names the cause.

Each runs ``python -m flows.<name>`` against the session's real servers and reads its exit code
and its last line of standard error: the option or setting to correct is named there, at once,
with no wait for the stream to appear.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from devstack.servers import SeaweedS3, offline_prefect_env
from flows.gamestream import RECORDED_GAME, SEED_DIR
from tasks.reference import read_seed, seed_reference
from tasks.stream import write_stream
from tests.helpers import ROOT


def _typed(module: str, *options: str, env: dict[str, str], home: Path) -> tuple[subprocess.CompletedProcess, float]:
    from prefect.settings import PREFECT_API_URL

    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", module, *options],
        cwd=home,
        env={**offline_prefect_env(home / "prefect", str(PREFECT_API_URL.value())), "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=240,
    )
    return done, time.monotonic() - started


@pytest.mark.parametrize("sql_url", ["sqlite"], indirect=True)
def test_a_stream_in_a_missing_bucket_is_named_at_once(pipeline_env: dict[str, str], tmp_path: Path) -> None:
    env = {**pipeline_env, "GAMESTREAM_URL": "s3://nosuchbucket/game.txt"}
    done, seconds = _typed("flows.live_boxscore", env=env, home=tmp_path)
    assert done.returncode == 2, done.stderr[-3000:]
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("python -m flows.live_boxscore: the bucket 'nosuchbucket' of GAMESTREAM_URL"), last
    assert "does not exist at http://127.0.0.1:" in last
    assert "Traceback" not in done.stderr and "waiting for" not in done.stderr
    assert seconds < 60, "the default wait_for_stream is 300 s: the run must not wait it out"


@pytest.mark.parametrize("sql_url", ["sqlite"], indirect=True)
def test_an_unknown_home_team_is_named_with_its_option_and_the_teams_table(
    pipeline_env: dict[str, str], s3: SeaweedS3, tmp_path: Path
) -> None:
    seed_reference.fn(pipeline_env["SQL_URL"], *read_seed(SEED_DIR))
    write_stream(pipeline_env["GAMESTREAM_URL"], RECORDED_GAME.read_text(), s3.storage_options)
    done, seconds = _typed("flows.live_boxscore", "--home-team", "999", env=pipeline_env, home=tmp_path)
    assert done.returncode == 2, done.stderr[-3000:]
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(
        "python -m flows.live_boxscore: --home-team 999: not in the teams table (SQL database at "
    ), last
    assert last.endswith("; give a team id it holds")
    assert "no matchup of known teams" not in done.stderr
    assert seconds < 120, "the default wait_for_stream is 300 s: the run must not wait it out"
