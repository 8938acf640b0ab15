"""The mutation score of the core's rules, per module, from mutmut's results (``make mutation``).

``mutmut run`` mutates ``boxscore/events.py``, ``running.py``, ``season.py`` and ``live.py``
(``[tool.mutmut]`` in pyproject.toml) and runs the unit tests that reach each mutant; this reads
``mutmut results --all true`` and prints, per module, how many mutants the tests killed, how many
survived and how many no test reaches, with the score (killed or timed out over all). The
survivors are written to ``mutants/survivors.txt``, one per line, for ``mutmut show NAME``.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

from tabulate import tabulate

DETECTED = {"killed", "timeout"}


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


def report(statuses: dict[str, str]) -> str:
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    for mutant, status in statuses.items():
        by_module[module_of(mutant)][status] += 1
    rows = []
    for module, counts in sorted(by_module.items()):
        total = sum(counts.values())
        detected = sum(counts[status] for status in DETECTED)
        rows.append(
            [
                module,
                total,
                counts["killed"],
                counts["timeout"],
                counts["survived"],
                counts["no tests"],
                f"{detected / total:.1%}",
            ]
        )
    total = sum(row[1] for row in rows)
    detected = sum(row[2] + row[3] for row in rows)
    rows.append(["all", total, *(sum(row[i] for row in rows) for i in (2, 3, 4, 5)), f"{detected / total:.1%}"])
    headers = ["module", "mutants", "killed", "timed out", "survived", "no test", "score"]
    return tabulate(rows, headers=headers, tablefmt="github")


if __name__ == "__main__":
    mutmut = str(Path(sys.executable).parent / "mutmut")
    statuses = results(mutmut)
    if not statuses:
        sys.exit("no mutmut results: run `make mutation`")
    survivors = sorted(name for name, status in statuses.items() if status not in DETECTED)
    Path("mutants/survivors.txt").write_text("".join(f"{name}: {statuses[name]}\n" for name in survivors))
    print(report(statuses))
    print(f"\n{len(survivors)} mutants left alive: mutants/survivors.txt (see one with `mutmut show NAME`)")
