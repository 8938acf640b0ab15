"""Every share assertion of the property tests, run again and again with fresh seeds.

    python -m devstack.reaches [--runs 50]

A share assertion ("every example of a clean long stream is parsed vectorised") must hold for
every seed hypothesis may draw, not for the seeds CI happened to draw. Each run here is the unit
test files that hold a ``Reach`` (found by reading them), with a new ``--hypothesis-seed``, a new
and empty hypothesis database (nothing replayed) and the default profile, on two workers. The
tests write every path's count and every bound they assert (``SIDEARM_REACHES_FILE``); the table
at the end gives, per test and path, the bound and the lowest and median share over the runs,
and how many runs failed. docs/testing.md quotes it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from statistics import median

from tabulate import tabulate

ROOT = Path(__file__).resolve().parents[1]


def reach_files() -> list[str]:
    """The unit test files whose tests assert a share of their examples' paths."""
    return sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / "tests" / "unit").glob("test_*.py")
        if "assert_share(" in path.read_text()
    )


def one_run(files: list[str], seed: int, scratch: Path) -> tuple[int, dict]:
    """The files' tests with this seed and a database of their own: pytest's exit code, and the reaches."""
    reaches = scratch / f"reaches-{seed}.json"
    env = {
        **os.environ,
        "HYPOTHESIS_PROFILE": "default",
        "HYPOTHESIS_STORAGE_DIRECTORY": str(scratch / f"hypothesis-{seed}"),
        "SIDEARM_REACHES_FILE": str(reaches),
    }
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", f"--hypothesis-seed={seed}"]
    done = subprocess.run([*command, *files], cwd=ROOT, env=env, capture_output=True, text=True)
    return done.returncode, json.loads(reaches.read_text()) if reaches.exists() else {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.reaches", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50, help="runs, each with a fresh seed (default: 50)")
    runs = parser.parse_args(argv).runs
    files = reach_files()
    print(f"{runs} runs of {', '.join(files)}, each with a fresh seed", flush=True)
    shares: dict[tuple[str, str], list[float]] = defaultdict(list)
    bounds: dict[tuple[str, str], float] = {}
    failed: list[int] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="reaches-") as scratch:
        for run in range(1, runs + 1):
            seed = random.SystemRandom().randrange(2**32)
            code, reaches = one_run(files, seed, Path(scratch))
            if code != 0:
                failed.append(seed)
            for test, found in reaches.items():
                total = found["counts"].get("examples", 0) or 1
                for path, bound in found["bounds"].items():
                    bounds[test, path] = bound
                    shares[test, path].append(found["counts"].get(path, 0) / total)
            print(f"run {run}/{runs}: seed {seed}, exit {code}, {time.monotonic() - started:.0f} s", flush=True)
    rows = [
        (test.split("::", 1)[1], path, *(f"{share:.0%}" for share in (bounds[test, path], min(seen), median(seen))))
        for (test, path), seen in sorted(shares.items())
    ]
    print(tabulate(rows, headers=["test", "path", "bound", "lowest", "median"], tablefmt="github"))
    print(f"{runs - len(failed)} of {runs} runs passed" + (f"; failed with seeds {failed}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
