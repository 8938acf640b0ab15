"""Hypothesis profiles, runs that may not skip, and the property tests' reach printed at the end.

``HYPOTHESIS_PROFILE=ci`` (set by ``make test``) runs the default profile's examples and prints a
failing example's blob to reproduce it (:func:`tests.helpers.examples`).
The unit tier runs on two pytest-xdist workers and the integration tier on three, a test file
to each (its module fixtures run once, and each worker starts its own session servers); each
worker's property-test reaches and measurements are sent to the controller, which prints them.
With ``SIDEARM_NO_SKIPS=1`` (set by ``.ci/run``) a test that would skip fails instead, with its
reason: CI can never skip the PostgreSQL, Chromium, compose or secrets tests silently.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import Phase, settings

settings.register_profile("default", deadline=None)
settings.register_profile("ci", deadline=None, print_blob=True)
# one run per mutant: the same examples for every mutant (derandomised, so a mutant lives or dies
# by the code, not by the draw), a failing example reported as found, not shrunk (shrinking a long
# stream costs a minute), and nothing kept between runs
settings.register_profile(
    "mutation",
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    report_multiple_bugs=False,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
# The tests give each process its settings: a developer's sidearm.env (`make up`) is read by none.
os.environ["SIDEARM_ENV_FILE"] = ""
# many live runs side by side (and one after another in a worker): none serves its metrics on the
# default address; the tests that read them give each run an address of its own
os.environ.setdefault("LIVE_METRICS_ADDRESS", "")


def pytest_sessionfinish(session: pytest.Session) -> None:
    """On a pytest-xdist worker, hand this worker's reaches and measurements to the controller."""
    from tests.helpers import BOUNDS, MEASURED, REACHES

    if hasattr(session.config, "workeroutput"):
        session.config.workeroutput["reaches"] = {test: dict(counts) for test, counts in REACHES.items()}
        session.config.workeroutput["bounds"] = dict(BOUNDS)
        session.config.workeroutput["measured"] = dict(MEASURED)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    from collections import Counter

    from tests.helpers import BOUNDS, MEASURED, REACHES

    output = getattr(node, "workeroutput", {})
    for test, counts in output.get("reaches", {}).items():
        REACHES[test] = Counter(counts)
    BOUNDS.update(output.get("bounds", {}))
    MEASURED.update(output.get("measured", {}))


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    from tests.helpers import BOUNDS, MEASURED, REACHES

    if reaches_file := os.environ.get("SIDEARM_REACHES_FILE"):  # python -m devstack.reaches
        shares = {test: {"counts": dict(counts), "bounds": BOUNDS.get(test, {})} for test, counts in REACHES.items()}
        Path(reaches_file).write_text(json.dumps(shares, indent=1))

    if MEASURED:
        terminalreporter.section("measured")
        for what, value in MEASURED.items():
            terminalreporter.write_line(f"{what}: {value}")
    if not REACHES:
        return
    terminalreporter.section("property tests: share of examples on each path")
    for test, counts in sorted(REACHES.items()):
        total = counts["examples"] or 1
        shares = ", ".join(f"{path} {n / total:.0%}" for path, n in sorted(counts.items()) if path != "examples")
        terminalreporter.write_line(f"{test}: {total} examples: {shares}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("SIDEARM_NO_SKIPS") and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped in a run that may not skip (SIDEARM_NO_SKIPS): {reason}"
