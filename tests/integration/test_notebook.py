"""notebooks/boxscore.ipynb runs top to bottom and shows the game, the way a user runs it on a host:
``make notebook`` in the checkout after ``make up``, its kernel started in ``notebooks/``, with the
services named only by the project's ``sidearm.env`` (here the session's servers, written as
``make up`` writes them) and nothing in the environment. Compose's way, the environment alone,
is the notebook's first cell leaving an environment's settings as they are (the unit test beside
the notebook's own, tests/unit/test_notebook_settings.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

from tests.helpers import ROOT, boxscores, clean_checkout, make
from tests.integration.conftest import ENV_NAMES
from tests.recorded_game import FINAL_BOXSCORE


@pytest.mark.parametrize("sql_url", ["sqlite"], indirect=True)
def test_make_notebook_on_the_host_finds_make_up_s_settings_and_shows_table_and_chart(
    pipeline_env: dict[str, str], tmp_path: Path
) -> None:
    from prefect.settings import PREFECT_API_URL

    checkout = clean_checkout(tmp_path / "checkout")
    settings = {**pipeline_env, "PREFECT_API_URL": str(PREFECT_API_URL.value())}  # as make up writes it
    (checkout / "sidearm.env").write_text("".join(f"{name}={value}\n" for name, value in settings.items()))
    environ = {
        k: v for k, v in os.environ.items() if k not in ENV_NAMES and not k.startswith(("PREFECT_API", "SIDEARM_"))
    }
    done = make(checkout, "notebook", env=None, replace_env=environ)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "open notebooks/boxscore-executed.ipynb" in done.stdout

    notebook = nbformat.read(checkout / "notebooks" / "boxscore-executed.ipynb", as_version=4)
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", [])]
    text = "\n".join(
        str(output.get("text", "")) + str(output.get("data", {}).get("text/plain", "")) for output in outputs
    )
    assert "Johns Hopkins 9 - 14 Syracuse, Final (event 70)" in text
    assert f"boxscores={pipeline_env['MONGO_DB']}.boxscores" in text  # the settings came from sidearm.env
    assert "sarah" in text and "julie" in text
    images = [output for output in outputs if "image/png" in output.get("data", {})]
    assert len(images) == 1
    assert boxscores(pipeline_env)[-1] == FINAL_BOXSCORE
    # the notebook itself is left as tracked: its outputs went to the executed copy
    assert (checkout / "notebooks" / "boxscore.ipynb").read_bytes() == (
        ROOT / "notebooks" / "boxscore.ipynb"
    ).read_bytes()
