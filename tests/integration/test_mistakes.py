"""A user's mistakes, typed as a user types them, answered in one line that names what to change.

Each row runs ``python -m flows.live_boxscore`` against the session's real servers with one
mistake, and reads its exit code (docs/operations.md, "Exit codes") and its last line of
standard error: the setting or option to correct is named there, and no traceback is printed
anywhere at the default log level. The rows start together (most of each is a wait: tries 1, 2
and 4 s apart, a stream that never comes) and each test reads its own row.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from devstack.servers import SeaweedS3, SecantusMongo, free_ports, offline_prefect_env
from flows.gamestream import RECORDED_GAME, SEED_DIR
from tasks.reference import read_seed, seed_reference
from tasks.stream import write_stream
from tests.helpers import ROOT

PROG = "python -m flows.live_boxscore: "


@dataclass(frozen=True)
class Row:
    """One mistake: the settings and options as typed, the exit code and the last line expected."""

    settings: dict[str, str]
    options: tuple[str, ...]
    code: int
    last: str  # the last line of standard error, after PROG; {s3}, {stream}, {bucket} filled in
    exact: bool = True  # False: the last line starts with ``last`` (the driver's reason follows)


ROWS = {
    "wrong S3_ENDPOINT_URL": Row(
        {"S3_ENDPOINT_URL": "http://127.0.0.1:{closed}"},
        (),
        3,
        'S3 at http://127.0.0.1:{closed} is unreachable: Could not connect to the endpoint URL: "http://127.0.0.1:{closed}/',
        exact=False,
    ),
    "wrong MONGO_URL": Row(  # its password masked; the URL's own server selection (0.3 s) is the client's
        {"MONGO_URL": "mongodb://app:mongo-secret@127.0.0.1:{closed}/?serverSelectionTimeoutMS=300"},
        (),
        3,
        "MongoDB at mongodb://app:***@127.0.0.1:{closed}/?serverSelectionTimeoutMS=300 is unreachable: "
        "127.0.0.1:{closed}: [Errno 111] Connection refused (check MONGO_URL)",
    ),
    "--home-team 999": Row(
        {},
        ("--home-team", "999"),
        2,
        "--home-team 999: not in the teams table (SQL database at {sql}); give a team id it holds",
    ),
    "wrong S3 secret key": Row(
        {"S3_SECRET_KEY": "not-the-secret-key"},
        (),
        2,
        "S3 at {s3} refused the credentials (SignatureDoesNotMatch): correct S3_ACCESS_KEY and S3_SECRET_KEY",
    ),
    "GAMESTREAM_URL empty": Row(
        {"GAMESTREAM_URL": ""},
        (),
        2,
        "GAMESTREAM_URL is empty: set it to a stream object (s3://gamestreams/gamestream.txt) or a prefix of "
        "games ending in / (s3://gamestreams/saturday/)",
    ),
    "a stream that never appears": Row(
        {"GAMESTREAM_URL": "{bucket}/never/gamestream.txt"},
        ("--wait-for-stream", "2"),
        4,
        "nothing could be followed within 2 s: {bucket}/never/gamestream.txt did not appear: check GAMESTREAM_URL, "
        "or start the feed; --wait-for-stream waits longer",
    ),
    "a bad first line": Row(
        {"GAMESTREAM_URL": "{bucket}/bad-first-line/gamestream.txt"},
        ("--stall-timeout", "3"),
        4,
        "{bucket}/bad-first-line/gamestream.txt has not changed for 3 s; no box score was written: the first line "
        "of {bucket}/bad-first-line/gamestream.txt is not an event ('hello feed'): correct the feed; "
        "--stall-timeout waits longer",
    ),
    "a bucket that does not exist": Row(
        {"GAMESTREAM_URL": "s3://nosuchbucket/game.txt"},
        (),
        2,
        "the bucket 'nosuchbucket' of GAMESTREAM_URL=s3://nosuchbucket/game.txt does not exist at {s3}: "
        "create it (the simulator does), or correct GAMESTREAM_URL",
    ),
}


@dataclass(frozen=True)
class Typed:
    """What a row's run printed, how it exited, how long it took, and the values its text names."""

    done: subprocess.CompletedProcess[str]
    seconds: float
    names: dict[str, str]


@pytest.fixture(scope="module")
def typed(
    s3: SeaweedS3, mongo: SecantusMongo, prefect_api: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Typed]]:
    """Every row's run, started together against the session's servers (seeded tables, a stream
    of the recorded game and one whose first line is not an event)."""
    from prefect.settings import PREFECT_API_URL

    home = tmp_path_factory.mktemp("mistakes")
    bucket = f"s3://{s3.bucket}/mistakes"
    names = {"s3": s3.endpoint_url, "bucket": bucket, "closed": str(free_ports(1)[0]), "sql": ""}
    sql = f"sqlite:///{home / 'sidearmdb.sqlite'}"
    names["sql"] = sql
    seed_reference.fn(sql, *read_seed(SEED_DIR))
    write_stream(f"{bucket}/gamestream.txt", RECORDED_GAME.read_text(), s3.storage_options)
    write_stream(f"{bucket}/bad-first-line/gamestream.txt", "hello feed\n0 59:00 101 6 1\n", s3.storage_options)
    base = {
        "GAMESTREAM_URL": f"{bucket}/gamestream.txt",
        "S3_ENDPOINT_URL": s3.endpoint_url,
        "SEAWEEDFS_FILER": s3.filer_address,
        "S3_ACCESS_KEY": s3.access_key,
        "S3_SECRET_KEY": s3.secret_key,
        "MONGO_URL": mongo.url,
        "MONGO_DB": "sidearm_mistakes",
        "SQL_URL": sql,
        "PYTHONPATH": str(ROOT),
        "SIDEARM_ENV_FILE": "",
    }
    running = {}
    for name, row in ROWS.items():
        workdir = home / name.replace(" ", "-")
        workdir.mkdir()
        env = offline_prefect_env(workdir / "prefect", str(PREFECT_API_URL.value()))
        env.update(base)
        env.update({key: value.format(**names) for key, value in row.settings.items()})
        process = subprocess.Popen(
            [sys.executable, "-m", "flows.live_boxscore", *row.options],
            cwd=workdir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        running[name] = (process, time.monotonic())
    results = {}
    for name, (process, started) in running.items():
        out, err = process.communicate(timeout=240)
        seconds = time.monotonic() - started
        results[name] = Typed(subprocess.CompletedProcess(process.args, process.returncode, out, err), seconds, names)
    yield results


@pytest.mark.parametrize("name", list(ROWS))
def test_each_mistake_is_one_line_naming_what_to_change_with_its_exit_code(name: str, typed: dict[str, Typed]) -> None:
    row, run = ROWS[name], typed[name]
    done = run.done
    last = done.stderr.strip().splitlines()[-1]
    expected = PROG + row.last.format(**run.names)
    assert done.returncode == row.code, (done.returncode, done.stderr[-3000:])
    assert last == expected if row.exact else last.startswith(expected), last
    assert "Traceback" not in done.stdout + done.stderr, done.stderr[-3000:]
    for secret in ("not-the-secret-key", "mongo-secret"):
        assert secret not in done.stdout + done.stderr
    assert run.seconds < 120, "the default wait_for_stream is 300 s: no mistake may wait it out"


def test_a_service_that_does_not_answer_names_its_setting_last(typed: dict[str, Typed]) -> None:
    for name, setting in (("wrong S3_ENDPOINT_URL", "S3_ENDPOINT_URL"), ("wrong MONGO_URL", "MONGO_URL")):
        last = typed[name].done.stderr.strip().splitlines()[-1]
        assert last.endswith(f" (check {setting})"), last
        tries = [line for line in typed[name].done.stderr.splitlines() if "trying again in" in line]
        assert [line.rsplit("; ", 1)[1] for line in tries] == [f"trying again in {s} s" for s in (1, 2, 4)], tries


def test_the_refusal_is_the_run_s_state_in_prefect(typed: dict[str, Typed]) -> None:
    """Where the flow ran (all but the S3 rows, refused before Prefect starts), its state says the same line."""
    done = typed["--home-team 999"].done
    assert "Finished in state Failed('--home-team 999: not in the teams table" in done.stdout + done.stderr
