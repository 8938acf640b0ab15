"""``python -m web [--host H] [--port P] [--workers N]``: serve the box-score page and its API.

The address is ``--host``/``--port``, else the settings ``WEB_HOST``/``WEB_PORT``.

With ``--workers`` above 1, uvicorn runs that many processes on the one port; each keeps its own
copy of each game's box score, so a game costs one MongoDB read per refresh interval per worker.
"""

from __future__ import annotations

import argparse

import uvicorn
from fastapi import FastAPI

from tasks.settings import Settings
from web.app import create_app
from web.store import page_store, season_store


def app_from_settings() -> FastAPI:
    """The app as the settings describe it (uvicorn calls this in each worker process)."""
    settings = Settings.from_env()
    store = page_store(settings.mongo_url, settings.mongo_db, settings.mongo_collection)
    return create_app(
        store,
        float(settings.web_refresh_seconds),
        float(settings.web_stale_seconds),
        settings.web_metrics_address,
        season_store(settings.mongo_url, settings.mongo_db, settings.season_id),
    )


DESCRIPTION = "Serve the box-score page and its JSON API, reading box scores from MongoDB."


def parser() -> argparse.ArgumentParser:
    """The options uvicorn and other web servers take, over ``WEB_HOST`` and ``WEB_PORT``."""
    options = argparse.ArgumentParser(prog="python -m web", description=DESCRIPTION)
    options.add_argument("--host", help="the address to listen on (default: WEB_HOST, 127.0.0.1)")
    options.add_argument("--port", type=int, help="the port to listen on (default: WEB_PORT, 8080)")
    options.add_argument(
        "--workers",
        type=int,
        default=1,
        help="uvicorn worker processes on the one port, each with its own copy of each box score (default: 1)",
    )
    return options


def main() -> None:
    args = parser().parse_args()
    settings = Settings.from_env()
    host, port = args.host or settings.web_host, args.port or int(settings.web_port)
    print(f"the box-score page: http://{host}:{port}/", flush=True)
    uvicorn.run(
        "web.__main__:app_from_settings",
        factory=True,
        host=host,
        port=port,
        workers=args.workers,
        log_level="warning",
        proxy_headers=True,
    )


if __name__ == "__main__":
    main()
