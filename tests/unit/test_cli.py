"""Every ``python -m flows.*`` has a real command line: ``--help`` touches nothing, every parameter is an option."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest

from boxscore.config import defaults
from flows.cli import option, parse, parser_for
from flows.finalize import finalize_game
from flows.gamestream import gamestream
from flows.live_boxscore import HELPS as HELPS_OF_LIVE
from flows.live_boxscore import live_boxscore
from flows.restart import restart_live_run

ROOT = Path(__file__).resolve().parents[2]
FLOWS = {
    "flows.live_boxscore": live_boxscore,
    "flows.finalize": finalize_game,
    "flows.gamestream": gamestream,
    "flows.restart": restart_live_run,
}


@pytest.fixture(scope="module")
def helps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[subprocess.CompletedProcess[str], Path]]:
    """``--help`` of each flow, run at once as a user runs it, with every service out of reach.

    No Prefect API is reachable (port 9), MongoDB and S3 point nowhere, and each run has a
    fresh ``PREFECT_HOME``: a temporary Prefect server would leave its database there.
    """
    runs = {}
    for module in FLOWS:
        home = tmp_path_factory.mktemp("prefect-home")
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "PREFECT_HOME": str(home),
            "PREFECT_API_URL": "http://127.0.0.1:9/api",
            "MONGO_URL": "mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=100",
            "S3_ENDPOINT_URL": "http://127.0.0.1:9",
        }
        process = subprocess.Popen(
            [sys.executable, "-m", module, "--help"],
            cwd=tmp_path_factory.mktemp("cwd"),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        runs[module] = (process, home)
    done = {}
    for module, (process, home) in runs.items():
        out, err = process.communicate(timeout=60)
        done[module] = (subprocess.CompletedProcess(process.args, process.returncode, out, err), home)
    return done


@pytest.mark.parametrize("module", sorted(FLOWS))
def test_help_exits_0_names_every_parameter_and_starts_nothing(module: str, helps: dict) -> None:
    run, home = helps[module]
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(f"usage: python -m {module} ")
    for name, parameter in inspect.signature(FLOWS[module].fn).parameters.items():
        flag = option(name) if parameter.default is not True else "--no-" + name.replace("_", "-")
        assert flag in run.stdout, f"{module} has no {flag}"
    assert "``" not in run.stdout and ":class:" not in run.stdout, "help text, not docstring markup"
    assert "Traceback" not in run.stderr
    assert not list(home.rglob("*.db")), "a Prefect server was started"


def test_options_carry_the_signature_defaults_and_turn_switches_around() -> None:
    from flows.live_boxscore import DESCRIPTION, HELPS

    parser = parser_for(live_boxscore, DESCRIPTION, HELPS)
    assert parse(parser, []) == defaults()  # the values themselves: tests/unit/test_config.py
    chosen = parse(parser, ["--home-team", "7", "--away-team", "8", "--no-finalize", "--poll-interval", "0.5"])
    assert (chosen["home_team"], chosen["away_team"], chosen["finalize"], chosen["poll_interval"]) == (7, 8, False, 0.5)


def test_the_replay_resets_tables_only_when_asked_in_so_many_words() -> None:
    from flows.gamestream import DESCRIPTION, HELPS

    parser = parser_for(gamestream, DESCRIPTION, HELPS)
    assert parse(parser, [])["reset_tables"] is False
    assert parse(parser, ["--reset-tables"])["reset_tables"] is True
    from flows.finalize import DESCRIPTION as FINALIZE
    from flows.finalize import HELPS as FINALIZE_HELPS

    assert parse(parser_for(finalize_game, FINALIZE, FINALIZE_HELPS), ["--games", "g1", "g2"]) == {
        "games": ["g1", "g2"]
    }


def test_a_parameter_without_help_text_is_refused() -> None:
    with pytest.raises(LookupError, match="'games' has no help text"):
        parser_for(finalize_game, "", {})


def test_the_restart_needs_the_crashed_run_and_defaults_the_bound_from_the_policy(capsys) -> None:
    from flows.restart import DESCRIPTION, HELPS

    parser = parser_for(restart_live_run, DESCRIPTION, HELPS)
    assert parse(parser, ["--crashed-run", "abc"]) == {
        "crashed_run": "abc",
        "max_restarts": 3,
        "window_seconds": 1800.0,
    }
    with pytest.raises(SystemExit):
        parse(parser, [])
    assert "--crashed-run" in capsys.readouterr().err


def test_no_s3_settings_at_all_is_one_line_naming_them_and_nothing_is_created(tmp_path: Path) -> None:
    """With no settings the simulator would go to AWS: it says what to set, and touches nothing."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "S3_", "SQL_", "MONGO_", "PREFECT_"))}
    (tmp_path / "home").mkdir()
    (tmp_path / "work").mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "flows.gamestream", "--delay", "0"],
        cwd=tmp_path / "work",
        env={**clean, "HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT), "AWS_EC2_METADATA_DISABLED": "true"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("python -m flows.gamestream: S3 is not configured: set S3_ENDPOINT_URL")
    assert "AWS credential chain" in lines[0]
    assert os.listdir(tmp_path / "work") == [], "no reference database is created"


def test_the_page_takes_host_and_port_as_every_web_server_does_over_the_settings(tmp_path: Path) -> None:
    import httpx

    from devstack.servers import free_ports, wait_until

    port, setting_port = free_ports(2)
    help_text = subprocess.run(
        [sys.executable, "-m", "web", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert "--host HOST" in help_text and "--port PORT" in help_text and "``" not in help_text
    env = {**os.environ, "PYTHONPATH": str(ROOT), "WEB_HOST": "127.0.0.2", "WEB_PORT": str(setting_port)}
    env["MONGO_URL"] = "mongodb://127.0.0.1:1"  # nothing answers: the page still serves its API description
    page = subprocess.Popen(
        [sys.executable, "-m", "web", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until(
            lambda: httpx.get(f"http://127.0.0.1:{port}/api/openapi.json").status_code == 200, 60, "the page", page
        )
    finally:
        page.terminate()
        output, _ = page.communicate(timeout=30)
    assert output.splitlines()[0] == f"the box-score page: http://127.0.0.1:{port}/"


def test_a_switch_s_help_says_what_the_switch_does() -> None:
    helps = {action.dest: action.help for action in parser_for(live_boxscore, "", HELPS_OF_LIVE)._actions}
    assert helps["finalize"] == (
        "do not finalize each game into teams2/players2 when it is over (without this switch, the run does)"
    )
