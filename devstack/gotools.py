"""The Go programs the tests and the demo run, built from the Go module proxy at pinned versions.

    python -m devstack.gotools [NAME ...] [--background]

- ``docker-compose``: the Compose our users run (``docker compose``, Go, v5), which reads
  ``docker-compose.yaml`` and its ``.env`` in the tests (``config`` needs no Docker daemon);
- ``ferretdb``: FerretDB, a MongoDB-wire server on SQLite, the second MongoDB server the
  end-to-end tests and ``make demo MONGO_SERVER=ferretdb`` run on.

Each is the module's own source at its pinned version, its module zip checked against the
``h1:`` hash pinned here (the one ``go.sum`` would hold) before anything is built, compiled with
the machine's Go into a cache outside the checkout (``~/.cache/sidearm/go-tools``, or
``SIDEARM_TOOLS_CACHE``) that later runs and clones reuse. A lock per program lets several
processes ask at once: one builds, the others wait for its binary. ``--background`` starts the
builds in a process of its own and returns:
``make test`` starts them before the unit tier, and an integration test that needs a program
waits for that build, or makes it (:func:`installed`).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class GoTool:
    """A Go program: its module at a pinned version, and how its binary is built."""

    name: str
    module: str
    version: str
    sum: str  # the module zip's hash, as go.sum writes it
    package: str  # the main package, inside the module
    #: files the module does not carry but its build needs (FerretDB embeds its version.txt)
    files: dict[str, str] = field(default_factory=dict)
    #: the variable the program prints as its version, set to :attr:`version` at link time
    version_variable: str = ""
    #: compiled without optimisations (a third less CPU to build): for a program whose speed the
    #: tests never feel, Compose's ``config``
    unoptimised: bool = False


TOOLS = {
    tool.name: tool
    for tool in (
        GoTool(
            "ferretdb",
            "github.com/FerretDB/FerretDB",
            "v1.24.2",
            "h1:trrUU0LbmusMbyubhPS1IELncvrIwKrsRT2LW1UUWCw=",
            "./cmd/ferretdb",
            {"build/version/version.txt": "v1.24.2\n"},
        ),
        GoTool(
            "docker-compose",
            "github.com/docker/compose/v5",
            "v5.6.0",
            "h1:WCDEV0D1CtZLyPdklHdEjFBnCStosBYkfsD3tvM/ITU=",
            "./cmd",
            version_variable="github.com/docker/compose/v5/internal.Version",
            unoptimised=True,
        ),
    )
}


class ToolMissing(LookupError):
    """A Go program cannot be built here (no Go); the message says so in one line."""


def sidearm_cache(home: Path | None = None) -> Path:
    """The project's caches outside any checkout, which later runs and clones reuse:
    ``~/.cache/sidearm`` of ``home`` (ours unless given), or under ``XDG_CACHE_HOME``."""
    return Path(os.environ.get("XDG_CACHE_HOME") or (home or Path.home()) / ".cache") / "sidearm"


def cache_dir() -> Path:
    return Path(os.environ.get("SIDEARM_TOOLS_CACHE") or sidearm_cache() / "go-tools")


def binary(tool: GoTool) -> Path:
    return cache_dir() / f"{tool.name}-{tool.version}"


@contextmanager
def locked(tool: GoTool) -> Iterator[None]:
    """The program's build lock: held while it is built, waited for by anyone else who asks."""
    cache_dir().mkdir(parents=True, exist_ok=True)
    with (cache_dir() / f"{tool.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _go(*args: str, cwd: Path | None = None) -> str:
    go = shutil.which("go")
    if go is None:
        raise ToolMissing("go is not installed: the Go programs of the tests are built with it")
    env = {**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": "-buildvcs=false"}
    done = subprocess.run([go, *args], cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"go {' '.join(args)} failed: {done.stderr.strip()[-2000:]}")
    return done.stdout


def build(tool: GoTool) -> Path:
    """The program's binary: built once (source checked against :attr:`GoTool.sum`), then reused."""
    target = binary(tool)
    with locked(tool):
        if target.exists():
            return target
        source = json.loads(_go("mod", "download", "-json", f"{tool.module}@{tool.version}"))
        if source.get("Sum") != tool.sum:
            raise RuntimeError(
                f"{tool.module}@{tool.version}: its hash is {source.get('Sum')}, not the pinned {tool.sum}"
            )
        with tempfile.TemporaryDirectory(dir=cache_dir(), prefix=f"{tool.name}-") as scratch:
            tree = Path(scratch) / "src"
            shutil.copytree(source["Dir"], tree)
            for path in tree.rglob("*"):  # the module cache is read-only
                path.chmod(path.stat().st_mode | 0o200)
            for name, text in tool.files.items():
                (tree / name).write_text(text)
            built = Path(scratch) / tool.name
            flags = "-s -w" + (f" -X {tool.version_variable}={tool.version}" if tool.version_variable else "")
            compile_flags = ["-gcflags=all=-N -l"] if tool.unoptimised else []
            _go("build", "-trimpath", f"-ldflags={flags}", *compile_flags, "-o", str(built), tool.package, cwd=tree)
            os.replace(built, target)
    return target


def installed(name: str) -> Path:
    """The binary of ``name``: the cached one, or the one a build in progress makes (waited for),
    or built now."""
    return build(TOOLS[name])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.gotools", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"{', '.join(TOOLS)} (default: all)")
    parser.add_argument("--background", action="store_true", help="build in a process of its own and return")
    arguments = parser.parse_args(argv)
    names = arguments.names or list(TOOLS)
    if unknown := sorted(set(names) - set(TOOLS)):
        parser.error(f"no such program: {', '.join(unknown)} (the programs: {', '.join(TOOLS)})")
    if arguments.background:
        cache_dir().mkdir(parents=True, exist_ok=True)
        log = (cache_dir() / "build.log").open("ab")
        for name in names:  # side by side: each is mostly waiting on the module proxy at first
            subprocess.Popen(
                [sys.executable, "-m", "devstack.gotools", name],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        print(f"building {', '.join(names)} in the background (log: {cache_dir() / 'build.log'})")
        return 0
    for name in names:
        started = time.monotonic()
        try:
            path = build(TOOLS[name])
        except (ToolMissing, RuntimeError) as error:
            print(f"python -m devstack.gotools: {error}", file=sys.stderr)
            return 1
        print(f"{name} {TOOLS[name].version}: {path} ({time.monotonic() - started:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
