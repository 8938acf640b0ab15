"""The mutation score of every module mutated, and whether each meets the target (``make mutation``).

``mutmut run`` mutates every module of ``boxscore/`` and the adapters' modules whose rules a unit
test reaches (``[tool.mutmut]`` in pyproject.toml; ``python -m devstack.mutation run`` runs it
beside the one MongoDB-wire server the store's tests use) and
runs, for each mutant, the unit tests that reach it. This reads ``mutmut results --all true`` and
prints, per module, how many mutants the tests killed, how many timed out (a mutant that loops
forever: detected, but by the clock rather than by an assertion, so shown apart), how many
survived and how many no test reaches, with the score (killed or timed out over all) and the
module's verdict: at least :data:`TARGET` and no mutant untested. The survivors are written to
``mutants/survivors.txt``, one per line, for ``mutmut show NAME``; the exit status is 1 when a
module misses, so ``make mutation`` fails with it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from tabulate import tabulate

#: every module mutated: at least this share of its mutants detected, and none untested
TARGET = 0.95
DETECTED = {"killed", "timeout"}
UNTESTED = "no tests"


def module_of(mutant: str) -> str:
    """``boxscore.live.xǁLiveLoopǁpolled__mutmut_7`` -> ``boxscore.live``."""
    return mutant.split(".x")[0]


def results(mutmut: str) -> dict[str, str]:
    """Every mutant's status, as ``mutmut results --all true`` prints it (``name: status``)."""
    printed = subprocess.run([mutmut, "results", "--all", "true"], capture_output=True, text=True, check=True).stdout
    statuses = {}
    for line in printed.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and name:
            statuses[name] = status
    return statuses


@dataclass(frozen=True)
class ModuleScore:
    """One module's mutants by what became of them."""

    module: str
    counts: Counter[str]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def score(self) -> float:
        return sum(self.counts[status] for status in DETECTED) / self.total

    @property
    def meets_target(self) -> bool:
        return self.score >= TARGET and not self.counts[UNTESTED]

    def row(self) -> list[object]:
        c = self.counts
        verdict = "meets" if self.meets_target else "MISSES"
        return [
            self.module,
            self.total,
            c["killed"],
            c["timeout"],
            c["survived"],
            c[UNTESTED],
            f"{self.score:.1%}",
            verdict,
        ]


def by_module(statuses: dict[str, str]) -> list[ModuleScore]:
    """The mutants' statuses counted per module, in the modules' order."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for mutant, status in statuses.items():
        counts[module_of(mutant)][status] += 1
    return [ModuleScore(module, counts[module]) for module in sorted(counts)]


def report(scores: list[ModuleScore]) -> str:
    """A table of every module's counts, score and verdict, with the whole core's last."""
    whole = ModuleScore("all", sum((score.counts for score in scores), Counter()))
    headers = [
        "module",
        "mutants",
        "killed",
        "timed out",
        "survived",
        "no test",
        "score",
        f"≥ {TARGET:.0%}, 0 untested",
    ]
    return tabulate([score.row() for score in [*scores, whole]], headers=headers, tablefmt="github")


def main(mutmut: str, survivors_file: Path) -> int:
    """Print the table, write the survivors; 1 when a module misses the target (or no results)."""
    statuses = results(mutmut)
    if not statuses:
        print("no mutmut results: run `make mutation`", file=sys.stderr)
        return 1
    survivors = sorted(name for name, status in statuses.items() if status not in DETECTED)
    survivors_file.write_text("".join(f"{name}: {statuses[name]}\n" for name in survivors))
    scores = by_module(statuses)
    print(report(scores))
    print(f"\n{len(survivors)} mutants left alive: {survivors_file} (see one with `mutmut show NAME`)")
    missed = [score.module for score in scores if not score.meets_target]
    if missed:
        print(f"below {TARGET:.0%} or with untested mutants: {', '.join(missed)}", file=sys.stderr)
        return 1
    print(f"every module meets the target: at least {TARGET:.0%} detected, none untested")
    return 0


def run(mutmut: str, args: list[str]) -> int:
    """``mutmut run`` with one SecantusDB serving every mutant's tests of the store.

    The store's tests (``tests/unit/test_store_queries.py``) start a server per test process
    unless ``SIDEARM_TEST_MONGO_URL`` names one; mutmut runs the tests once per mutant, so one
    server for the whole run saves a start per mutant. Each test uses a database of its own.
    """
    from devstack.servers import SecantusMongo

    with tempfile.TemporaryDirectory(prefix="sidearm-mutation-") as directory:
        server = SecantusMongo(Path(directory) / "mongo").start()
        try:
            env = {**os.environ, "SIDEARM_TEST_MONGO_URL": server.url}
            return subprocess.run([mutmut, "run", *args], env=env, check=False).returncode
        finally:
            server.stop()


if __name__ == "__main__":
    MUTMUT = str(Path(sys.executable).parent / "mutmut")
    if sys.argv[1:2] == ["run"]:
        sys.exit(run(MUTMUT, sys.argv[2:]))
    sys.exit(main(MUTMUT, Path("mutants/survivors.txt")))
