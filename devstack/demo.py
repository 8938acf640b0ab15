"""The whole product on one machine: ``make demo``.

Starts SeaweedFS and SecantusDB (or FerretDB: ``make demo MONGO_SERVER=ferretdb``, built first
where it is not) on loopback, uses a SQLite reference database, serves the
box-score page (its URL is printed first), replays the recorded game fast while the live flow
follows it, finalizes, prints the final box score and teams2/players2, keeps the page up for
``PAGE_AFTER_GAME`` seconds (or until Ctrl-C), and stops what it started. Everything lives
under ``var/demo``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import time
from pathlib import Path

from devstack.servers import (
    BoxScorePage,
    FerretMongo,
    SeaweedS3,
    SecantusMongo,
    free_ports,
    local_pipeline_env,
    running,
)

ROOT = Path(__file__).resolve().parents[1]
WORKDIR = ROOT / "var" / "demo"
REPLAY_DELAY = 0.01  # real seconds per game second: the 60-minute game in 36 s
PAGE_AFTER_GAME = 60.0  # seconds the page stays up after the game (Ctrl-C ends it sooner)
PAGE_PORT = 8080  # the page's port when it is free (compose uses the same)
#: the MongoDB servers the demo can run the box scores on (``make demo MONGO_SERVER=...``)
MONGO_SERVERS = {"secantusdb": SecantusMongo, "ferretdb": FerretMongo}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--mongo-server", choices=list(MONGO_SERVERS), default="secantusdb")
    kind = parser.parse_args(argv).mongo_server
    shutil.rmtree(WORKDIR, ignore_errors=True)
    WORKDIR.mkdir(parents=True)
    os.environ.setdefault("PREFECT_HOME", str(WORKDIR / "prefect"))
    os.environ["SIDEARM_ENV_FILE"] = ""  # the demo's own servers: no settings file of the checkout
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    # Show the game (flow logs), not a line per finished task run.
    os.environ.setdefault("PREFECT_LOGGING_LOGGERS_PREFECT_TASK_RUNS_LEVEL", "WARNING")
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")
    started = time.monotonic()
    mongo_server = MONGO_SERVERS[kind](WORKDIR / kind)
    print(f"starting SeaweedFS (S3) and {mongo_server.name} (MongoDB) on 127.0.0.1 ...", flush=True)
    with running(SeaweedS3(WORKDIR / "seaweedfs"), mongo_server) as (s3, mongo):
        os.environ.update(local_pipeline_env(s3, mongo, WORKDIR / "sidearmdb.sqlite"))
        port = PAGE_PORT if _free(PAGE_PORT) else free_ports(1)[0]
        with running(BoxScorePage(WORKDIR / "page", mongo_url=mongo.url, port=port)) as (page,):
            print(f"the box-score page, live while the game plays: {page.url}/", flush=True)
            # Imported here so Prefect picks up the environment above.
            from boxscore.report import boxscore_table, rows_table
            from devstack.follow import start_polling
            from flows.gamestream import gamestream
            from flows.live_boxscore import live_boxscore
            from tasks.reference import read_season_tables
            from tasks.settings import Settings

            live = start_polling(lambda: live_boxscore(poll_interval=0.2, wait_for_stream=120, settle_seconds=2.0))
            gamestream(delay=REPLAY_DELAY)
            final = live.result(timeout=600)
            teams2, players2 = read_season_tables(Settings.from_env().sql_url)

            print("\n==== final box score (MongoDB sidearm.boxscores, latest document) ====")
            print(boxscore_table(final))
            print("\n==== teams2 (records after the game) ====")
            print(rows_table(teams2))
            print("\n==== players2 (season totals after the game) ====")
            print(rows_table(players2))
            print(f"\nthe pages stay up for {PAGE_AFTER_GAME:.0f} s (Ctrl-C ends it now):")
            for what, path in PAGES:
                print(f"  {what:<12} {page.url}{path}")
            print(end="", flush=True)
            try:
                time.sleep(PAGE_AFTER_GAME)  # serving the page, not waiting for anything
            except KeyboardInterrupt:
                pass
        print("\nstopping the local servers ...", flush=True)
    print(f"demo finished in {time.monotonic() - started:.0f} s")


#: the pages the demo ends with: the box score's, then the season's (README, "The pages")
PAGES = [
    ("box score", "/"),
    ("schedule", "/season"),
    ("standings", "/standings"),
    ("leaders", "/leaders"),
    ("season JSON", "/api/season"),
]


def _free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


if __name__ == "__main__":
    main()
