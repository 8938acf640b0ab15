"""``python -m web``: serve the box-score page on 127.0.0.1 (``WEB_HOST``, ``WEB_PORT``)."""

from __future__ import annotations

import uvicorn

from tasks.settings import Settings
from web.app import create_app
from web.store import Store


def main() -> None:
    settings = Settings.from_env()
    store = Store(settings.mongo_url, settings.mongo_db, settings.mongo_collection)
    print(f"the box-score page: http://{settings.web_host}:{settings.web_port}/", flush=True)
    uvicorn.run(create_app(store), host=settings.web_host, port=int(settings.web_port), log_level="warning")


if __name__ == "__main__":
    main()
