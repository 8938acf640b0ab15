"""notebooks/boxscore.ipynb runs top to bottom against the test servers and shows the game."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.helpers import boxscores
from tests.recorded_game import FINAL_BOXSCORE

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "boxscore.ipynb"


@pytest.mark.parametrize("sql_url", ["sqlite"], indirect=True)
def test_notebook_runs_the_game_and_shows_table_and_chart(
    pipeline_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.settings import PREFECT_API_URL

    monkeypatch.setenv("PREFECT_API_URL", PREFECT_API_URL.value())  # the kernel uses the session's API
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    ).execute()

    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", [])]
    text = "\n".join(
        str(output.get("text", "")) + str(output.get("data", {}).get("text/plain", "")) for output in outputs
    )
    assert "Johns Hopkins 9 - 14 Syracuse, Final (event 70)" in text
    assert "sarah" in text and "julie" in text
    images = [output for output in outputs if "image/png" in output.get("data", {})]
    assert len(images) == 1
    assert boxscores(pipeline_env)[-1] == FINAL_BOXSCORE
