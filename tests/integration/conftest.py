"""Session-wide real servers for the integration tests, started and stopped by the tests.

SeaweedFS (S3), SecantusDB (MongoDB) and one temporary Prefect API server are started once per session;
each test gets its own stream key, Mongo database and SQL database so tests never share state.
PostgreSQL is the machine's own server (127.0.0.1:5432, as in CI).
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import uuid

# Prefect reads these when it is first imported: keep it offline and out of ~/.prefect.
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="prefect-home-"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from devstack.servers import (
    FerretMongo,
    MongoServer,
    PrefectAPI,
    SeaweedS3,
    SecantusMongo,
    prefect_database_template,
)

if TYPE_CHECKING:
    from tests.integration.browser import Browser, Chromium

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
ENV_NAMES = (
    "GAMESTREAM_URL",
    "S3_ENDPOINT_URL",
    "S3_ACCESS_KEY",
    "S3_SECRET_KEY",
    "S3_READER",
    "MONGO_URL",
    "MONGO_DB",
    "MONGO_COLLECTION",
    "SQL_URL",
    "DASK_ADDRESS",
    "GAME_ID",
    "CHANGE_FEED",
    "SEAWEEDFS_FILER",
    "SEASON",
)


@pytest.fixture(scope="session")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    server = SeaweedS3(tmp_path_factory.mktemp("seaweedfs")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mongo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecantusMongo]:
    server = SecantusMongo(tmp_path_factory.mktemp("secantusdb")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def ferret(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FerretMongo]:
    """FerretDB on SQLite, the second MongoDB server: a worker's first test on it waits for its build
    (``make test`` starts the build in the background before the unit tier, ``devstack.gotools``)."""
    server = FerretMongo(tmp_path_factory.mktemp("ferretdb")).start(timeout=60)
    yield server
    server.stop()


#: the MongoDB servers a test may run on: ``mongo_server`` is parametrized with these names
MONGO_SERVERS = {"secantusdb": "mongo", "ferretdb": "ferret"}


@pytest.fixture
def mongo_server(request: pytest.FixtureRequest) -> MongoServer:
    """The test's MongoDB server: SecantusDB, or the one ``parametrize("mongo_server", [...],
    indirect=True)`` names (the tests that matter most run on FerretDB too)."""
    return request.getfixturevalue(MONGO_SERVERS[getattr(request, "param", "secantusdb")])  # type: ignore[no-any-return]


def pytest_sessionstart(session: pytest.Session) -> None:
    """Before any pytest-xdist worker starts: migrate the one Prefect database every Prefect
    server of the run starts from a copy of, so that no two workers migrate one at once."""
    if not hasattr(session.config, "workerinput"):
        prefect_database_template()


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One temporary Prefect API server for every flow run of the session.

    The server Prefect's test harness (``prefect_test_harness``) starts, an ephemeral API without
    the UI (:class:`devstack.servers.PrefectAPI`), but on a copy of a database already migrated
    (:func:`devstack.servers.migrated_prefect_database`), where the harness migrates a new one,
    most of a server's start; each pytest-xdist worker starts one. It is the
    API of the test's context (Prefect's settings are context variables); a flow a test runs in
    a thread runs in a copy of that context (:class:`devstack.follow.Background`).
    """
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker
    from prefect.settings import PREFECT_API_URL, temporary_settings

    server = PrefectAPI(tmp_path_factory.mktemp("prefect-api")).start(timeout=180)
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
            yield
            # the last logs and events reach the server before it stops, as the harness does
            with contextlib.suppress(RuntimeError):
                APILogWorker.instance().drain()
            EventsWorker.drain_all()
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A fresh database on the local PostgreSQL; skipped (with the reason) where there is none."""
    import sqlalchemy

    admin = sqlalchemy.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"sidearm_test_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sqlalchemy.exc.OperationalError as error:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL} ({error.orig}); CI runs these tests")
    yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The reference database: an embedded SQLite file, and the local PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'sidearmdb.sqlite'}"
    base = request.getfixturevalue("postgres_server")
    _drop_all(base)
    return base


def _drop_all(url: str) -> None:
    from tasks.reference import metadata, sql_engine

    metadata.drop_all(sql_engine(url))


@pytest.fixture
def pipeline_env(
    monkeypatch: pytest.MonkeyPatch,
    s3: SeaweedS3,
    mongo_server: MongoServer,
    sql_url: str,
    prefect_api: None,
    tmp_path: Path,
) -> dict[str, str]:
    """The environment a user sets, pointing at this test's own stream, database and tables."""
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    test_id = uuid.uuid4().hex[:10]
    env = {
        "GAMESTREAM_URL": f"s3://{s3.bucket}/{test_id}/gamestream.txt",
        "S3_ENDPOINT_URL": s3.endpoint_url,
        "SEAWEEDFS_FILER": s3.filer_address,
        "S3_ACCESS_KEY": s3.access_key,
        "S3_SECRET_KEY": s3.secret_key,
        "MONGO_URL": mongo_server.url,
        "MONGO_DB": f"sidearm_{test_id}",
        "MONGO_COLLECTION": "boxscores",
        "SQL_URL": sql_url,
    }
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def storage(s3: SeaweedS3) -> dict:
    """s3fs options for the session's S3 server."""
    return s3.storage_options


@pytest.fixture
def flow_log() -> Iterator[list[str]]:
    """Every line the flows and their tasks log during the test."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    handler = Collect()
    for name in ("prefect.flow_runs", "prefect.task_runs"):
        logging.getLogger(name).addHandler(handler)
    yield lines
    for name in ("prefect.flow_runs", "prefect.task_runs"):
        logging.getLogger(name).removeHandler(handler)


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    """Headless Debian Chromium, one per test process (tests/integration/browser.py)."""
    from tests.integration.browser import Chromium

    process = Chromium(tmp_path_factory.mktemp("chromium"))
    yield process
    process.close()


@pytest.fixture
def browser(chromium: Chromium) -> Iterator[Browser]:
    """A tab of its own in the test process's Chromium, driven over its DevTools protocol."""
    tab = chromium.tab()
    yield tab
    tab.close()


#: The files that take longest, longest first (``make bench-suite`` lists the slowest tests; each
#: here takes half a minute or more): pytest-xdist hands out whole files in collection order
#: (``--no-loadscope-reorder``), so the longest start at once on the three workers and the short
#: files fill in at the end, where a long file handed out late (test_page.py, once) ends the tier
#: alone, the other workers idle. xdist's own order hands out the files with the most tests
#: first, which starts a file of a few long tests (test_restarts.py) late.
LONGEST_FIRST = (
    "test_restarts.py",
    "test_outages.py",
    "test_readme.py",
    "test_season.py",
    "test_deployments.py",
    "test_pipeline.py",
    "test_page.py",
    "test_page_api.py",
    "test_season_pages.py",
    "test_local_stack.py",
    "test_secrets.py",
    "test_isolation.py",
    "test_cluster.py",
    "test_mistakes.py",
    "test_change_feed.py",
)


#: The files that read what the Go Compose prints: last, so that ``make test``'s background build
#: of it (``devstack.gotools``, after FerretDB's, which the early files need) is done by then.
LAST = ("test_compose.py", "test_compose_env.py", "test_gotools.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: place for place, name in enumerate(LONGEST_FIRST)}
    rank.update({name: len(LONGEST_FIRST) + 1 + place for place, name in enumerate(LAST)})
    # a stable sort: the rest keep their order, between the longest and the last
    items.sort(key=lambda item: rank.get(item.path.name, len(LONGEST_FIRST)))
