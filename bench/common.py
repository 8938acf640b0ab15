"""Shared by the benchmarks: the machine, results as JSON, timing, a synthetic long stream."""

from __future__ import annotations

import json
import os
import platform
import random
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
SCRATCH = ROOT / "var" / "bench"
#: the commit the latest change to the tally and the document is measured against: the live flow
#: before the line score, the scoring summary and the game flow
BEFORE = "f024088"


def machine() -> dict[str, Any]:
    with open("/proc/meminfo") as meminfo:
        total_kb = int(meminfo.readline().split()[1])
    return {
        "cores": os.cpu_count(),
        "ram_gib": round(total_kb / 2**20, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def load(name: str) -> dict | None:
    """A benchmark's saved figures (bench/results/<name>.json), or ``None`` before its first run."""
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def save(name: str, results: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **results}, indent=2) + "\n")
    return path


def best_of(runs: int, work: Callable[[], Any]) -> tuple[float, Any]:
    """The fastest of ``runs`` timings (the least disturbed by a noisy shared machine)."""
    best, result = float("inf"), None
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return best, result


def long_stream(events: int, seed: int = 3) -> Path:
    """A clean stream of ``events`` shots between 101 and 205 (cached under var/bench)."""
    path = SCRATCH / f"stream-{events}.txt"
    if path.exists():
        return path
    SCRATCH.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    jerseys = {
        101: ["6", "1", "2", "13", "17", "8", "9", "4", "15", "10"],
        205: ["1", "9", "2", "15", "16", "8", "17", "3", "5", "22"],
    }
    tmp = path.with_suffix(".tmp")
    with tmp.open("w") as out:
        chunk = []
        for event in range(events):
            left = 3599 - event * 3599 // events
            team = 101 if rng.random() < 0.5 else 205
            chunk.append(
                f"{event} {left // 60:02d}:{left % 60:02d} {team} {rng.choice(jerseys[team])} "
                f"{int(rng.random() < 0.3)}\n"
            )
            if len(chunk) == 100_000:
                out.write("".join(chunk))
                chunk = []
        out.write("".join(chunk))
    tmp.rename(path)
    return path


def tree_cpu(process: psutil.Process) -> float:
    """CPU seconds of a process and its live children."""
    total = 0.0
    for member in [process, *process.children(recursive=True)]:
        try:
            times = member.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def export(rev: str | None) -> Path:
    """The project as it is at ``rev`` (``None``: this working tree, uncommitted changes included),
    copied into a scratch directory that a version under comparison runs from.

    Both sides of a comparison run from such a copy, never one from the checkout: the same commit
    measured from its copy and from the checkout differed by more than the effects compared.
    """
    tree = SCRATCH / f"tree-{rev or 'worktree'}"
    shutil.rmtree(tree, ignore_errors=True)
    tree.mkdir(parents=True)
    if rev is not None:
        archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
        return tree
    files = ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"]
    listed = subprocess.run(files, cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, tree / name)
    return tree


def league_day(workdir: Path, league: Any, s3: Any, mongo: Any) -> dict[str, str]:
    """A synthetic league's day on fresh servers: the reference tables (the seed's and the league's)
    in SQLite under ``workdir``, and the settings of a live run following the prefix it is
    replayed into."""
    from flows.gamestream import SEED_DIR
    from tasks.reference import read_seed, reset_reference

    sql_url = f"sqlite:///{workdir / 'sidearmdb.sqlite'}"
    teams, players = read_seed(SEED_DIR)
    workdir.mkdir(parents=True, exist_ok=True)
    reset_reference.fn(sql_url, teams + league.teams, players + league.players, league.matchups)
    return {
        "GAMESTREAM_URL": f"s3://{s3.bucket}/saturday/",
        "S3_ENDPOINT_URL": s3.endpoint_url,
        "SEAWEEDFS_FILER": s3.filer_address,
        "S3_ACCESS_KEY": s3.access_key,
        "S3_SECRET_KEY": s3.secret_key,
        "MONGO_URL": mongo.url,
        "SQL_URL": sql_url,
        "DASK_LOGGING__DISTRIBUTED": "warning",
    }


@contextmanager
def one_game_stack(name: str, **settings: str) -> Iterator[tuple[Any, Any]]:
    """Fresh SeaweedFS and SecantusDB under ``var/bench/<name>``, the process set to follow one game
    on them (offline Prefect, quiet task-run and Dask logs, the seed's reference tables in SQLite,
    and ``settings`` over the rest): what the one-game benchmarks run in. Yields (s3, mongo)."""
    from devstack.servers import SeaweedS3, SecantusMongo, local_pipeline_env, running

    workdir = SCRATCH / name
    shutil.rmtree(workdir, ignore_errors=True)
    os.environ.update(
        {
            "PREFECT_HOME": str(workdir / "prefect"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "PREFECT_LOGGING_LOGGERS_PREFECT_TASK_RUNS_LEVEL": "WARNING",
            "DASK_LOGGING__DISTRIBUTED": "warning",
        }
    )
    with running(SeaweedS3(workdir / "s3"), SecantusMongo(workdir / "mongo")) as (s3, mongo):
        os.environ.update({**local_pipeline_env(s3, mongo, workdir / "sidearmdb.sqlite"), **settings})
        from flows.gamestream import SEED_DIR
        from tasks.reference import read_seed, reset_reference

        reset_reference.fn(os.environ["SQL_URL"], *read_seed(SEED_DIR))
        yield s3, mongo
