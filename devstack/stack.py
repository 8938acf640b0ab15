"""``make up`` / ``make down``: the local stack in the background, for the flows run by hand.

``up`` starts SeaweedFS (S3), SecantusDB (MongoDB) and a Prefect server on fixed loopback ports
(beside compose's, which they do not share), creates the SQLite reference database from the
seed, writes the settings to ``sidearm.env`` (what the flows, the page and the deployments read
in this directory) and prints them. ``down`` stops what ``up`` started and removes
``sidearm.env``; the servers' data stays in ``var/local`` for the next ``up``. ``score [GAME_ID]``
prints the current box score in MongoDB, or one game's (and its teams' ``teams2`` and
``players2`` rows once it is final), wherever the settings point.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from devstack.servers import (
    HOST,
    LocalServer,
    PrefectServer,
    PrefectWorker,
    SeaweedS3,
    SecantusMongo,
    local_pipeline_env,
)

ROOT = Path(__file__).resolve().parents[1]
WORKDIR = ROOT / "var" / "local"
PIDS = WORKDIR / "servers.json"
SETTINGS = ROOT / "sidearm.env"
#: the local stack's ports: fixed, so README's commands name them, and apart from compose's
S3_PORT, MONGO_PORT, PREFECT_PORT = 8333, 27018, 4201
PREFECT_API_URL = f"http://{HOST}:{PREFECT_PORT}/api"
STOP_GRACE = 15.0


@dataclass(frozen=True)
class Started:
    """One server of the stack: its name and process group (each is started in a session of its own)."""

    name: str
    pid: int


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _recorded() -> list[Started]:
    return [Started(**entry) for entry in json.loads(PIDS.read_text())] if PIDS.is_file() else []


def settings_text(env: dict[str, str]) -> str:
    lines = ["# The local stack's settings, written by `make up` and removed by `make down`."]
    lines += [f"{name}={value}" for name, value in env.items()]
    lines.append(f"# The Prefect server: export PREFECT_API_URL={PREFECT_API_URL}")
    return "\n".join(lines) + "\n"


def up() -> int:
    running = [server for server in _recorded() if _alive(server.pid)]
    if running and SETTINGS.is_file():
        names = ", ".join(s.name for s in running)
        print(f"the local stack is already up ({names}); its settings, in {SETTINGS.name}:")
        print(SETTINGS.read_text(), end="")
        return 0
    WORKDIR.mkdir(parents=True, exist_ok=True)
    s3 = SeaweedS3(WORKDIR / "seaweedfs", s3_port=S3_PORT)
    mongo = SecantusMongo(WORKDIR / "secantusdb", port=MONGO_PORT)
    prefect = PrefectServer(WORKDIR / "prefect", port=PREFECT_PORT)
    servers: list[LocalServer] = [s3, mongo, prefect]
    started = time.monotonic()
    try:
        for server in servers:
            print(f"starting {server.name} ...", flush=True)
            server.start(timeout=180)
            assert server.process is not None
            PIDS.write_text(json.dumps([{"name": s.name, "pid": s.process.pid} for s in servers if s.process]))
    except (OSError, RuntimeError, TimeoutError) as error:
        print(f"make up: {error}", file=sys.stderr)
        down(quiet=True)
        return 1
    env = local_pipeline_env(s3, mongo, WORKDIR / "sidearmdb.sqlite")
    _seed(env["SQL_URL"])
    SETTINGS.write_text(settings_text(env))
    print(f"the local stack is up in {time.monotonic() - started:.0f} s; its settings, in {SETTINGS.name}:")
    print(SETTINGS.read_text(), end="")
    print(f"the Prefect UI: http://{HOST}:{PREFECT_PORT}/   stop it all: make down")
    return 0


def worker() -> int:
    """``prefect worker start --pool gamestreams`` in the background, for the local Prefect server."""
    if not SETTINGS.is_file():
        print("make worker: the local stack is not up: run make up first", file=sys.stderr)
        return 1
    process_worker = PrefectWorker(WORKDIR / "worker", api_url=PREFECT_API_URL)
    process_worker.start(timeout=120)
    assert process_worker.process is not None
    recorded = [{"name": s.name, "pid": s.pid} for s in _recorded()]
    PIDS.write_text(json.dumps([*recorded, {"name": process_worker.name, "pid": process_worker.process.pid}]))
    print(f"a Prefect worker of the pool gamestreams is running (log: {process_worker.log_path})")
    return 0


def _seed(sql_url: str) -> None:
    """The reference tables from the seed, as the simulator creates them (an existing database is kept)."""
    from flows.gamestream import SEED_DIR
    from tasks.reference import read_seed, seed_reference

    seed_reference.fn(sql_url, *read_seed(SEED_DIR))


def down(quiet: bool = False) -> int:
    servers = [server for server in _recorded() if _alive(server.pid)]
    for server in reversed(servers):
        _signal(server, signal.SIGTERM)
    _wait_gone(servers, 2.0)
    for server in servers:  # a Prefect worker exits on its second SIGTERM
        if server.name == PrefectWorker.name and _alive(server.pid):
            _signal(server, signal.SIGTERM)
    _wait_gone(servers, STOP_GRACE)
    for server in servers:
        if _alive(server.pid):
            _signal(server, signal.SIGKILL)
    PIDS.unlink(missing_ok=True)
    SETTINGS.unlink(missing_ok=True)
    if not quiet:
        print(f"stopped {', '.join(s.name for s in servers) or 'nothing (the local stack was not up)'}")
    return 0


def score(game_id: str | None = None) -> int:
    """The current box score in MongoDB (or ``game_id``'s latest), and once it is final the season
    tables of its two teams: ``teams2`` and their ``players2``, from this directory's settings."""
    from boxscore.identity import BadGameId, checked_game_id
    from boxscore.report import boxscore_table, rows_table
    from tasks import ServiceUnavailable
    from tasks.boxscores import BoxScoreStore
    from tasks.reference import read_season_tables
    from tasks.settings import Settings

    settings = Settings.from_env()
    try:
        game = None if game_id is None else checked_game_id(game_id)
        latest = BoxScoreStore.of(settings).latest(game)
        if latest is None:
            what = f"for game {game}" if game else "yet"
            print(f"no box score {what} in {settings.mongo_db}.{settings.mongo_collection}")
            return 1
        print(boxscore_table(latest))
        if latest.get("final"):
            teams2, players2 = read_season_tables(settings.sql_url)
            sides = {latest["home"]["teamid"], latest["away"]["teamid"]}
            print("\nteams2, the records after the game:")
            print(rows_table([team for team in teams2 if team.id in sides]))
            print("\nplayers2, the season's totals after the game:")
            print(rows_table([player for player in players2 if player.teamid in sides]))
    except (ServiceUnavailable, BadGameId) as error:
        print(f"python -m devstack score: {error}", file=sys.stderr)
        return 1
    return 0


def _signal(server: Started, signal_number: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it exited since it was seen
        os.killpg(server.pid, signal_number)


def _wait_gone(servers: list[Started], seconds: float) -> None:
    """Poll until these processes have exited (they are not our children: no wait() reaps them)."""
    deadline = time.monotonic() + seconds
    while any(_alive(s.pid) for s in servers) and time.monotonic() < deadline:
        time.sleep(0.1)


def main(argv: list[str]) -> int:
    commands = {"up": up, "worker": worker, "down": down}
    match argv:
        case [command] if command in commands:
            return commands[command]()
        case ["score"]:
            return score()
        case ["score", game_id]:
            return score(game_id)
    print("usage: python -m devstack {up|worker|down|score [GAME_ID]}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
