"""The notebook's first cell: where its services are, on a host and in compose.

The cell is run as the kernel runs it, in a copy of the project's layout: on a host (``make
notebook``) the kernel starts in ``notebooks/`` and finds the project's ``sidearm.env`` and its
Prefect server there; in compose the environment names everything and wins.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "boxscore.ipynb"


def first_code_cell() -> str:
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    return "".join(next(cell for cell in cells if cell["cell_type"] == "code")["source"])


@pytest.mark.parametrize("compose", [False, True], ids=["host", "compose"])
def test_the_kernel_finds_the_settings_from_notebooks_or_from_its_environment(
    compose: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "sidearm.env").write_text(
        "MONGO_URL=mongodb://127.0.0.1:27018\nPREFECT_API_URL=http://127.0.0.1:4201/api\n"
    )
    for name in ("SIDEARM_ENV_FILE", "PREFECT_API_URL"):
        monkeypatch.delenv(name, raising=False)
    if compose:
        monkeypatch.setenv("PREFECT_API_URL", "http://prefect-server:4200/api")
        monkeypatch.setenv("SIDEARM_ENV_FILE", "/app/sidearm.env")
    monkeypatch.chdir(tmp_path / "notebooks")
    monkeypatch.setattr("sys.path", list(__import__("sys").path))
    exec(first_code_cell(), {})
    if compose:
        assert os.environ["PREFECT_API_URL"] == "http://prefect-server:4200/api"
        assert os.environ["SIDEARM_ENV_FILE"] == "/app/sidearm.env"
    else:
        assert os.environ["PREFECT_API_URL"] == "http://127.0.0.1:4201/api"
        assert os.environ["SIDEARM_ENV_FILE"] == str(tmp_path / "sidearm.env")
