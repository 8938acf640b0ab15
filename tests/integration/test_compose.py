"""The compose stack and the other files other programs read, checked by those programs.

``docker-compose.yaml`` is read by the Compose our users run, Docker Compose v5 (Go), built
from the Go module proxy by ``make tools`` (``devstack.gotools``; ``config`` needs no Docker
daemon: it parses the YAML, validates it against compose's schema and interpolates the variables
of the ``.env``), and the services are taken from what it prints.
The Drill plugins are filled in by the script compose runs and caught by a real HTTP server;
the SQL files are parsed by sqlglot in the closest dialects it has (``drill``, ``tsql``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlfluff
import sqlglot
import yaml
from dotenv import dotenv_values
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymongo import uri_parser
from sqlalchemy.engine import make_url

from devstack import compose_env
from devstack.gotools import installed
from tasks.settings import BLOCK_SUFFIX, DEFAULTS, GAME_ID, Settings
from tests.helpers import examples

ROOT = Path(__file__).resolve().parents[2]
PROJECT_SERVICES = {
    "dask-scheduler",
    "dask-worker-1",
    "dask-worker-2",
    "prefect-worker",
    "gamestream",
    "jupyter",
    "boxscore-page",
    "drill-init",
}
PIPELINE_SERVICES = PROJECT_SERVICES - {"drill-init"}
SERVICES = PROJECT_SERVICES | {"mssql", "mssql-init", "minio", "minio-init", "mongo", "drill", "prefect-server"}
#: what a user may choose: every character that breaks a URL, a sed template, a shell word, a
#: .env line (compose expands ``${...}`` even in single quotes) or a YAML scalar
PASSWORD = "p@ss/w:rd%${X}$$y&|{z} \"q\" 'q' #h \\b"
#: variables .env.example may set beyond the settings: compose's own
COMPOSE_VARIABLES = {"SIDEARM_PASSWORD", "COMPOSE_PROJECT_NAME"}


def env_file(directory: Path, password: str | None) -> Path:
    """A ``.env`` as ``make compose-env`` writes it, with this password; without one, ``.env.example`` copied."""
    if password is None:
        shutil.copy(ROOT / ".env.example", directory / ".env")
    else:
        shutil.copy(ROOT / "sidearm.env.example", directory / "sidearm.env.example")
        compose_env.write(directory, password)
    return directory / ".env"


def compose_config(env: Path) -> subprocess.CompletedProcess[str]:
    """``docker compose --env-file <env> config`` on the project's file, as a user runs it, answered
    in JSON (PyYAML reads a bare ``=`` value, which a password may be, as YAML's ``value`` tag)."""
    environ = {k: v for k, v in os.environ.items() if k not in COMPOSE_VARIABLES}
    return subprocess.run(
        [
            *(str(installed("docker-compose")), "--env-file", str(env), "-f", str(ROOT / "docker-compose.yaml")),
            *("config", "--format", "json"),
        ],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def compose(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The services as compose resolves them from a .env holding :data:`PASSWORD`."""
    resolved = compose_config(env_file(tmp_path_factory.mktemp("compose"), PASSWORD))
    assert resolved.returncode == 0, resolved.stderr
    return as_run(json.loads(resolved.stdout)["services"])


def as_run(value: Any) -> Any:
    """What a container is given: ``config`` prints a compose file, in which ``$$`` is a literal ``$``."""
    if isinstance(value, str):
        return value.replace("$$", "$")
    if isinstance(value, dict):
        return {key: as_run(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_run(item) for item in value]
    return value


def test_the_file_is_yaml_before_any_variable_is_substituted() -> None:
    """Compose parses the YAML first: the file as committed must load (the refusal message holds ': ')."""
    services = yaml.safe_load((ROOT / "docker-compose.yaml").read_text())["services"]
    assert set(services) == SERVICES


def test_compose_refuses_a_env_without_the_password_and_names_it(tmp_path: Path) -> None:
    refused = compose_config(env_file(tmp_path, None))
    assert refused.returncode != 0
    assert "SIDEARM_PASSWORD is not set: run make compose-env" in refused.stderr


def test_every_service_is_there(compose: dict) -> None:
    assert set(compose) == SERVICES


@settings(max_examples=examples(10), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(password=st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=40))
def test_any_printable_password_comes_back_exactly_in_every_service(
    tmp_path_factory: pytest.TempPathFactory, password: str
) -> None:
    """``make compose-env``'s ``.env``, read by the Compose our users run: ``$``, ``${``, ``'``,
    ``\\``, ``"``, ``#`` and spaces included, every service gets the password as chosen."""
    resolved = compose_config(env_file(tmp_path_factory.mktemp("any"), password))
    assert resolved.returncode == 0, resolved.stderr
    services = as_run(json.loads(resolved.stdout)["services"])
    assert services["mssql"]["environment"]["MSSQL_SA_PASSWORD"] == password
    assert services["minio"]["environment"]["MINIO_ROOT_PASSWORD"] == password
    assert services["mongo"]["environment"]["MONGO_INITDB_ROOT_PASSWORD"] == password
    assert f"--ServerApp.token={password}" in services["jupyter"]["command"]


def test_every_image_is_pinned_to_a_version(compose: dict) -> None:
    for name, service in compose.items():
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        assert repository and tag and tag != "latest" and "/" not in tag, f"{name}: {image} is not pinned"
    assert compose["mssql"]["image"].startswith("mcr.microsoft.com/mssql/server:2022-CU")
    assert compose["mssql-init"]["image"] == compose["mssql"]["image"]
    assert compose["prefect-server"]["image"] == "prefecthq/prefect:3.9.1-python3.11"
    assert "FROM apache/drill:1.21.2\n" in (ROOT / "drill" / "Dockerfile").read_text()
    for name in PROJECT_SERVICES:
        assert compose[name]["build"]["context"] == str(ROOT) and compose[name]["image"] == "sidearm-boxscores:local"
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in dockerfile and "msodbcsql18" in dockerfile and "tdsodbc" in dockerfile


def published_port(port: str | dict[str, Any]) -> tuple[str, int]:
    """``(host ip, host port)`` of a port as compose prints it: v1's short form, v2's long one."""
    if isinstance(port, str):
        host, published, _ = port.rsplit(":", 2)
        return host, int(published)
    return port["host_ip"], int(port["published"])


def test_host_ports_are_loopback_only(compose: dict) -> None:
    published = {name: sorted(published_port(port) for port in svc.get("ports", [])) for name, svc in compose.items()}
    assert published["mssql"] == [("127.0.0.1", 1433)]
    assert published["minio"] == [("127.0.0.1", 9000), ("127.0.0.1", 9001)]
    assert published["mongo"] == [("127.0.0.1", 27017)]
    assert published["prefect-server"] == [("127.0.0.1", 4200)]
    assert published["drill"] == [("127.0.0.1", 8047)]
    assert published["boxscore-page"] == [("127.0.0.1", 8080)]
    assert all(host == "127.0.0.1" for ports in published.values() for host, _ in ports)


def test_any_password_reaches_every_url_as_the_settings_parse_it(compose: dict) -> None:
    """The services' environment, read by the project's own settings, gives back the password whole."""
    for name in PIPELINE_SERVICES:
        env = {key: str(value) for key, value in compose[name]["environment"].items()}
        assert set(DEFAULTS) - {"MONGO_PASSWORD", "SQL_PASSWORD"} <= set(env), f"{name} misses a setting"
        settings = Settings.from_env(env, env_file="")
        assert settings.s3_endpoint_url == "http://minio:9000"
        assert settings.s3_access_key == compose["minio"]["environment"]["MINIO_ROOT_USER"]
        assert settings.s3_secret_key == compose["minio"]["environment"]["MINIO_ROOT_PASSWORD"] == PASSWORD
        mongo = uri_parser.parse_uri(settings.mongo_url)
        assert (mongo["nodelist"], mongo["username"], mongo["password"]) == (
            [("mongo", 27017)],
            compose["mongo"]["environment"]["MONGO_INITDB_ROOT_USERNAME"],
            PASSWORD,
        )
        sql = make_url(settings.sql_url)
        assert (sql.drivername, sql.host, sql.port, sql.database) == ("mssql+pyodbc", "mssql", 1433, "sidearmdb")
        assert (sql.username, sql.password) == ("sa", compose["mssql"]["environment"]["MSSQL_SA_PASSWORD"])
        assert sql.query["driver"] == "ODBC Driver 18 for SQL Server"
        assert settings.dask_address == "tcp://dask-scheduler:8786"
        assert env["PREFECT_API_URL"] == "http://prefect-server:4200/api"
    for service in ("mssql-init", "minio-init", "drill-init"):
        assert PASSWORD in compose[service]["environment"].values(), service
    assert f"--ServerApp.token={PASSWORD}" in compose["jupyter"]["command"]
    workers = [compose[f"dask-worker-{i}"]["command"] for i in (1, 2)]
    assert all(cmd[:3] == ["dask", "worker", "tcp://dask-scheduler:8786"] for cmd in workers)


def test_start_order_follows_health(compose: dict) -> None:
    for name, service in compose.items():
        for dependency, condition in service.get("depends_on", {}).items():
            assert dependency in compose, f"{name} depends on unknown {dependency}"
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in compose[dependency], f"{dependency} has no healthcheck"
            if condition["condition"] == "service_completed_successfully":
                assert compose[dependency].get("restart") == "no"
    assert "mssql-init" in compose["prefect-worker"]["depends_on"]
    assert "minio-init" in compose["gamestream"]["depends_on"]


def test_every_mounted_file_exists(compose: dict) -> None:
    for name, service in compose.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0] if isinstance(volume, str) else volume["source"]
            assert Path(source).resolve().is_relative_to(ROOT), f"{name}: {volume} is not a project path"
            assert Path(source).exists(), f"{name} mounts missing {source}"
    assert "/init/init-sidearmdb.sql" in compose["mssql-init"]["entrypoint"]
    assert "sh deployments/deploy.sh" in " ".join(compose["prefect-worker"]["command"])
    assert compose["drill-init"]["command"][:2] == ["python", "drill/register_plugins.py"]
    assert (ROOT / compose["drill-init"]["command"][1]).is_file()


class Capture(BaseHTTPRequestHandler):
    """Drill's REST API as far as the registration script uses it: keeps each plugin POSTed."""

    received: dict[str, Any]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received[self.path] = json.loads(body)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{"result": "Success"}')

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def drill_api() -> Iterator[tuple[str, dict[str, Any]]]:
    received: dict[str, Any] = {}
    handler = type("Handler", (Capture,), {"received": received})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()


def test_the_drill_plugins_get_the_password_exactly(drill_api: tuple[str, dict], compose: dict) -> None:
    """The script compose runs fills the plugins in from the service's environment and POSTs them."""
    url, received = drill_api
    environ = {**os.environ, **compose["drill-init"]["environment"]}
    registered = subprocess.run(
        [sys.executable, str(ROOT / "drill" / "register_plugins.py"), url],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert registered.returncode == 0, registered.stderr
    assert set(received) == {"/storage/minio.json", "/storage/mongo.json", "/storage/mssql.json"}
    plugins = {path.removeprefix("/storage/").removesuffix(".json"): body for path, body in received.items()}
    assert all(plugin["name"] == name and plugin["config"]["enabled"] for name, plugin in plugins.items())
    s3 = plugins["minio"]["config"]
    assert s3["connection"] == "s3a://gamestreams"
    assert s3["config"]["fs.s3a.endpoint"] == "http://minio:9000"
    assert (s3["config"]["fs.s3a.access.key"], s3["config"]["fs.s3a.secret.key"]) == ("sidearm", PASSWORD)
    mongo = uri_parser.parse_uri(plugins["mongo"]["config"]["connection"])
    assert (mongo["nodelist"], mongo["username"], mongo["password"]) == ([("mongo", 27017)], "sidearm", PASSWORD)
    mssql = plugins["mssql"]["config"]
    assert mssql["url"] == "jdbc:sqlserver://mssql:1433;databaseName=sidearmdb;encrypt=false"
    assert (mssql["username"], mssql["password"]) == ("sa", PASSWORD)


def test_the_drill_queries_parse_as_drill_sql_and_cover_every_store() -> None:
    """sqlglot's ``drill`` dialect (Drill's own parser, Calcite, does not run here)."""
    statements = drill_statements()
    assert len(statements) == 6
    tables = {
        ".".join(part.name for part in table.parts) for s in statements for table in s.find_all(sqlglot.exp.Table)
    }
    assert tables == {
        "mssql.dbo.teams",
        "mssql.dbo.players",
        "mssql.dbo.teams2",
        "mssql.dbo.players2",
        "minio.root.gamestream.txt",
        "mongo.sidearm.boxscores",
    }


def drill_statements() -> list[sqlglot.exp.Expression]:
    return [s for s in sqlglot.parse((ROOT / "drill" / "queries.sql").read_text(), read="drill") if s]


def test_no_drill_query_names_a_jdbc_table_by_more_than_plugin_schema_and_table() -> None:
    """Drill ran them: ``mssql.sidearmdb.dbo.teams`` is "Object 'dbo' not found within
    'mssql.sidearmdb'"; the JDBC plugin puts SQL Server's schema at its top level."""
    jdbc = json.loads((ROOT / "drill" / "storage-mssql.json").read_text())
    assert jdbc["config"]["type"] == "jdbc"
    named = [
        [part.name for part in table.parts]
        for statement in drill_statements()
        for table in statement.find_all(sqlglot.exp.Table)
        if table.parts[0].name == jdbc["name"]
    ]
    assert len(named) == 8 and all(len(parts) == 3 and parts[1] == "dbo" for parts in named), named


def test_every_aggregate_the_mongo_plugin_is_sent_has_an_alias() -> None:
    """Drill ran them: the mongo plugin pushes ``MAX(_id)`` down as ``'EXPR$0'`` and then looks
    for ``EXPR$0``, so an unaliased aggregate over a MongoDB collection is NULL."""
    selects = [select for statement in drill_statements() for select in statement.find_all(sqlglot.exp.Select)]
    sources = [select.args.get("from_") for select in selects]  # sqlglot names a FROM clause from_
    mongo_selects = [
        select
        for select, source in zip(selects, sources, strict=True)
        if source and source.this.parts[0].name == "mongo"
    ]
    aggregates = [
        projection
        for select in mongo_selects
        for projection in select.expressions
        if projection.find(sqlglot.exp.AggFunc) is not None
    ]
    assert aggregates, "query 4a asks MongoDB for the latest stored_at"
    assert all(isinstance(projection, sqlglot.exp.Alias) for projection in aggregates), aggregates


def test_the_drill_image_loads_the_sql_server_driver_built_for_its_java() -> None:
    """apache/drill:1.21.2 runs on Java 8: the jre11 driver's classes (version 55) cannot load there."""
    dockerfile = (ROOT / "drill" / "Dockerfile").read_text()
    assert "FROM apache/drill:1.21.2\n" in dockerfile
    assert "/mssql-jdbc-12.8.1.jre8.jar" in dockerfile and "jre11" not in dockerfile.split("FROM", 1)[1]
    assert "ADD --checksum=sha256:" in dockerfile


def parse_tree_items(node: Any) -> Iterator[tuple[str, Any]]:
    """Every ``(segment type, value)`` of a sqlfluff parse tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from parse_tree_items(value)
    elif isinstance(node, list):
        for value in node:
            yield from parse_tree_items(value)


def test_the_sql_server_init_script_parses_as_t_sql_and_loads_the_seed() -> None:
    """sqlfluff's ``tsql`` dialect parses the script whole, ``GO`` batches and ``BULK INSERT`` included
    (it raises on any unparsable section); sqlcmd itself does not run here."""
    tree = sqlfluff.parse((ROOT / "sql" / "init-sidearmdb.sql").read_text(), dialect="tsql")
    items = list(parse_tree_items(tree))
    kinds = [kind for kind, _ in items]
    assert kinds.count("create_database_statement") == 1
    assert kinds.count("create_table_statement") == 2
    assert kinds.count("bulk_insert_statement") == 2
    literals = {value for kind, value in items if kind == "quoted_literal"}
    assert {"'/seed/teams.csv'", "'/seed/players.csv'"} <= literals


def test_the_examples_hold_compose_s_variables_and_the_host_s_settings_apart() -> None:
    """.env.example is compose's two variables; sidearm.env.example every setting of the host and nothing else."""
    compose_part = dotenv_values(ROOT / ".env.example")
    assert compose_part == {"SIDEARM_PASSWORD": "", "COMPOSE_PROJECT_NAME": "sidearm"}
    host = dotenv_values(ROOT / "sidearm.env.example")
    settings = set(DEFAULTS) | {GAME_ID} | {name + BLOCK_SUFFIX for name in DEFAULTS}
    assert set(host) <= settings, set(host) - settings
    assert all(name in host for name in DEFAULTS), set(DEFAULTS) - set(host)
    assert Settings.from_env({}, env_file=ROOT / "sidearm.env.example").sql_url == host["SQL_URL"]


def test_no_password_is_committed_and_compose_says_what_to_set() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    assert ".env" not in tracked
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=ROOT, check=False)
    assert ignored.returncode == 0, ".env must be git-ignored"
    for plugin in (ROOT / "drill").glob("storage-*.json"):
        assert "${SIDEARM_PASSWORD" in plugin.read_text(), plugin.name


def test_the_dask_cluster_runs_as_quietly_as_the_local_one(compose: dict) -> None:
    """Every Dask process reads, through Dask's own environment parsing, the local cluster's settings."""
    import dask

    from tasks.cluster import QUIET_LOCAL_CLUSTER

    expected = {
        "distributed.worker.profile.enabled": False,
        "distributed.admin.tick.interval": "500ms",
        "distributed.admin.system-monitor.interval": "5s",
        "distributed.admin.system-monitor.disk": False,
        "distributed.worker.memory.monitor-interval": "1s",
        "distributed.admin.low-level-log-length": 100,
    }
    assert expected == QUIET_LOCAL_CLUSTER
    for name in ("dask-scheduler", "dask-worker-1", "dask-worker-2", "prefect-worker"):
        environment = {key: str(value) for key, value in compose[name]["environment"].items()}
        config = dask.config.collect_env(environment)
        assert {key: dask.config.get(key, config=config) for key in expected} == expected, name


def test_a_host_env_made_by_compose_env_reaches_the_compose_stack_with_its_password(
    tmp_path: Path, compose: dict
) -> None:
    """The flows on the host, read through python-dotenv, get the stack's published ports and its password."""
    from urllib.parse import urlsplit

    from pymongo.uri_parser import parse_uri

    env_file(tmp_path, PASSWORD)
    settings = Settings.from_env({}, env_file=tmp_path / compose_env.HOST_FILE)
    published = {str(published_port(port)[1]) for service in compose.values() for port in service.get("ports", [])}
    minio = compose["minio"]["environment"]
    mongo = compose["mongo"]["environment"]
    assert urlsplit(settings.s3_endpoint_url).port == 9000 and "9000" in published
    assert (settings.s3_access_key, settings.s3_secret_key) == (minio["MINIO_ROOT_USER"], PASSWORD)
    parsed = parse_uri(settings.mongo_url)
    assert parsed["nodelist"] == [("127.0.0.1", 27017)] and "27017" in published
    assert (parsed["username"], parsed["password"]) == (mongo["MONGO_INITDB_ROOT_USERNAME"], PASSWORD)
