"""No secret in any output: a full run at DEBUG, its logs, artifacts and box scores scanned.

The S3 secret key comes from a Prefect Secret block, the MongoDB and PostgreSQL passwords from
``MONGO_PASSWORD``/``SQL_PASSWORD`` beside their URLs (as compose gives them); the simulator,
the live flow and finalize run as their own processes at DEBUG level, against the test
session's Prefect API, which keeps their logs and artifacts for the scan. No 4-character piece
of any secret may appear anywhere (:func:`tests.helpers.shown_pieces`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pymongo
import pytest

from devstack.servers import LiveFlowProcess, SeaweedS3, SecantusMongo, offline_prefect_env
from tests.helpers import as_stored, shown_pieces, table_rows
from tests.recorded_game import FINAL_BOXSCORE, TEAMS2

ROOT = Path(__file__).resolve().parents[2]
#: what breaks URLs, templates and ODBC strings: '@/:%&|{}', ';', '#', a space and non-ASCII; their
#: letters are not hex digits, so no piece of their percent-encodings is mistaken in an id or hash
S3_SECRET = "S3k@/:%&|{}zé"
MONGO_PASSWORD = "Mg@/:%&|{}; #qxß"
SQL_PASSWORD = "Sq@/:%&|{}; #kw€"
SECRETS = (S3_SECRET, MONGO_PASSWORD, SQL_PASSWORD)
BLOCK = "sidearm-s3-secret-test"


def prefect_records() -> str:
    """Every log line and artifact the Prefect API holds, as text."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.sorting import LogSort

    with get_client(sync_client=True) as client:
        logs = client.read_logs(limit=200, sort=LogSort.TIMESTAMP_ASC)
        offset, texts = 200, [log.message for log in logs]
        while len(logs) == 200:
            logs = client.read_logs(limit=200, offset=offset, sort=LogSort.TIMESTAMP_ASC)
            texts += [log.message for log in logs]
            offset += 200
        artifacts = client.read_artifacts()
    return "\n".join(texts + [json.dumps(a.data, default=str) + (a.description or "") for a in artifacts])


def test_a_full_run_at_debug_level_shows_no_secret(
    tmp_path: Path, prefect_api: None, postgres_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.blocks.system import Secret
    from prefect.settings import PREFECT_API_URL

    from tasks.reference import metadata, sql_engine

    metadata.drop_all(sql_engine(postgres_server))
    Secret(value=S3_SECRET).save(BLOCK, overwrite=True)
    s3 = SeaweedS3(tmp_path / "s3", secret_key=S3_SECRET).start()
    mongo = SecantusMongo(tmp_path / "mongo").start()
    try:
        pymongo.MongoClient(mongo.url).admin.command("createUser", "app", pwd=MONGO_PASSWORD, roles=["root"])
        mongo_url = mongo.url.replace("mongodb://", "mongodb://app@")
        sql_url = postgres_server  # trust auth: PostgreSQL accepts any password, the driver still sends it
        env = {
            "GAMESTREAM_URL": f"s3://{s3.bucket}/gamestream.txt",
            "S3_ENDPOINT_URL": s3.endpoint_url,
            "SEAWEEDFS_FILER": s3.filer_address,
            "S3_ACCESS_KEY": s3.access_key,
            "S3_SECRET_KEY_BLOCK": BLOCK,
            "MONGO_URL": mongo_url,
            "MONGO_PASSWORD": MONGO_PASSWORD,
            "MONGO_DB": "sidearm",
            "MONGO_COLLECTION": "boxscores",
            "SQL_URL": sql_url,
            "SQL_PASSWORD": SQL_PASSWORD,
            "PREFECT_API_URL": str(PREFECT_API_URL.value()),
            "PREFECT_LOGGING_LEVEL": "DEBUG",
            "DASK_LOGGING__DISTRIBUTED": "debug",
        }
        monkeypatch.delenv("S3_SECRET_KEY", raising=False)
        live = LiveFlowProcess(
            tmp_path / "live",
            project_dir=ROOT,
            extra_env=env,
            args=[
                "--poll-interval",
                "0.05",
                "--wait-for-stream",
                "120",
                "--stall-timeout",
                "120",
                "--settle-seconds",
                "0.5",
            ],
        )
        live.start(timeout=180)
        process_env = {**offline_prefect_env(tmp_path / "home"), "PYTHONPATH": str(ROOT), **env}
        process_env.pop("S3_SECRET_KEY", None)
        simulator = subprocess.run(
            [sys.executable, "-m", "flows.gamestream", "--delay", "0.002"],
            cwd=ROOT,
            env=process_env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert simulator.returncode == 0, simulator.stderr[-3000:]
        code, _ = live.finish(timeout=300)
        assert code == 0, live.log_path.read_text()[-3000:]
        finalize = subprocess.run(
            [sys.executable, "-m", "flows.finalize"],
            cwd=ROOT,
            env=process_env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert finalize.returncode == 0, finalize.stderr[-3000:]

        with pymongo.MongoClient(mongo_url, password=MONGO_PASSWORD) as client:
            documents = [as_stored(d) for d in client.sidearm.boxscores.find(sort=[("_id", 1)])]
    finally:
        mongo.stop()
        s3.stop()
    assert documents[-1] == FINAL_BOXSCORE  # the run really worked with the secrets
    assert table_rows(sql_url, "teams2") == TEAMS2

    outputs = {
        "simulator": simulator.stdout + simulator.stderr,
        "live flow": live.log_path.read_text(errors="replace"),
        "finalize": finalize.stdout + finalize.stderr,
        "box scores": json.dumps(documents, default=str),
        "Prefect logs and artifacts": prefect_records(),
    }
    assert "DEBUG" in outputs["live flow"], "the run was meant to log at DEBUG level"
    assert "app:***@" in outputs["live flow"] and "postgres:***@" in outputs["live flow"], "URLs are shown masked"
    for where, text in outputs.items():
        for secret in SECRETS:
            assert not shown_pieces(secret, text), f"a piece of a secret appears in the {where}"
