"""``make mutation``'s verdict: each module of the core at 95 % or more, none untested, or exit 1.

The statuses are written by hand, as ``mutmut results --all true`` prints them, and read by a
stand-in ``mutmut`` script through the same command line the report runs.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from devstack.mutation import by_module, main, module_of

PRINTED = {
    # boxscore.events: 19 killed, 1 timed out, none alive: 100 %
    **{f"boxscore.events.x_parse__mutmut_{i}": "killed" for i in range(19)},
    "boxscore.events.x_parse__mutmut_19": "timeout",
    # boxscore.live: 19 killed, 1 survived: exactly 95 %
    **{f"boxscore.live.xǁLiveLoopǁpolled__mutmut_{i}": "killed" for i in range(19)},
    "boxscore.live.xǁLiveLoopǁpolled__mutmut_19": "survived",
}


def fake_mutmut(directory: Path, statuses: dict[str, str]) -> str:
    script = directory / "mutmut"
    lines = "".join(f"    {name}: {status}\n" for name, status in statuses.items())
    script.write_text(f"#!/bin/sh\ncat <<'EOF'\n{lines}EOF\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_a_mutant_belongs_to_its_module() -> None:
    assert module_of("boxscore.live.xǁLiveLoopǁpolled__mutmut_7") == "boxscore.live"
    assert module_of("boxscore.events.x_parse_block__mutmut_1") == "boxscore.events"


def test_timeouts_count_apart_from_kills_and_both_detect() -> None:
    events, live = by_module(PRINTED)
    assert (events.module, events.counts["killed"], events.counts["timeout"], events.score) == (
        "boxscore.events",
        19,
        1,
        1.0,
    )
    assert (live.module, live.counts["survived"], live.score) == ("boxscore.live", 1, 0.95)
    assert events.meets_target and live.meets_target  # 95 % exactly meets it


def test_every_module_at_the_target_exits_0_and_lists_the_survivors(tmp_path: Path, capsys) -> None:
    assert main(fake_mutmut(tmp_path, PRINTED), tmp_path / "survivors.txt") == 0
    assert (tmp_path / "survivors.txt").read_text() == "boxscore.live.xǁLiveLoopǁpolled__mutmut_19: survived\n"
    printed = capsys.readouterr().out
    assert (
        "| boxscore.events |        20 |       19 |           1 |          0 |         0 | 100.0%  | meets" in printed
    )
    assert "every module meets the target" in printed


@pytest.mark.parametrize(
    ("change", "missed"),
    [
        ({"boxscore.live.xǁLiveLoopǁpolled__mutmut_18": "survived"}, "boxscore.live"),  # 18 of 20: 90 %
        ({"boxscore.events.x_parse__mutmut_0": "no tests"}, "boxscore.events"),  # 95 %, one untested
    ],
)
def test_a_module_below_95_or_with_an_untested_mutant_exits_1_naming_it(tmp_path: Path, capsys, change, missed) -> None:
    assert main(fake_mutmut(tmp_path, {**PRINTED, **change}), tmp_path / "survivors.txt") == 1
    out, err = capsys.readouterr()
    assert f"with untested mutants: {missed}\n" in err
    assert "MISSES" in out


def test_no_results_at_all_exits_1(tmp_path: Path, capsys) -> None:
    assert main(fake_mutmut(tmp_path, {}), tmp_path / "survivors.txt") == 1
    assert "no mutmut results" in capsys.readouterr().err
