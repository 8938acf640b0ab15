"""The test suite on a clean clone: ``make test`` in all, as CI runs it, and where its minutes go.

    make bench-suite            (or: .venv/bin/python -m bench.suite)

Clones this repository's HEAD into a scratch directory (nothing of the working tree's venv,
caches or results comes along), runs ``make test`` there once and times it from the outside:
creating the venv, the checks, the unit tier and the integration tier. The two pytest runs'
own totals and their slowest tests (``--durations``) are read from its output.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time

from bench.common import ROOT, SCRATCH, save

#: pytest's last line, e.g. "599 passed in 78.31s (0:01:18)" or "2 failed, 72 passed, 16 warnings in 404.64s"
SUMMARY = re.compile(r"^=*\s*(?P<counts>[0-9]+ (?:passed|failed)[^\n]*?) in (?P<seconds>[0-9.]+)s", re.MULTILINE)
#: a --durations line, e.g. "116.20s call     tests/integration/test_readme.py::test_demo"
DURATION = re.compile(r"^(?P<seconds>[0-9.]+)s (?P<when>setup|call|teardown) +(?P<test>\S+)$")


def main() -> None:
    clone = SCRATCH / "suite-clone"
    shutil.rmtree(clone, ignore_errors=True)
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    log = SCRATCH / "suite.log"
    started = time.perf_counter()
    with log.open("w") as out:
        done = subprocess.run(["make", "test"], cwd=clone, stdout=out, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - started
    text = log.read_text(errors="replace")
    tiers = [(m["counts"], float(m["seconds"])) for m in SUMMARY.finditer(text)]
    slowest = sorted(
        ((float(m["seconds"]), m["when"], m["test"]) for line in text.splitlines() if (m := DURATION.match(line))),
        reverse=True,
    )[:15]
    print(f"make test on a clean clone: exit {done.returncode}, {seconds / 60:.1f} min in all (log: {log})")
    for counts, tier_seconds in tiers:
        print(f"  pytest: {counts} in {tier_seconds:.0f} s")
    for test_seconds, when, test in slowest:
        print(f"  {test_seconds:7.1f} s {when:8s} {test}")
    save(
        "suite",
        {
            "exit": done.returncode,
            "seconds": round(seconds, 1),
            "tests_seconds": round(sum(s for _, s in tiers), 1),
            "tiers": [{"counts": counts, "seconds": s} for counts, s in tiers],
            "slowest": [{"seconds": s, "when": when, "test": test} for s, when, test in slowest],
        },
    )
    shutil.rmtree(clone, ignore_errors=True)
    sys.exit(done.returncode)


if __name__ == "__main__":
    main()
