"""The layer contracts in pyproject.toml hold, and they do catch a core module that does I/O."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: the packages the contracts cover, as pyproject.toml lists them
PACKAGES = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["root_packages"]


def lint_imports(project: Path) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).parent / "lint-imports"), "--config", str(project / "pyproject.toml")]
    return subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=120, check=False)


def copy_of_project(target: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, target / package, ignore=shutil.ignore_patterns("__pycache__", "results"))
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def test_the_tree_keeps_every_contract() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout
    assert "Contracts: 3 kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    ("planted", "module", "broken", "contracts"),
    [
        # the page reads through the core: Prefect in the core breaks the page's contract too
        ("import prefect", "boxscore/tally.py", "boxscore.tally -> prefect", 2),
        ("import os", "boxscore/document.py", "boxscore.document -> os", 1),
        ("from flows.finalize import finalize_game", "tasks/stream.py", "tasks.stream -> flows.finalize", 1),
        ("import prefect", "tasks/boxscores.py", "tasks.boxscores -> prefect", 1),
    ],
)
def test_a_forbidden_import_breaks_a_contract(
    tmp_path: Path, planted: str, module: str, broken: str, contracts: int
) -> None:
    project = copy_of_project(tmp_path)
    with (project / module).open("a") as source:
        source.write(f"\n{planted}\n")
    result = lint_imports(project)
    assert result.returncode == 1
    assert f"{contracts} broken" in result.stdout
    assert broken in result.stdout
