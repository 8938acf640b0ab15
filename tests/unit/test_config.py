"""The live flow's parameters have one source of defaults: :class:`boxscore.config.LiveConfig`.

The flow's signature, its command line and the ``live`` deployment of ``prefect.yaml`` (read as
``prefect deploy`` reads it: YAML) must each say the same, and the loop's rules must be built
from the parameters by name, whatever their order.
"""

from __future__ import annotations

import inspect
from dataclasses import fields
from pathlib import Path

import yaml

from boxscore.config import LiveConfig, defaults, helps
from boxscore.live import LoopRules
from flows.cli import parse, parser_for
from flows.live_boxscore import DESCRIPTION, HELPS, live_boxscore

PROJECT = Path(__file__).resolve().parents[2]
#: written out here by hand, from the issue that set them: the defaults a user gets
EXPECTED = {
    "poll_interval": 1.0,
    "wait_for_stream": 300.0,
    "stall_timeout": 900.0,
    "home_team": 101,
    "away_team": 205,
    "finalize": True,
    "settle_seconds": 30.0,
    "game_id": None,
    "read_timeout": 60.0,
    "dask_block_bytes": 64 * 2**20,
    "behind_seconds": 30.0,
    "fallback_interval": 5.0,
}


def test_the_config_holds_the_defaults_a_user_gets() -> None:
    assert defaults() == EXPECTED
    assert set(helps()) == set(EXPECTED) and all(helps().values())


def test_the_flow_signature_takes_its_defaults_from_the_config_in_the_same_order() -> None:
    signature = inspect.signature(live_boxscore.fn).parameters
    assert list(signature) == [f.name for f in fields(LiveConfig)]
    assert {name: p.default for name, p in signature.items()} == defaults()


def test_the_command_line_takes_its_defaults_and_help_from_the_config() -> None:
    assert parse(parser_for(live_boxscore, DESCRIPTION, HELPS), []) == defaults()
    assert helps() == HELPS


def test_the_live_deployment_in_prefect_yaml_gives_the_config_defaults() -> None:
    project = yaml.safe_load((PROJECT / "prefect.yaml").read_text())
    (live,) = [d for d in project["deployments"] if d["name"] == "live"]
    assert live["entrypoint"] == "flows/live_boxscore.py:live_boxscore"
    assert live["parameters"] == defaults()


def test_the_loop_rules_take_each_parameter_by_name() -> None:
    chosen = LiveConfig(
        poll_interval=0.2,
        wait_for_stream=7.0,
        stall_timeout=8.0,
        settle_seconds=9.0,
        finalize=False,
        read_timeout=11.0,
        dask_block_bytes=512,
        behind_seconds=12.0,
    )
    rules = LoopRules.of(chosen)
    assert (rules.poll_interval, rules.wait_for_stream, rules.stall_timeout, rules.settle_seconds) == (
        0.2,
        7.0,
        8.0,
        9.0,
    )
    assert (rules.finalize, rules.read_timeout, rules.dask_block_bytes, rules.behind_seconds) == (
        False,
        11.0,
        512,
        12.0,
    )
    assert LoopRules() == LoopRules.of(LiveConfig())


def test_the_restart_deployment_and_the_restart_flow_take_the_policy_defaults() -> None:
    from boxscore.restarts import RestartPolicy
    from flows.restart import restart_live_run

    project = yaml.safe_load((PROJECT / "prefect.yaml").read_text())
    (restart,) = [d for d in project["deployments"] if d["name"] == "restart"]
    policy = {"max_restarts": RestartPolicy().max_restarts, "window_seconds": RestartPolicy().window_seconds}
    assert restart["parameters"] == policy == {"max_restarts": 3, "window_seconds": 1800.0}
    signature = inspect.signature(restart_live_run.fn).parameters
    assert {name: signature[name].default for name in policy} == policy
