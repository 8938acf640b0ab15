"""Which process holds a port, and which processes a local stack started: what ``make up`` and
``make down`` ask the kernel rather than a file.

``make up`` refuses a port another process holds, naming it, instead of starting a server that
cannot bind while the old one answers in its place. Every process it starts carries
:data:`MARKER` in its environment, naming the stack's directory, and so do their children (a
worker's flow runs): ``make down`` finds them all by it, even after ``var/`` and its list of
servers were removed.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import psutil

#: the environment variable naming the local stack's directory, set on every process it starts
MARKER = "SIDEARM_LOCAL_STACK"
#: addresses a listener on loopback can be reached through
LOOPBACK = {"127.0.0.1", "0.0.0.0", "::", "::1", "::ffff:127.0.0.1"}


@dataclass(frozen=True)
class Holder:
    """A process listening on a port, and the local stack that started it (``None``: none did)."""

    pid: int
    name: str
    stack: str | None

    def __str__(self) -> str:
        return f"{self.name} (pid {self.pid})" if self.pid else self.name


def port_holder(port: int) -> Holder | None:
    """The process listening on ``port`` on loopback, ``None`` when none does."""
    for connection in psutil.net_connections(kind="tcp"):
        if connection.status != psutil.CONN_LISTEN or not connection.laddr:
            continue
        if connection.laddr.port == port and connection.laddr.ip in LOOPBACK:
            return _holder(connection.pid)
    return None


def _holder(pid: int | None) -> Holder:
    if not pid:
        return Holder(0, "a process of another user", None)
    try:
        process = psutil.Process(pid)
        return Holder(pid, process.name(), _stack_of(process))
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return Holder(pid, "a process", None)


def _stack_of(process: psutil.Process) -> str | None:
    try:
        return process.environ().get(MARKER)
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None


def in_group(pid: int, leader: int) -> bool:
    """Whether ``pid`` is in the process group ``leader`` started (each server starts its own)."""
    try:
        return os.getpgid(pid) == leader
    except ProcessLookupError:
        return False


def stack_processes(workdir: Path) -> list[psutil.Process]:
    """Every live process the local stack of ``workdir`` started, and their children."""
    found = []
    for process in psutil.process_iter():
        if process.pid != os.getpid() and _stack_of(process) == str(workdir):
            found.append(process)
    return found


def stop(processes: Iterable[psutil.Process], grace: float) -> list[str]:
    """Terminate these processes, then kill what is left after ``grace`` seconds; the names of
    those that were running. A Prefect worker exits on its second SIGTERM, so it gets one more
    after 2 s; a second one would cut another server's shutdown short."""
    alive = [process for process in processes if _running(process)]
    names = []
    for process in alive:
        try:
            names.append(process.name())
        except psutil.NoSuchProcess:
            continue
    for process in alive:
        _send(process, signal.SIGTERM)
    alive = _wait_gone(alive, 2.0)
    for process in alive:
        if _is_prefect_worker(process):
            _send(process, signal.SIGTERM)
    alive = _wait_gone(alive, grace)
    for process in alive:
        _send(process, signal.SIGKILL)
    _wait_gone(alive, 5.0)
    return names


def _is_prefect_worker(process: psutil.Process) -> bool:
    try:
        command = process.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False
    words = [Path(part).name for part in command]  # [python,] prefect, worker, start, ...
    return "prefect" in words[:2] and words[words.index("prefect") + 1 : words.index("prefect") + 3] == [
        "worker",
        "start",
    ]


def _send(process: psutil.Process, signal_number: int) -> None:
    try:
        process.send_signal(signal_number)
    except (psutil.NoSuchProcess, ProcessLookupError):
        pass


def _wait_gone(processes: list[psutil.Process], seconds: float) -> list[psutil.Process]:
    """Those of ``processes`` still running after up to ``seconds``. An exited process whose parent
    has not reaped it yet (a zombie) is gone: it holds no port and does nothing."""
    deadline = time.monotonic() + seconds
    while True:
        alive = [process for process in processes if _running(process)]
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.05)


def _running(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
