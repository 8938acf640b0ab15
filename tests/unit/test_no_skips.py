"""A CI run cannot skip silently: with SIDEARM_NO_SKIPS set, a skipping test fails and says why."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def start_skipping_test(folder: Path, **env: str) -> subprocess.Popen[str]:
    """A pytest run, in a process of its own, of one test that skips."""
    folder.mkdir()
    test = folder / "test_skips.py"
    test.write_text('import pytest\n\ndef test_needs_chromium():\n    pytest.skip("Debian chromium is missing")\n')
    environ = {k: v for k, v in os.environ.items() if k != "SIDEARM_NO_SKIPS"} | {"PYTHONPATH": str(ROOT), **env}
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "tests.conftest", "-q", "-p", "no:cacheprovider", str(test)],
        cwd=folder,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finished(process: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    out, _ = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, out)


def test_a_skip_fails_the_run_where_skips_are_not_allowed(tmp_path: Path) -> None:
    runs = start_skipping_test(tmp_path / "strict", SIDEARM_NO_SKIPS="1"), start_skipping_test(tmp_path / "relaxed")
    strict, relaxed = map(finished, runs)
    assert strict.returncode == 1, strict.stdout
    assert "skipped in a run that may not skip (SIDEARM_NO_SKIPS): Skipped: Debian chromium is missing" in strict.stdout
    assert relaxed.returncode == 0 and "1 skipped" in relaxed.stdout, relaxed.stdout


def test_ci_sets_the_guard_and_runs_exactly_make_test() -> None:
    lines = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line and not line.startswith("#")]
    assert "export SIDEARM_NO_SKIPS=1" in lines and lines[-1] == "make test"
