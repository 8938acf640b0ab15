"""``python -m web [--workers N]``: serve the box-score page and its API (``WEB_HOST``, ``WEB_PORT``).

With ``--workers`` above 1, uvicorn runs that many processes on the one port; each keeps its own
copy of each game's box score, so a game costs one MongoDB read per refresh interval per worker.
"""

from __future__ import annotations

import argparse

import uvicorn
from fastapi import FastAPI

from tasks.settings import Settings
from web.app import create_app
from web.store import page_store


def app_from_settings() -> FastAPI:
    """The app as the settings describe it (uvicorn calls this in each worker process)."""
    settings = Settings.from_env()
    store = page_store(settings.mongo_url, settings.mongo_db, settings.mongo_collection)
    return create_app(store, float(settings.web_refresh_seconds), float(settings.web_stale_seconds))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m web", description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default: 1)")
    args = parser.parse_args()
    settings = Settings.from_env()
    print(f"the box-score page: http://{settings.web_host}:{settings.web_port}/", flush=True)
    uvicorn.run(
        "web.__main__:app_from_settings",
        factory=True,
        host=settings.web_host,
        port=int(settings.web_port),
        workers=args.workers,
        log_level="warning",
        proxy_headers=True,
    )


if __name__ == "__main__":
    main()
