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


@pytest.mark.parametrize(
    ("environment", "reads_ahead"),
    [
        ({}, True),  # the local threads cluster: the reads are the flow's process anyway
        ({"S3_READER": "obstore"}, True),
        ({"DASK_ADDRESS": "tcp://10.0.0.5:8786", "S3_READER": "obstore"}, True),
        ({"DASK_ADDRESS": "tcp://10.0.0.5:8786"}, False),  # s3fs on a cluster: its workers read
    ],
)
def test_a_heard_game_is_read_ahead_except_through_s3fs_on_a_cluster_of_its_own(
    tmp_path: Path, environment: dict[str, str], reads_ahead: bool
) -> None:
    assert Settings.from_env(environment, env_file=tmp_path / "missing.env").reads_ahead is reads_ahead


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


def test_one_setting_is_read_from_the_environment_then_the_settings_file_then_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tasks.settings import setting, settings_file

    monkeypatch.delenv("SIDEARM_ENV_FILE", raising=False)
    monkeypatch.delenv("WEB_PORT", raising=False)
    monkeypatch.delenv("MONGO_DB", raising=False)
    assert settings_file() == "sidearm.env" and settings_file({}) == "sidearm.env"
    assert settings_file({"SIDEARM_ENV_FILE": ""}) == ""
    file = tmp_path / "host.env"
    file.write_text("WEB_PORT=9090\nMONGO_DB=\n")
    assert setting("WEB_PORT", file) == "9090"
    assert setting("MONGO_DB", file) == "sidearm"  # empty in the file: the default
    assert setting("WEB_PORT", tmp_path / "missing.env") == "8080"
    assert setting("WEB_PORT", "") == "8080"  # no file
    monkeypatch.setenv("SIDEARM_ENV_FILE", str(file))
    assert settings_file() == str(file) and setting("WEB_PORT") == "9090"  # the file SIDEARM_ENV_FILE names
    monkeypatch.setenv("WEB_PORT", "7070")
    assert setting("WEB_PORT", file) == "7070"


def test_the_settings_file_names_blocks_for_secrets_only_and_a_directory_is_no_file(tmp_path: Path) -> None:
    file = tmp_path / "sidearm.env"
    file.write_text("MONGO_URL_BLOCK\nUNRELATED=1\nMONGO_DB=league\n")  # a key without a value is None
    assert Settings.from_env({}, env_file=file).mongo_db == "league"
    assert Settings.from_env({"SIDEARM_ENV_FILE": str(file)}).mongo_db == "league"
    assert Settings.from_env({}, env_file=tmp_path).mongo_db == "sidearm"  # a directory: no file


def test_the_description_names_aws_and_the_local_cluster_when_neither_is_set(tmp_path: Path) -> None:
    plain = Settings.from_env({}, env_file="").describe()
    assert " s3=aws " in plain and plain.endswith(" dask=local threads cluster")
    assert plain.startswith(
        "stream=s3://gamestreams/gamestream.txt s3=aws reader=s3fs mongo=mongodb://127.0.0.1:27017 "
    )
    assert " boxscores=sidearm.boxscores sql=sqlite:///sidearmdb.sqlite " in plain
    set_ = Settings.from_env({"S3_ENDPOINT_URL": "http://s3:8333", "DASK_ADDRESS": "tcp://d:8786"}, env_file="")
    assert " s3=http://s3:8333 " in set_.describe() and set_.describe().endswith(" dask=tcp://d:8786")


def test_an_empty_game_id_is_refused_saying_how_to_derive_it() -> None:
    from boxscore.identity import BadGameId

    with pytest.raises(
        BadGameId, match=r"^GAME_ID is set but empty: unset it to derive the game id from the stream, or give an id$"
    ):
        Settings.from_env({"GAME_ID": " "}, env_file="").chosen_game_id()


def test_a_secret_block_named_in_the_settings_file_is_loaded_unless_the_environment_sets_the_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocks = {"sidearm-s3": "from-the-block"}
    monkeypatch.setattr("tasks.settings._secret_block", blocks.__getitem__)  # the Prefect API's part
    file = tmp_path / "sidearm.env"
    file.write_text("S3_SECRET_KEY_BLOCK=sidearm-s3\nMONGO_DB\nOTHER_BLOCK=x\n")
    settings = Settings.from_env({}, env_file=file)
    assert settings.s3_secret_key == "from-the-block"
    assert settings.mongo_db == "sidearm"  # a key without a value leaves the default
    assert Settings.from_env({"S3_SECRET_KEY": "env"}, env_file=file).s3_secret_key == "env"


def test_the_process_environment_is_read_by_default_and_game_id_and_blocks_come_from_either_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tasks.settings._secret_block", {"sidearm-s3": "from-the-block"}.__getitem__)
    file = tmp_path / "sidearm.env"
    file.write_text("GAME_ID=g0007\n")
    monkeypatch.setenv("SIDEARM_ENV_FILE", str(file))
    monkeypatch.setenv("MONGO_DB", "from-the-process")
    monkeypatch.setenv("S3_SECRET_KEY_BLOCK", "sidearm-s3")
    monkeypatch.delenv("S3_SECRET_KEY", raising=False)
    monkeypatch.delenv("GAME_ID", raising=False)
    settings = Settings.from_env()
    assert (settings.mongo_db, settings.game_id, settings.s3_secret_key) == (
        "from-the-process",
        "g0007",
        "from-the-block",
    )


def test_compose_s_env_file_is_never_read_as_the_host_s_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("MONGO_DB=compose\n")
    monkeypatch.chdir(tmp_path)
    assert Settings.from_env({}, env_file="").mongo_db == "sidearm"
    assert Settings.from_env({}).mongo_db == "sidearm"  # sidearm.env, absent here; never .env
