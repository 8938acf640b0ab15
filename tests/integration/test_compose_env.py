"""``make compose-env`` typed as a user types it, in a clean copy of the checkout.

Compose reads ``.env`` (checked by the Go Compose's ``config``); the host reads
``sidearm.env`` or the file ``SIDEARM_ENV_FILE`` names, never ``.env``: so after the Docker step
the flows on the host still reach the local servers they are pointed at.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from devstack.gotools import installed
from tests.helpers import clean_checkout, make
from tests.integration.test_compose import PASSWORD, as_run


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean copy of the checkout after ``SIDEARM_PASSWORD='<PASSWORD>' make compose-env``."""
    directory = clean_checkout(tmp_path_factory.mktemp("clone"))
    done = make(directory, "compose-env", env={"SIDEARM_PASSWORD": PASSWORD})
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-2:] == ["wrote .env", "wrote sidearm.compose.env"]
    return directory


def test_compose_reads_exactly_the_chosen_password(checkout: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if k != "SIDEARM_PASSWORD"}
    compose = str(installed("docker-compose"))
    printed = subprocess.run([compose, "config"], cwd=checkout, env=environ, capture_output=True, text=True, timeout=60)
    assert printed.returncode == 0, printed.stderr
    services = as_run(yaml.safe_load(printed.stdout)["services"])
    assert services["mssql"]["environment"]["MSSQL_SA_PASSWORD"] == PASSWORD
    assert services["minio"]["environment"]["MINIO_ROOT_PASSWORD"] == PASSWORD
    assert services["mongo"]["environment"]["MONGO_INITDB_ROOT_PASSWORD"] == PASSWORD


def _host_settings(checkout: Path, **environ: str) -> subprocess.CompletedProcess[str]:
    code = "from tasks.settings import Settings; s = Settings.from_env(); print(s.mongo_url); print(s.s3_secret_key)"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MONGO_", "S3_", "SIDEARM_"))}
    return subprocess.run(
        [str(Path(__file__).parents[2] / ".venv/bin/python"), "-c", code],
        cwd=checkout,
        env={**clean, "PYTHONPATH": str(checkout), **environ},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_host_reads_the_compose_password_only_when_told_to(checkout: Path) -> None:
    """The demo's and the local stack's settings (a Mongo URL with no user) meet no compose password."""
    local = _host_settings(checkout, MONGO_URL="mongodb://127.0.0.1:27999")
    assert local.returncode == 0, local.stderr
    assert local.stdout.splitlines() == ["mongodb://127.0.0.1:27999", ""]
    from urllib.parse import quote

    stack = _host_settings(checkout, SIDEARM_ENV_FILE="sidearm.compose.env")
    assert stack.returncode == 0, stack.stderr
    assert stack.stdout.splitlines() == [
        f"mongodb://sidearm:{quote(PASSWORD, safe='')}@127.0.0.1:27017/?authSource=admin",
        PASSWORD,
    ]


@pytest.mark.parametrize("password", ["two\nlines", ""])
def test_a_password_no_env_line_can_carry_is_refused_in_one_line(tmp_path: Path, password: str) -> None:
    directory = clean_checkout(tmp_path)
    refused = make(directory, "compose-env", env={"SIDEARM_PASSWORD": password})
    assert refused.returncode != 0
    reason = [line for line in refused.stderr.splitlines() if line.startswith("make compose-env:")]
    assert len(reason) == 1 and "SIDEARM_PASSWORD" in reason[0], refused.stderr
    assert not (directory / ".env").exists()


def test_a_env_that_would_not_read_back_the_password_is_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer reads what it wrote: were its quoting wrong, it refuses instead of keeping a changed password."""
    from devstack import compose_env

    shutil.copy(Path(__file__).parents[2] / "sidearm.env.example", tmp_path)
    monkeypatch.setattr(compose_env, "compose_quoted", lambda value: f'"{value}"')  # no escaping: a quote ends it
    with pytest.raises(compose_env.PasswordRefused, match=r"does not read back unchanged from \.env"):
        compose_env.write(tmp_path, 'a"b-Pass1')
    assert not (tmp_path / ".env").exists()
