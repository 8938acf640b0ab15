"""The compose stack, checked without a Docker engine: services, images, ports, wiring, files."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from dotenv import dotenv_values

from tasks.settings import DEFAULTS

ROOT = Path(__file__).resolve().parents[2]
PROJECT_SERVICES = {
    "dask-scheduler",
    "dask-worker-1",
    "dask-worker-2",
    "prefect-worker",
    "gamestream",
    "jupyter",
    "boxscore-page",
}
SERVICES = PROJECT_SERVICES | {
    "mssql",
    "mssql-init",
    "minio",
    "minio-init",
    "mongo",
    "drill",
    "drill-init",
    "prefect-server",
}


@pytest.fixture(scope="module")
def password() -> str:
    """What a user's .env would hold (it is never committed; compose puts it in URLs raw)."""
    return "Sa1-test_password"


@pytest.fixture(scope="module")
def compose(password: str) -> dict[str, Any]:
    """docker-compose.yaml with ${SIDEARM_PASSWORD...} substituted as compose does from .env."""
    text = re.sub(r"\$\{SIDEARM_PASSWORD(:\?[^}]*)?\}", password, (ROOT / "docker-compose.yaml").read_text())
    assert "${" not in text, "every variable must come from .env"
    return yaml.safe_load(text)["services"]


def test_every_service_is_there(compose: dict) -> None:
    assert set(compose) == SERVICES


def test_images(compose: dict) -> None:
    assert compose["mssql"]["image"].startswith("mcr.microsoft.com/mssql/server:2022")
    assert compose["mssql-init"]["image"] == compose["mssql"]["image"]
    assert compose["minio"]["image"].startswith("minio/minio")
    assert compose["mongo"]["image"].startswith("mongo:")
    assert compose["prefect-server"]["image"].startswith("prefecthq/prefect:3.9.1")
    assert compose["drill"]["build"] == "./drill" and (ROOT / "drill" / "Dockerfile").is_file()
    for name in PROJECT_SERVICES:
        assert compose[name]["build"] == "." and compose[name]["image"] == "sidearm-boxscores:latest"
    assert "msodbcsql18" in (ROOT / "Dockerfile").read_text() and "tdsodbc" in (ROOT / "Dockerfile").read_text()


def test_host_ports_are_loopback_only(compose: dict) -> None:
    published = {name: svc.get("ports", []) for name, svc in compose.items()}
    assert published["mssql"] == ["127.0.0.1:1433:1433"]
    assert published["minio"] == ["127.0.0.1:9000:9000", "127.0.0.1:9001:9001"]
    assert published["mongo"] == ["127.0.0.1:27017:27017"]
    assert published["prefect-server"] == ["127.0.0.1:4200:4200"]
    assert published["drill"] == ["127.0.0.1:8047:8047"]
    assert published["boxscore-page"] == ["127.0.0.1:8080:8080"]
    assert all(port.startswith("127.0.0.1:") for ports in published.values() for port in ports)


def test_pipeline_environment_is_wired_to_the_services(compose: dict, password: str) -> None:
    for name in PROJECT_SERVICES:
        env = compose[name]["environment"]
        assert set(DEFAULTS) <= set(env), f"{name} misses a setting"
        assert env["S3_ENDPOINT_URL"] == "http://minio:9000"
        assert env["S3_ACCESS_KEY"] == compose["minio"]["environment"]["MINIO_ROOT_USER"]
        assert env["S3_SECRET_KEY"] == compose["minio"]["environment"]["MINIO_ROOT_PASSWORD"] == password
        mongo = urlsplit(env["MONGO_URL"])
        assert (mongo.hostname, mongo.port, mongo.username, mongo.password) == (
            "mongo",
            27017,
            compose["mongo"]["environment"]["MONGO_INITDB_ROOT_USERNAME"],
            password,
        )
        sql = urlsplit(env["SQL_URL"])
        assert sql.scheme == "mssql+pyodbc" and (sql.hostname, sql.port, sql.path) == ("mssql", 1433, "/sidearmdb")
        assert (sql.username, sql.password) == ("sa", compose["mssql"]["environment"]["MSSQL_SA_PASSWORD"])
        assert "driver=ODBC+Driver+18+for+SQL+Server" in sql.query
        assert env["DASK_ADDRESS"] == "tcp://dask-scheduler:8786"
        assert env["PREFECT_API_URL"] == "http://prefect-server:4200/api"
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
            source = volume.split(":")[0]
            assert source.startswith("./"), f"{name}: {volume} is not a project path"
            assert (ROOT / source).exists(), f"{name} mounts missing {source}"
    assert "/init/init-sidearmdb.sql" in compose["mssql-init"]["entrypoint"]
    assert "sh deployments/deploy.sh" in " ".join(compose["prefect-worker"]["command"])


def test_drill_plugins_match_the_stack(compose: dict, password: str) -> None:
    plugins = {  # the password filled in as register-plugins.sh does
        p.stem.removeprefix("storage-"): json.loads(p.read_text().replace("${SIDEARM_PASSWORD}", password))
        for p in (ROOT / "drill").glob("storage-*.json")
    }
    assert set(plugins) == {"minio", "mongo", "mssql"}
    assert all(plugin["name"] == name and plugin["config"]["enabled"] for name, plugin in plugins.items())
    s3 = plugins["minio"]["config"]
    assert s3["connection"] == "s3a://gamestreams"
    assert s3["config"]["fs.s3a.endpoint"] == "http://minio:9000"
    assert (s3["config"]["fs.s3a.access.key"], s3["config"]["fs.s3a.secret.key"]) == ("sidearm", password)
    pipeline_env = compose["gamestream"]["environment"]
    assert plugins["mongo"]["config"]["connection"] == pipeline_env["MONGO_URL"]
    mssql = plugins["mssql"]["config"]
    assert mssql["url"] == "jdbc:sqlserver://mssql:1433;databaseName=sidearmdb;encrypt=false"
    assert (mssql["username"], mssql["password"]) == ("sa", password)


def test_drill_queries_cover_every_store() -> None:
    queries = [q for q in (ROOT / "drill" / "queries.sql").read_text().split(";") if "SELECT" in q]
    assert len(queries) == 6
    text = " ".join(queries)
    for source in (
        "mssql.sidearmdb.dbo.teams",
        "mssql.sidearmdb.dbo.players",
        "minio.root.`gamestream.txt`",
        "mongo.sidearm.boxscores",
        "mssql.sidearmdb.dbo.teams2",
        "mssql.sidearmdb.dbo.players2",
    ):
        assert source in text


def test_mssql_init_loads_the_seed_tables() -> None:
    sql = (ROOT / "sql" / "init-sidearmdb.sql").read_text()
    assert "CREATE DATABASE sidearmdb" in sql
    assert "BULK INSERT dbo.teams FROM '/seed/teams.csv'" in sql
    assert "BULK INSERT dbo.players FROM '/seed/players.csv'" in sql


def test_no_password_is_committed_and_compose_says_what_to_set() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    assert ".env" not in tracked
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=ROOT, check=False)
    assert ignored.returncode == 0, ".env must be git-ignored"
    assert dotenv_values(ROOT / ".env.example")["SIDEARM_PASSWORD"] == ""
    text = (ROOT / "docker-compose.yaml").read_text()
    uses = re.findall(r"\$\{SIDEARM_PASSWORD[^}]*\}", text)
    assert len(uses) >= 9
    message = "SIDEARM_PASSWORD is not set: run make compose-env, or copy .env.example to .env and set it"
    assert set(uses) == {"${SIDEARM_PASSWORD:?" + message + "}"}
    for plugin in (ROOT / "drill").glob("storage-*.json"):
        assert "${SIDEARM_PASSWORD}" in plugin.read_text(), plugin.name


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
    }
    assert expected == QUIET_LOCAL_CLUSTER
    for name in ("dask-scheduler", "dask-worker-1", "dask-worker-2", "prefect-worker"):
        environment = {key: str(value) for key, value in compose[name]["environment"].items()}
        config = dask.config.collect_env(environment)
        assert {key: dask.config.get(key, config=config) for key in expected} == expected, name
