"""The Go programs of the tests, built from the Go module proxy at their pinned versions.

FerretDB and Docker Compose are the module's source at the version pinned in
``devstack/gotools.py``, checked against its pinned hash before anything is built: a module
whose hash differs is refused, and nothing is left in the cache.
"""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import pytest

from devstack import gotools


@pytest.mark.parametrize(("name", "version_command"), [("ferretdb", ["--version"]), ("docker-compose", ["version"])])
def test_each_program_is_the_pinned_version(name: str, version_command: list[str]) -> None:
    printed = subprocess.run(
        [str(gotools.installed(name)), *version_command], capture_output=True, text=True, timeout=60
    )
    assert printed.returncode == 0, printed.stderr
    assert gotools.TOOLS[name].version in printed.stdout, printed.stdout


def test_a_module_whose_hash_is_not_the_pinned_one_is_refused_before_it_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIDEARM_TOOLS_CACHE", str(tmp_path))
    forged = dataclasses.replace(gotools.TOOLS["ferretdb"], sum="h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
    with pytest.raises(RuntimeError) as refused:
        gotools.build(forged)
    assert str(refused.value) == (
        f"github.com/FerretDB/FerretDB@v1.24.2: its hash is {gotools.TOOLS['ferretdb'].sum}, "
        "not the pinned h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    )
    assert not gotools.binary(forged).exists() and sorted(p.name for p in tmp_path.iterdir()) == ["ferretdb.lock"]
