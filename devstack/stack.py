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

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from devstack.processes import MARKER, in_group, port_holder, stack_processes, stop
from devstack.servers import (
    GRPC_OFFSET,
    HOST,
    LOCAL_MONGO_PORT,
    LOCAL_PREFECT_PORT,
    LOCAL_S3_PORT,
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
#: moves the local stack's fixed ports (``s3,mongo,prefect``), where another program holds one of them
PORTS_SETTING = "SIDEARM_STACK_PORTS"
STOP_GRACE = 15.0


@dataclass(frozen=True)
class Ports:
    """The local stack's three fixed ports."""

    s3: int = LOCAL_S3_PORT
    mongo: int = LOCAL_MONGO_PORT
    prefect: int = LOCAL_PREFECT_PORT

    @classmethod
    def from_env(cls) -> Ports:
        given = os.environ.get(PORTS_SETTING, "")
        if not given:
            return cls()
        try:
            s3, mongo, prefect = (int(port) for port in given.split(","))
        except ValueError:
            example = f"{LOCAL_S3_PORT},{LOCAL_MONGO_PORT},{LOCAL_PREFECT_PORT}"
            raise ValueError(
                f"{PORTS_SETTING}={given!r}: give three ports, s3,mongo,prefect (e.g. {example})"
            ) from None
        return cls(s3, mongo, prefect)

    def named(self) -> dict[int, str]:
        """Each port the stack binds, with what binds it (SeaweedFS's S3 gRPC is its port + 10000)."""
        return {
            self.s3: "SeaweedFS's S3",
            self.s3 + GRPC_OFFSET: "SeaweedFS's S3 gRPC",
            self.mongo: "SecantusDB (MongoDB)",
            self.prefect: "the Prefect server",
        }

    @property
    def prefect_api_url(self) -> str:
        return f"http://{HOST}:{self.prefect}/api"


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


def settings_text(env: dict[str, str], ports: Ports) -> str:
    lines = ["# The local stack's settings, written by `make up` and removed by `make down`."]
    lines += [f"{name}={value}" for name, value in env.items()]
    lines.append("# The stack's Prefect server: the notebook reads it here; in a shell, export it")
    lines.append(f"PREFECT_API_URL={ports.prefect_api_url}")
    return "\n".join(lines) + "\n"


def shown_settings() -> str:
    """``sidearm.env`` as printed: each secret masked (README: secrets are never printed)."""
    from tasks.masking import shown
    from tasks.settings import SECRET_SETTINGS

    lines = []
    for line in SETTINGS.read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.startswith("#") and name in SECRET_SETTINGS:
            value = shown(value) if "://" in value else "***"
        lines.append(f"{name}{sep}{value}")
    return "\n".join(lines) + "\n"


def held(ports: Ports) -> str | None:
    """Why the stack cannot start on these ports (the first one taken, what holds it, what to do), or ``None``."""
    for port, what in ports.named().items():
        holder = port_holder(port)  # a port nobody listens on is free to a server (it reuses the address)
        if holder is None:
            continue
        said = f"port {port} ({what}) is in use"
        if holder.stack == str(WORKDIR):
            return (
                f"{said} by {holder}, a server of this checkout's local stack that is still running "
                "(its list of servers was removed): run make down, then make up"
            )
        if holder.stack:
            return f"{said} by {holder}, the local stack of {Path(holder.stack).parents[1]}: run make down there"
        return f"{said} by {holder}: stop it, or move the local stack with {PORTS_SETTING}=s3,mongo,prefect"
    return None


def answering(server: LocalServer, port: int) -> str | None:
    """Why the server just started is not the one answering on its port, or ``None`` when it is."""
    assert server.process is not None
    holder = port_holder(port)
    if holder is not None and in_group(holder.pid, server.process.pid):
        return None
    return f"{server.name} started, but port {port} is answered by {holder or 'nobody'}, not by it"


def up() -> int:
    try:
        ports = Ports.from_env()
    except ValueError as error:
        print(f"make up: {error}", file=sys.stderr)
        return 2
    running = [server for server in _recorded() if _alive(server.pid)]
    if running and SETTINGS.is_file():
        names = ", ".join(s.name for s in running)
        print(f"the local stack is already up ({names}); its settings, in {SETTINGS}:")
        print(shown_settings(), end="")
        return 0
    if (refused := held(ports)) is not None:
        print(f"make up: {refused}; nothing was started", file=sys.stderr)
        return 1
    WORKDIR.mkdir(parents=True, exist_ok=True)
    os.environ[MARKER] = str(WORKDIR)  # every server inherits it: make down finds them by it
    s3 = SeaweedS3(WORKDIR / "seaweedfs", s3_port=ports.s3)
    mongo = SecantusMongo(WORKDIR / "secantusdb", port=ports.mongo)
    prefect = PrefectServer(WORKDIR / "prefect", port=ports.prefect)
    servers: list[tuple[LocalServer, int]] = [(s3, ports.s3), (mongo, ports.mongo), (prefect, ports.prefect)]
    started = time.monotonic()
    try:
        for server, port in servers:
            print(f"starting {server.name} ...", flush=True)
            server.start(timeout=180)
            assert server.process is not None
            PIDS.write_text(json.dumps([{"name": s.name, "pid": s.process.pid} for s, _ in servers if s.process]))
            if (wrong := answering(server, port)) is not None:
                raise RuntimeError(wrong)
    except (OSError, RuntimeError, TimeoutError) as error:
        print(f"make up: {error}; what it started is stopped again", file=sys.stderr)
        down(quiet=True)
        return 1
    env = local_pipeline_env(s3, mongo, WORKDIR / "sidearmdb.sqlite")
    _seed(env["SQL_URL"])
    SETTINGS.write_text(settings_text(env, ports))
    print(f"the local stack is up in {time.monotonic() - started:.0f} s; its settings, in {SETTINGS} (secrets masked):")
    print(shown_settings(), end="")
    print(f"the Prefect UI: http://{HOST}:{ports.prefect}/   stop it all: make down")
    return 0


def worker() -> int:
    """``prefect worker start --pool gamestreams`` in the background, for the local Prefect server (one)."""
    if not SETTINGS.is_file():
        print("make worker: the local stack is not up: run make up first", file=sys.stderr)
        return 1
    running = [s for s in _recorded() if s.name == PrefectWorker.name and _alive(s.pid)]
    if running:
        log = WORKDIR / "worker" / f"{PrefectWorker.name}.log"
        print(f"a Prefect worker of the pool gamestreams is already running (pid {running[0].pid}, log: {log})")
        return 0
    os.environ[MARKER] = str(WORKDIR)
    process_worker = PrefectWorker(WORKDIR / "worker", api_url=Ports.from_env().prefect_api_url)
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
    """Stop every process this checkout's stack started: those it recorded, and any other that
    carries its marker (its list in ``var/`` may be gone, by ``make clean`` or by hand)."""
    recorded = [psutil.Process(s.pid) for s in _recorded() if _alive(s.pid)]
    found = {process.pid: process for process in [*recorded, *stack_processes(WORKDIR)]}
    names = stop(found.values(), STOP_GRACE)
    PIDS.unlink(missing_ok=True)
    SETTINGS.unlink(missing_ok=True)
    if not quiet:
        print(f"stopped {', '.join(names) or 'nothing (the local stack was not up)'}")
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
            if not teams2:
                print("\nteams2 and players2 are not written yet: python -m flows.finalize writes them")
                return 0
            sides = {latest["home"]["teamid"], latest["away"]["teamid"]}
            print("\nteams2, the records after the game:")
            print(rows_table([team for team in teams2 if team.id in sides]))
            print("\nplayers2, the season's totals after the game:")
            print(rows_table([player for player in players2 if player.teamid in sides]))
    except (ServiceUnavailable, BadGameId) as error:
        print(f"python -m devstack score: {error}", file=sys.stderr)
        return 1
    return 0


def season() -> int:
    """The season's standings and leaders from its document in MongoDB (the season pages' one
    query), from this directory's settings."""
    from boxscore.report import season_report
    from tasks import ServiceUnavailable
    from tasks.seasons import SEASONS, SeasonStore
    from tasks.settings import Settings

    settings = Settings.from_env()
    try:
        document = SeasonStore.of(settings).document()
    except ServiceUnavailable as error:
        print(f"python -m devstack season: {error}", file=sys.stderr)
        return 1
    if document is None:
        print(
            f"no season {settings.season_id} in {settings.mongo_db}.{SEASONS} yet: the live flow and finalize write it"
        )
        return 1
    print(season_report(document))
    return 0


def main(argv: list[str]) -> int:
    commands = {"up": up, "worker": worker, "down": down, "season": season}
    match argv:
        case [command] if command in commands:
            return commands[command]()
        case ["score"]:
            return score()
        case ["score", game_id]:
            return score(game_id)
    print("usage: python -m devstack {up|worker|down|score [GAME_ID]|season}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
