"""Settings: names, defaults, precedence, and that secrets stay out of repr and logs."""

from pathlib import Path

import pytest

from boxscore.masking import redact_url
from tasks.obstore_s3 import obstore_config
from tasks.settings import Settings
from tasks.stream import s3fs_options


def test_defaults(tmp_path: Path) -> None:
    settings = Settings.from_env({}, env_file=tmp_path / "missing.env")
    assert settings.gamestream_url == "s3://gamestreams/gamestream.txt"
    assert settings.mongo_url == "mongodb://127.0.0.1:27017"
    assert (settings.mongo_db, settings.mongo_collection) == ("sidearm", "boxscores")
    assert settings.sql_url.startswith("sqlite:///")
    assert settings.dask_address == ""
    assert settings.storage_options == {}


def test_environment_wins_over_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("MONGO_DB=from_file\nS3_ACCESS_KEY=file-key\nUNRELATED=1\n")
    settings = Settings.from_env({"MONGO_DB": "from_env", "S3_ENDPOINT_URL": "http://127.0.0.1:1"}, env_file=env_file)
    assert settings.mongo_db == "from_env"
    assert settings.storage_options == {
        "key": "file-key",
        "secret": "",
        "client_kwargs": {"endpoint_url": "http://127.0.0.1:1"},
    }


def test_secrets_never_in_repr_or_description(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "S3_SECRET_KEY": "s3-hunter2",
            "MONGO_URL": "mongodb://app:mongo-hunter2@db:27017",
            "SQL_URL": "mssql+pyodbc://sa:sql-hunter2@mssql:1433/sidearmdb?driver=ODBC",
        },
        env_file=tmp_path / "none",
    )
    shown = repr(settings) + settings.describe()
    for secret in ("s3-hunter2", "mongo-hunter2", "sql-hunter2"):
        assert secret not in shown
    assert "mongodb://app:***@db:27017" in settings.describe()


def test_redact_url() -> None:
    assert redact_url("postgresql+psycopg://u:p%40ss@h:5432/db") == "postgresql+psycopg://u:***@h:5432/db"
    assert redact_url("sqlite:///sidearmdb.sqlite") == "sqlite:///sidearmdb.sqlite"
    assert redact_url("mongodb://127.0.0.1:27017") == "mongodb://127.0.0.1:27017"


def test_error_reason_keeps_the_first_line_and_masks_passwords() -> None:
    from boxscore.masking import error_reason

    error = ConnectionError("cannot reach postgresql://app:s3cret@db:5432/x\ntraceback detail")
    assert error_reason(error) == "cannot reach postgresql://app:***@db:5432/x"
    assert error_reason(ConnectionError()) == ""
    assert len(error_reason(ValueError("x" * 1000))) == 300
    words = "servers: [<ServerDescription ('127.0.0.1', 1) server_type: Unknown, rtt: None>] " * 10
    shortened = error_reason(ValueError(words))
    assert len(shortened) <= 300 and shortened.endswith(" ...")
    assert shortened.removesuffix(" ...") == words[: len(shortened) - 4], "a prefix of the message"
    assert words[len(shortened) - 4] == " ", "cut at a word's end, not inside server_type"


def test_game_id_unset_derives_empty_is_an_error_and_the_parameter_wins(tmp_path: Path) -> None:
    import pytest

    from boxscore.identity import BadGameId

    none = tmp_path / "none"
    assert Settings.from_env({}, env_file=none).chosen_game_id() is None
    assert Settings.from_env({"GAME_ID": "opener"}, env_file=none).chosen_game_id() == "opener"
    assert Settings.from_env({"GAME_ID": "opener"}, env_file=none).chosen_game_id("second") == "second"
    with pytest.raises(BadGameId, match="GAME_ID is set but empty"):
        Settings.from_env({"GAME_ID": " "}, env_file=none).chosen_game_id()


def test_the_s3_reader_is_s3fs_unless_obstore_is_named_and_travels_in_the_options(tmp_path: Path) -> None:
    missing = tmp_path / "missing.env"
    assert Settings.from_env({}, env_file=missing).s3_reader == "s3fs"
    assert "s3_reader" not in Settings.from_env({"S3_ACCESS_KEY": "k"}, env_file=missing).storage_options
    chosen = Settings.from_env({"S3_READER": "obstore", "S3_ENDPOINT_URL": "http://127.0.0.1:1"}, env_file=missing)
    assert chosen.storage_options == {"client_kwargs": {"endpoint_url": "http://127.0.0.1:1"}, "s3_reader": "obstore"}
    assert "reader=obstore" in chosen.describe()
    with pytest.raises(ValueError, match="S3_READER is 'boto3': it must be one of s3fs, obstore"):
        Settings.from_env({"S3_READER": "boto3"}, env_file=missing)


def test_obstore_is_configured_from_the_same_options_as_s3fs() -> None:
    minio = {"key": "k", "secret": "s", "client_kwargs": {"endpoint_url": "http://minio:9000"}, "s3_reader": "obstore"}
    assert obstore_config(s3fs_options(minio)) == {
        "access_key_id": "k",
        "secret_access_key": "s",
        "endpoint": "http://minio:9000",
        "virtual_hosted_style_request": False,
    }
    assert obstore_config({}) == {}  # AWS, credentials and region from obstore's environment
    assert s3fs_options(minio) == {"key": "k", "secret": "s", "client_kwargs": {"endpoint_url": "http://minio:9000"}}


def test_the_settings_summary_shows_the_mongo_url_and_the_collection_apart() -> None:
    settings = Settings.from_env(
        {"MONGO_URL": "mongodb://db:27017/?authSource=admin", "MONGO_DB": "sidearm"}, env_file=""
    )
    described = settings.describe().split()
    assert "mongo=mongodb://db:27017/?authSource=admin" in described
    assert "boxscores=sidearm.boxscores" in described
