"""Start, wait for and stop one local server process; SeaweedFS and SecantusDB flavours."""

from __future__ import annotations

import importlib.metadata
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymongo

from devstack.gotools import sidearm_cache
from tasks.stream import short_lived_s3fs

HOST = "127.0.0.1"
GRPC_OFFSET = 10000  # SeaweedFS serves gRPC on each HTTP port + 10000
#: Servers of ours listen on 10000-19999 (gRPC twins 20000-29999): below Linux's ephemeral
#: range (32768-60999), which outgoing connections take their own ends from.
FIRST_SERVER_PORT = 10000
#: ``make up``'s local stack (devstack.stack): fixed, so README's commands name them, and apart
#: from compose's. A test's server never takes one of them, nor one whose gRPC twin is one, so
#: README's ``make up`` in one test process finds them free while other tests run.
LOCAL_S3_PORT, LOCAL_MONGO_PORT, LOCAL_PREFECT_PORT = 8333, 27018, 4201
LOCAL_STACK_PORTS = frozenset({LOCAL_S3_PORT, LOCAL_S3_PORT + GRPC_OFFSET, LOCAL_MONGO_PORT, LOCAL_PREFECT_PORT})


def _bin(name: str) -> str:
    """A console script of this venv (found beside the interpreter), else on PATH."""
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        raise FileNotFoundError(f"{name} is not installed: run `make venv` (requirements-dev.txt)")
    return found


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def port_open(port: int) -> bool:
    """Something listens on the loopback port: a connect, where a client's first request (an S3
    client's, a MongoDB client's) costs its setup in CPU on every poll of a start."""
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def _own_ports() -> range:
    """This process's share of the server ports: below the ephemeral range, twins included.

    A port picked from the ephemeral range can be taken, between our pick and the server's
    bind, by any outgoing connection on the machine (a client retrying a stopped server makes
    hundreds); below that range only servers bind. Every port is picked below
    ``FIRST_SERVER_PORT + GRPC_OFFSET``, so its gRPC twin is never another pick. Each
    pytest-xdist worker gets its own slice, so two workers never pick the same port.
    """
    ports = range(FIRST_SERVER_PORT, FIRST_SERVER_PORT + GRPC_OFFSET)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0") or 0)
    if worker.startswith("gw") and worker[2:].isdigit() and workers > 0:
        share = len(ports) // workers
        start = ports.start + int(worker[2:]) * share
        return range(start, start + share)
    return ports


_handed_out: set[int] = set()


def free_ports(count: int, with_grpc: bool = False) -> list[int]:
    """Distinct free loopback ports below the ephemeral range (and their +10000 gRPC twins when asked).

    Never the same port twice in one process, so servers built before any of them starts
    cannot be handed one port; never the local stack's, nor one whose twin is the local stack's.
    """
    pool = _own_ports()
    offset = os.getpid() % len(pool)
    ports: list[int] = []
    for step in range(len(pool)):
        port = pool[(offset + step) % len(pool)]
        if port in _handed_out or {port, port + GRPC_OFFSET} & LOCAL_STACK_PORTS:
            continue
        if not port_free(port) or (with_grpc and not port_free(port + GRPC_OFFSET)):
            continue
        _handed_out.add(port)
        ports.append(port)
        if len(ports) == count:
            return ports
    raise RuntimeError(f"no {count} free ports left in {pool.start}-{pool.stop - 1}")


def wait_until(
    ready: Callable[[], bool], timeout: float, what: str, process: subprocess.Popen | None = None, every: float = 0.1
) -> None:
    """Poll ``ready`` every ``every`` seconds until true; fail early, by name, if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with code {process.returncode} before it was ready")
        try:
            if ready():
                return
        except Exception:  # noqa: BLE001 - not up yet; keep polling until the deadline
            pass
        time.sleep(every)
    raise TimeoutError(f"{what} was not ready after {timeout:.0f} s")


@dataclass
class LocalServer:
    """A server process of ours: started in its own directory, stopped terminate-then-kill."""

    workdir: Path
    process: subprocess.Popen | None = field(default=None, init=False)
    name = "server"
    #: SIGTERMs to send before waiting: a Prefect worker only exits on the second one.
    terminations = 1

    def command(self) -> list[str]:
        raise NotImplementedError

    def environment(self) -> dict[str, str] | None:
        """The process environment (``None``: inherit ours)."""
        return None

    def ready(self) -> bool:
        raise NotImplementedError

    def start(self, timeout: float = 60.0) -> LocalServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command(),
            cwd=self.cwd(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=self.environment(),
        )
        wait_until(self.ready, timeout, f"{self.name} (log: {self.log_path})", self.process)
        return self

    def cwd(self) -> Path:
        return self.workdir

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def stop(self, grace: float = 15.0) -> None:
        """Terminate (as often as the server needs), then kill what is left after ``grace``."""
        if self.process is None or self.process.poll() is not None:
            return
        for attempt in range(self.terminations):
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(grace if attempt == self.terminations - 1 else 2.0)
                return
            except subprocess.TimeoutExpired:
                continue
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def kill(self) -> None:
        """Stop at once, as a crash would (fault tests)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@dataclass
class SeaweedS3(LocalServer):
    """SeaweedFS ``weed mini``: master, volume, filer and S3 gateway in one process."""

    access_key: str = "sidearm"
    secret_key: str = "sidearm-dev-secret"
    bucket: str = "gamestreams"
    s3_port: int = 0
    name = "seaweedfs"

    def __post_init__(self) -> None:
        self.s3_port, self.master_port, self.volume_port, self.filer_port, self.admin_port = (
            [self.s3_port] if self.s3_port else []
        ) + free_ports(5 - bool(self.s3_port), with_grpc=True)

    @property
    def endpoint_url(self) -> str:
        return f"http://{HOST}:{self.s3_port}"

    @property
    def filer_address(self) -> str:
        """The filer's ``host:port`` (HTTP; its gRPC, which the change feed follows, is + 10000)."""
        return f"{HOST}:{self.filer_port}"

    @property
    def storage_options(self) -> dict:
        return {"key": self.access_key, "secret": self.secret_key, "client_kwargs": {"endpoint_url": self.endpoint_url}}

    def command(self) -> list[str]:
        config = self.workdir / "s3.json"
        identity = {
            "name": "pipeline",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        config.write_text(json.dumps({"identities": [identity]}))
        (self.workdir / "data").mkdir(exist_ok=True)
        return [
            _bin("weed"),
            "mini",
            f"-dir={self.workdir / 'data'}",
            f"-ip={HOST}",
            f"-ip.bind={HOST}",
            f"-master.port={self.master_port}",
            f"-volume.port={self.volume_port}",
            f"-filer.port={self.filer_port}",
            f"-s3.port={self.s3_port}",
            f"-admin.port={self.admin_port}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-webdav=false",
            "-master.telemetry=false",
            "-s3.allowDeleteBucketNotEmpty=false",
            f"-s3.config={config}",
            f"-bucket={self.bucket}",
        ]

    def ready(self) -> bool:
        if not port_open(self.s3_port):
            return False
        with short_lived_s3fs(self.storage_options) as fs:
            return fs.exists(self.bucket)


@dataclass
class MongoServer(LocalServer):
    """A MongoDB wire-protocol server of ours on a free loopback port, ready once it answers a ping."""

    port: int = 0

    def __post_init__(self) -> None:
        self.port = self.port or free_ports(1)[0]

    @property
    def url(self) -> str:
        return f"mongodb://{HOST}:{self.port}"

    def ready(self) -> bool:
        if not port_open(self.port):
            return False
        with pymongo.MongoClient(self.url, serverSelectionTimeoutMS=500) as client:
            return bool(client.admin.command("ping")["ok"])


@dataclass
class SecantusMongo(MongoServer):
    """SecantusDB: a MongoDB wire-protocol server on WiredTiger."""

    name = "secantusdb"

    def command(self) -> list[str]:
        return [
            _bin("secantusd-py"),
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--storage-path",
            str(self.workdir / "data"),
            "--log-level",
            "WARNING",
        ]


@dataclass
class FerretMongo(MongoServer):
    """FerretDB on SQLite: a MongoDB wire-protocol server without change streams, the second
    MongoDB server of the tests and of ``make demo MONGO_SERVER=ferretdb`` (built by
    :mod:`devstack.gotools`)."""

    name = "ferretdb"

    def command(self) -> list[str]:
        from devstack.gotools import installed

        (self.workdir / "data").mkdir(exist_ok=True)
        return [
            str(installed("ferretdb")),  # built first where it is not (make test builds it in the background)
            "--handler=sqlite",
            f"--sqlite-url=file:{self.workdir / 'data'}/",
            f"--state-dir={self.workdir}",
            f"--listen-addr={HOST}:{self.port}",
            f"--debug-addr={HOST}:0",  # its metrics and profiling: a free port the kernel picks, never one taken
            "--telemetry=disable",
            "--log-level=warn",
        ]


def offline_prefect_env(home: Path, api_url: str | None = None) -> dict[str, str]:
    """Environment for a Prefect process of ours: its own home, no analytics, loopback only."""
    env = dict(os.environ)
    env.update(
        {
            "PREFECT_HOME": str(home),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        }
    )
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return env


def prefect_databases(home: Path | None = None) -> Path:
    """Where Prefect databases migrated once are kept, a file per Prefect version (see
    :func:`migrated_prefect_database`): in the project's cache of ``home`` (ours unless given),
    outside the checkout as the Go programs are, so a new clone's first test run starts from the
    migration an earlier one made (15 s before any integration test starts)."""
    return sidearm_cache(home) / "prefect-databases"


def prefect_database_template() -> Path:
    """The Prefect database every local server starts from a copy of, migrated once per version.

    Migrating a new database is most of a server's start. The first server of a Prefect version
    migrates one for all (``prefect server database upgrade``); every later one starts from a
    copy, which the server migrates further on start should it be older, as it would any database.
    """
    template = prefect_databases() / f"prefect-{importlib.metadata.version('prefect')}.db"
    if not template.exists():
        template.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=template.parent) as scratch:
            subprocess.run(
                [_bin("prefect"), "server", "database", "upgrade", "-y"],
                env=offline_prefect_env(Path(scratch)),
                check=True,
                capture_output=True,
            )
            os.replace(Path(scratch) / "prefect.db", template)  # whole: a racing process replaces an equal file
    return template


def migrated_prefect_database(home: Path) -> Path:
    """A new Prefect home's ``prefect.db``: a copy of :func:`prefect_database_template`."""
    target = home / "prefect.db"
    if not target.exists():
        home.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(prefect_database_template(), target)
    return target


@dataclass
class PrometheusServer(LocalServer):
    """Debian's Prometheus (``make tools``) on a free loopback port, with a data directory of its own,
    scraping ``targets`` (job name -> ``host:port`` addresses) every ``scrape_seconds`` and loading
    the project's alerting rules."""

    targets: dict[str, list[str]] = field(default_factory=dict)
    scrape_seconds: float = 1.0
    port: int = 0
    name = "prometheus"

    def __post_init__(self) -> None:
        self.port = self.port or free_ports(1)[0]

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def command(self) -> list[str]:
        rules = Path(__file__).resolve().parents[1] / "deployments" / "prometheus" / "alerts.yml"
        config = {
            "global": {
                "scrape_interval": f"{self.scrape_seconds:g}s",
                "evaluation_interval": f"{self.scrape_seconds:g}s",
            },
            "rule_files": [str(rules)],
            "scrape_configs": [
                {"job_name": job, "static_configs": [{"targets": addresses}]} for job, addresses in self.targets.items()
            ],
        }
        path = self.workdir / "prometheus.yml"
        path.write_text(json.dumps(config))  # JSON is YAML
        binary = shutil.which("prometheus")
        if binary is None:
            raise RuntimeError("prometheus is not installed: run `make tools` (Debian's prometheus)")
        return [
            binary,
            f"--config.file={path}",
            f"--storage.tsdb.path={self.workdir / 'data'}",
            f"--web.listen-address={HOST}:{self.port}",
            "--log.level=warn",
        ]

    def ready(self) -> bool:
        with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as answer:
            return answer.status == 200

    def query(self, promql: str, at: float | None = None) -> list[dict[str, Any]]:
        """The instant query's result vector (each ``{"metric": labels, "value": [time, text]}``),
        evaluated now or ``at`` a Unix time (what the series held then, though stale since)."""
        params = {"query": promql} | ({"time": f"{at:.3f}"} if at is not None else {})
        url = f"{self.url}/api/v1/query?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=10) as answer:
            body = json.load(answer)
        if body.get("status") != "success":
            raise RuntimeError(f"Prometheus refused {promql!r}: {body}")
        return list(body["data"]["result"])


@dataclass
class PrefectServer(LocalServer):
    """``prefect server start``: the API and the UI, with a temporary PREFECT_HOME whose database
    starts migrated (:func:`migrated_prefect_database`)."""

    port: int = 0
    name = "prefect-server"

    def __post_init__(self) -> None:
        self.port = self.port or free_ports(1)[0]

    def start(self, timeout: float = 60.0) -> LocalServer:
        migrated_prefect_database(self.workdir / "home")
        return super().start(timeout)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    def environment(self) -> dict[str, str]:
        return offline_prefect_env(self.workdir / "home", self.api_url)

    def command(self) -> list[str]:
        return [_bin("prefect"), "server", "start", "--host", HOST, "--port", str(self.port)]

    def ready(self) -> bool:
        with urllib.request.urlopen(f"{self.api_url}/health", timeout=2) as response:
            return response.status == 200


@dataclass
class PrefectAPI(PrefectServer):
    """Prefect's temporary API server, as Prefect itself starts one for a process with no
    ``PREFECT_API_URL`` (uvicorn on its app factory, marked ephemeral: no UI, and only the
    services a temporary server runs), on a database that starts migrated.

    Started as a process of ours rather than through ``prefect.server.api.server``, whose import
    (the whole server: its routes, models and database layer) would cost the test process some
    3 s of CPU for a class that only builds this command line.
    """

    name = "prefect-api"

    def environment(self) -> dict[str, str]:
        return {
            **super().environment(),
            "PREFECT_UI_ENABLED": "0",
            "PREFECT__SERVER_EPHEMERAL": "1",
            "PREFECT__SERVER_FINAL": "1",
        }

    def command(self) -> list[str]:
        app = ["--factory", "prefect.server.api.server:create_app", "--lifespan", "on"]
        return [sys.executable, "-m", "uvicorn", *app, "--host", HOST, "--port", str(self.port), "--log-level", "error"]


@dataclass
class PrefectWorker(LocalServer):
    """``prefect worker start`` on a process pool, started in its own folder with no ``PYTHONPATH``:
    as a user's worker elsewhere, its flow runs find the project only through the directory
    ``prefect deploy`` recorded."""

    api_url: str = ""
    pool: str = "gamestreams"
    extra_env: dict[str, str] = field(default_factory=dict)
    name = "prefect-worker"
    terminations = 2

    def environment(self) -> dict[str, str]:
        env = offline_prefect_env(self.workdir / "home", self.api_url)
        env.pop("PYTHONPATH", None)
        env.update({"PREFECT_WORKER_QUERY_SECONDS": "1", **self.extra_env})
        return env

    def cwd(self) -> Path:
        return self.workdir

    def command(self) -> list[str]:
        return [_bin("prefect"), "worker", "start", "--pool", self.pool, "--type", "process"]

    def ready(self) -> bool:
        return "started" in self.log_path.read_text(errors="replace")


def local_pipeline_env(s3: SeaweedS3, mongo: MongoServer, sql_file: Path) -> dict[str, str]:
    """The settings that point the pipeline at these local servers and a SQLite reference file."""
    return {
        "GAMESTREAM_URL": f"s3://{s3.bucket}/gamestream.txt",
        "S3_ENDPOINT_URL": s3.endpoint_url,
        "SEAWEEDFS_FILER": s3.filer_address,
        "S3_ACCESS_KEY": s3.access_key,
        "S3_SECRET_KEY": s3.secret_key,
        "MONGO_URL": mongo.url,
        "SQL_URL": f"sqlite:///{sql_file}",
    }


@dataclass
class DaskScheduler(LocalServer):
    """``dask scheduler`` on loopback (with no dashboard): the address a user gives as DASK_ADDRESS."""

    port: int = field(default_factory=lambda: free_ports(1)[0])
    project_dir: Path = Path(__file__).resolve().parents[1]
    name = "dask-scheduler"

    def environment(self) -> dict[str, str]:
        """The project importable, as on every Dask process: graphs carry its functions by reference."""
        return {**os.environ, "PYTHONPATH": str(self.project_dir)}

    @property
    def address(self) -> str:
        return f"tcp://{HOST}:{self.port}"

    def command(self) -> list[str]:
        return [_bin("dask"), "scheduler", "--host", HOST, "--port", str(self.port), "--no-dashboard"]

    def ready(self) -> bool:
        return "Scheduler at:" in self.log_path.read_text(errors="replace")


@dataclass
class DaskWorker(LocalServer):
    """``dask worker`` joining a scheduler, from the project directory with the project importable."""

    scheduler: str = ""
    worker_name: str = "worker"
    project_dir: Path = Path(__file__).resolve().parents[1]
    #: the Prefect API the task runs it executes report to (without one, each worker process
    #: would boot a temporary Prefect server of its own)
    prefect_api_url: str = ""
    name = "dask-worker"

    def environment(self) -> dict[str, str]:
        home = self.workdir / f"{self.worker_name}-prefect-home"
        return {**offline_prefect_env(home, self.prefect_api_url or None), "PYTHONPATH": str(self.project_dir)}

    def cwd(self) -> Path:
        return self.project_dir

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.worker_name}.log"

    def command(self) -> list[str]:
        return [
            _bin("dask"),
            "worker",
            self.scheduler,
            "--name",
            self.worker_name,
            "--nthreads",
            "1",
            "--host",
            HOST,
            "--no-dashboard",
            "--local-directory",
            str(self.workdir),
        ]

    def ready(self) -> bool:
        return "Registered to:" in self.log_path.read_text(errors="replace")


@contextmanager
def running(*servers: LocalServer) -> Iterator[tuple[LocalServer, ...]]:
    """Start servers in order and always stop them, even when the body fails."""
    started: list[LocalServer] = []
    try:
        for server in servers:
            started.append(server.start())
        yield servers
    finally:
        for server in reversed(started):
            server.stop()


@dataclass
class BoxScorePage(LocalServer):
    """``python -m web``: the box-score page on loopback, reading the given MongoDB."""

    mongo_url: str = ""
    mongo_db: str = "sidearm"
    mongo_collection: str = "boxscores"
    port: int = field(default_factory=lambda: free_ports(1)[0])
    project_dir: Path = Path(__file__).resolve().parents[1]
    refresh_seconds: float = 0.5  # WEB_REFRESH_SECONDS
    stale_seconds: float = 30.0  # WEB_STALE_SECONDS
    metrics_address: str = ""  # WEB_METRICS_ADDRESS: none unless a test asks (many pages run side by side)
    workers: int = 1
    season: str = ""  # SEASON: the season pages' (empty: this year)
    name = "boxscore-page"

    def environment(self) -> dict[str, str]:
        settings = {"MONGO_URL": self.mongo_url, "MONGO_DB": self.mongo_db, "MONGO_COLLECTION": self.mongo_collection}
        return {
            **os.environ,
            **settings,
            "WEB_HOST": HOST,
            "WEB_PORT": str(self.port),
            "WEB_REFRESH_SECONDS": str(self.refresh_seconds),
            "WEB_STALE_SECONDS": str(self.stale_seconds),
            "WEB_METRICS_ADDRESS": self.metrics_address,
            "SEASON": self.season,
            "PYTHONPATH": str(self.project_dir),
        }

    def cwd(self) -> Path:
        return self.workdir  # no stray .env is read

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "web", "--workers", str(self.workers)]

    def ready(self) -> bool:
        return port_open(self.port)


@dataclass
class LiveFlowProcess(LocalServer):
    """``python -m flows.live_boxscore`` in a process of its own, with an ephemeral Prefect API.

    Fault tests SIGKILL it mid-game and start it again; benchmarks read its CPU time and peak
    memory from the kernel when it exits (:meth:`finish`).
    """

    project_dir: Path = Path(".")
    extra_env: dict[str, str] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)
    name = "live-boxscore"

    def environment(self) -> dict[str, str]:
        return {**offline_prefect_env(self.workdir / "home"), "PYTHONPATH": str(self.project_dir), **self.extra_env}

    def cwd(self) -> Path:
        return self.project_dir

    def command(self) -> list[str]:
        return [sys.executable, "-m", "flows.live_boxscore", *self.args]

    def ready(self) -> bool:
        return "following the game" in self.log_path.read_text(errors="replace")

    def finish(self, timeout: float) -> tuple[int, resource.struct_rusage]:
        """Wait for the flow to end by itself: its exit code and the kernel's account of its resources."""
        assert self.process is not None, "the flow was not started"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status, usage = os.wait4(self.process.pid, os.WNOHANG)
            if pid:
                self.process.returncode = os.waitstatus_to_exitcode(status)
                return self.process.returncode, usage
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} did not finish within {timeout:.0f} s (log: {self.log_path})")
