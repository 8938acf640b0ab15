"""What ``docker build .`` sends to the daemon, read by docker-py's own reader of ``.dockerignore``.

The context is the tracked files of this checkout (as names: the reader looks at nothing else)
plus what a working checkout also holds: the settings files with the password, the virtualenv,
the local servers' data, database files and mutation runs.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from docker.utils.build import exclude_paths

ROOT = Path(__file__).resolve().parents[2]
#: what a working checkout holds beside its tracked files, none of which may reach an image
LOCAL_STATE = (
    ".env",
    "sidearm.env",
    "sidearm.compose.env",
    ".venv/bin/python",
    ".venv/lib/python3.11/site-packages/prefect/__init__.py",
    "var/demo/secantusdb/data.db",
    "var/local/sidearmdb.sqlite",
    "sidearmdb.sqlite",
    "mutants/boxscore/events.py",
    ".hypothesis/examples/x",
    "boxscore/__pycache__/events.cpython-311.pyc",
)


def _context(tmp_path: Path) -> set[str]:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, check=True, capture_output=True, text=True).stdout.split()
    for name in [*tracked, *LOCAL_STATE]:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    (tmp_path / ".dockerignore").write_bytes((ROOT / ".dockerignore").read_bytes())
    patterns = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and not line.startswith("#")]
    return set(exclude_paths(str(tmp_path), patterns, dockerfile="Dockerfile"))


def test_the_build_context_holds_no_password_no_venv_and_no_database(tmp_path: Path) -> None:
    context = _context(tmp_path)
    leaked = sorted(name for name in LOCAL_STATE if name in context)
    assert leaked == [], f"these reach the image: {leaked}"
    assert not [name for name in context if name.startswith((".venv/", "var/", "mutants/", ".git/"))]


def test_the_build_context_holds_everything_the_image_needs(tmp_path: Path) -> None:
    context = _context(tmp_path)
    copied = re.findall(r"^COPY (.+) \./?$", (ROOT / "Dockerfile").read_text(), flags=re.MULTILINE)
    named = [source for line in copied for source in line.split() if source != "."]
    assert named == ["requirements.txt", "requirements-notebook.txt"]
    assert set(named) <= context
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, check=True, capture_output=True, text=True).stdout.split()
    code = [
        name
        for name in tracked
        if name.split("/")[0] in {"boxscore", "tasks", "flows", "web", "deployments", "data", "notebooks", "sql"}
    ]
    assert len(code) > 50
    assert sorted(set(code) - context) == []
    assert {"prefect.yaml", "boxscore.schema.json", ".env.example", "Dockerfile"} <= context
